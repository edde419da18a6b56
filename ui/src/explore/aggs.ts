/**
 * Which aggregations a metric offers, which one it starts with, and what unit the answer is in. The list per
 * kind is the API's (query/sql/metrics/catalogue.ts `allowedAggs`, with `quantile` spelled as its percentile
 * shorthands; aggs.test.ts checks the two agree), so the explorer never offers something the API refuses. The
 * defaults are what a user almost always wants first: a rate for counters, p95 for latency histograms, the
 * average for gauges.
 */
import type { MetricInfo, MetricType } from '../../../query/contract.ts';
import type { Agg } from './query.ts';

/** What decides the aggregations: the catalogue entry's type, temporality and monotonicity. */
export type MetricKind = Pick<MetricInfo, 'type' | 'temporality' | 'monotonic'>;

const PERCENTILES: readonly Agg[] = ['p50', 'p90', 'p95', 'p99'];
const GAUGE: readonly Agg[] = ['avg', 'min', 'max', 'sum', 'last', 'count'];

/** The aggregations of a kind, in the order the picker lists them. */
export function aggsFor(k: MetricKind): readonly Agg[] {
  switch (k.type) {
    case 'gauge':
      return GAUGE;
    case 'sum':
      if (k.temporality === 'delta') return ['rate', 'increase'];
      return k.monotonic ? ['rate', 'increase', ...GAUGE] : [...GAUGE, 'rate', 'increase'];
    case 'histogram':
    case 'exponential_histogram':
    case 'summary':
      return [...PERCENTILES, 'avg', 'count', 'sum', 'rate'];
  }
}

/** The aggregation a newly picked metric starts with. */
export function defaultAgg(k: MetricKind): Agg {
  switch (k.type) {
    case 'gauge':
      return 'avg';
    case 'sum':
      // An up-down counter (queue length, connections open) is read as a level, like a gauge.
      return k.temporality === 'delta' || k.monotonic ? 'rate' : 'avg';
    case 'histogram':
    case 'exponential_histogram':
      return 'p95';
    case 'summary':
      // A summary carries only the quantiles its application computed; the mean is always there.
      return 'avg';
  }
}

/** The aggregation a query runs with: its own when the kind allows it, otherwise the kind's default. */
export function effectiveAgg(k: MetricKind, agg: Agg | undefined): Agg {
  return agg !== undefined && aggsFor(k).includes(agg) ? agg : defaultAgg(k);
}

export const AGG_LABEL: Record<Agg, string> = {
  avg: 'avg',
  min: 'min',
  max: 'max',
  sum: 'sum',
  last: 'last',
  count: 'count',
  rate: 'rate /s',
  increase: 'increase',
  p50: 'p50',
  p90: 'p90',
  p95: 'p95',
  p99: 'p99',
};

/** What an aggregation means, for its tooltip. */
export function describeAgg(type: MetricType, agg: Agg): string {
  const hist = type === 'histogram' || type === 'exponential_histogram' || type === 'summary';
  switch (agg) {
    case 'rate':
      return hist ? 'observations per second' : 'increase per second, counter resets handled';
    case 'increase':
      return 'increase per step, counter resets handled';
    case 'count':
      return hist ? 'observations per step' : 'data points per step';
    case 'sum':
      return hist ? 'sum of the observed values per step' : "sum of each series' latest value";
    case 'avg':
      return hist ? 'mean observed value (sum / count)' : 'average per step';
    case 'last':
      return 'latest value per step';
    case 'min':
    case 'max':
      return `${agg}imum per step`;
    default:
      return type === 'summary' ? `the ${agg} the application computed (empty when it computes no such quantile)` : `${agg.slice(1)}th percentile, from the bucket counts`;
  }
}

/**
 * The unit of a query's answer, from the metric's (UCUM, as OpenTelemetry writes it): a rate is that unit per
 * second, a histogram's rate and count are observations, a gauge's count is data points, anything else keeps the
 * metric's unit.
 */
export function resultUnit(k: MetricKind, agg: Agg, unit: string): string {
  const hist = k.type === 'histogram' || k.type === 'exponential_histogram' || k.type === 'summary';
  if (agg === 'count') return hist ? '{observation}' : '{point}';
  if (agg === 'rate') return hist ? '{observation}/s' : `${unit === '' || unit === '1' ? '' : unit}/s`;
  return unit;
}
