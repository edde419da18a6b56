/**
 * GET /api/v1/metrics: the metric catalogue (names, types, units, label keys).
 * GET /api/v1/metrics/query: series of one metric over a range, bucketed by step and aggregated.
 * GET /api/v1/metrics/points: the stored data points of one metric, every field as exported.
 */
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import { parseGroupBy, parseLabelFilters } from '../params/filters.ts';
import { type TimeRange, NS_PER_MS, resolveRange, resolveStepMs } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { errorResponses, limitParam, repeatable, timeRangeParams } from '../schemas.ts';
import {
  type Agg,
  type MetricKind,
  type MetricQuery,
  type MetricType,
  METRIC_TYPES,
  allowedAggs,
  lookbackMs,
  metricKindSql,
  metricListSql,
  metricPointsSql,
  metricSeriesSql,
} from '../sql/metrics.ts';

export interface MetricRouteOptions {
  store: Store;
}

export interface MetricListParams {
  start?: string;
  end?: string;
  search?: string;
  service?: string;
  limit: number;
}

export interface MetricPointsParams {
  name: string;
  type?: MetricType;
  start?: string;
  end?: string;
  filter?: string[];
  limit: number;
}

export type AggParam = Agg | 'p50' | 'p90' | 'p95' | 'p99';

export interface MetricQueryParams {
  name: string;
  type?: MetricType;
  start?: string;
  end?: string;
  step?: string;
  agg?: AggParam;
  q?: number;
  filter?: string[];
  groupBy?: string[];
  limit: number;
}

const AGGS: readonly AggParam[] = ['avg', 'min', 'max', 'sum', 'last', 'count', 'rate', 'increase', 'quantile', 'p50', 'p90', 'p95', 'p99'];
const PERCENTILES: Partial<Record<AggParam, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };
/** Points a series aims for when no step is given. */
const TARGET_POINTS = 300;

/** The step, range and time window of a series query, before the metric's kind is known. */
export interface MetricWindow {
  range: TimeRange;
  stepMs: number;
  /** The range widened by the counter look-back, for finding the metric's kind. */
  kindRange: TimeRange;
}

export function toMetricWindow(q: Pick<MetricQueryParams, 'start' | 'end' | 'step'>, nowMs: number): MetricWindow {
  const range = resolveRange(q, nowMs);
  const stepMs = resolveStepMs('step', q.step, range, TARGET_POINTS, 1000);
  return { range, stepMs, kindRange: { startNs: range.startNs - BigInt(lookbackMs(stepMs) + stepMs) * NS_PER_MS, endNs: range.endNs } };
}

export interface KindRow {
  type: MetricType;
  temporality: number;
  monotonic: boolean;
}

/** Picks the metric's kind from the detected ones (the `type` parameter settles a name used by several types). */
export function pickKind(name: string, kinds: readonly KindRow[], type: MetricType | undefined): MetricKind | undefined {
  const candidates = type === undefined ? kinds : kinds.filter((k) => k.type === type);
  if (candidates.length > 1) {
    const types = [...new Set(candidates.map((k) => k.type))];
    if (types.length > 1) throw new AppError('BAD_REQUEST', `querystring/type is needed: metric "${name}" exists as ${types.join(' and ')}`);
  }
  const k = candidates[0];
  return k && { type: k.type, temporality: Number(k.temporality), monotonic: k.monotonic === true || (k.monotonic as unknown) === 1 };
}

/** The series query for a metric of a known kind; 400 when the aggregation does not apply to it. */
export function toMetricQuery(q: MetricQueryParams, w: MetricWindow, kind: MetricKind): MetricQuery {
  const allowed = allowedAggs(kind);
  const requested = q.agg ?? allowed[0]!;
  const pq = PERCENTILES[requested];
  const agg: Agg = pq === undefined ? (requested as Agg) : 'quantile';
  if (!allowed.includes(agg)) {
    const names = allowed.flatMap((a) => (a === 'quantile' ? ['p50', 'p90', 'p95', 'p99', 'quantile'] : [a]));
    throw new AppError('BAD_REQUEST', `querystring/agg "${requested}" does not apply to ${describe(kind)} "${q.name}"; use one of ${names.join(', ')}`);
  }
  if (agg === 'quantile' && pq === undefined && q.q === undefined) throw new AppError('BAD_REQUEST', 'querystring/q is required with agg=quantile');
  return {
    name: q.name,
    kind,
    range: w.range,
    stepMs: w.stepMs,
    agg,
    q: pq ?? q.q,
    filters: parseLabelFilters('filter', q.filter),
    groupBy: parseGroupBy(q.groupBy),
    limit: q.limit,
  };
}

function describe(k: MetricKind): string {
  if (k.type !== 'sum') return `a ${k.type} metric`;
  return `a ${k.temporality === 1 ? 'delta' : 'cumulative'} ${k.monotonic ? 'monotonic' : 'non-monotonic'} sum`;
}

const metricInfo = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: [...METRIC_TYPES] },
    unit: { type: 'string' },
    description: { type: 'string' },
    temporality: { type: 'string', enum: ['delta', 'cumulative', 'unspecified'] },
    monotonic: { type: 'boolean' },
    labels: { type: 'array', items: { type: 'string' }, description: 'Label keys: ServiceName and the data point attribute keys.' },
  },
  required: ['name', 'type', 'unit', 'description', 'temporality', 'monotonic', 'labels'],
} as const;

const series = {
  type: 'object',
  properties: {
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    points: {
      type: 'array',
      description: '[epoch ms of the bucket start, value] pairs in time order; buckets without data are absent.',
      items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
    },
  },
  required: ['labels', 'points'],
} as const;

/** The first fields of an answer about one metric (its series, its points). */
const answeredMetric = {
  name: { type: 'string' },
  type: { type: ['string', 'null'], enum: [...METRIC_TYPES, null], description: 'null when the metric has no data in the range.' },
} as const;

/** The querystring of a route about one metric (its series, its points): the metric, a range, label filters, and `own`. */
function oneMetricQuerystring(own: Record<string, object>) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 1024, description: 'Metric name.' },
      type: { type: 'string', enum: [...METRIC_TYPES], description: 'Only needed when the name exists as more than one type.' },
      ...timeRangeParams,
      filter: repeatable('Label filter: key=value, key!=value, key=~regex, key!~regex (RE2, anchored). Keys: ServiceName or an attribute key.'),
      ...own,
    },
  } as const;
}

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const buckets = { type: 'object', properties: { offset: { type: 'integer' }, bucketCounts: { type: 'array', items: { type: 'string' } } } } as const;

/** One data point: the fields every type has, then each type's own (see the route description). */
const point = {
  type: 'object',
  properties: {
    time: { type: 'string', description: 'TimeUnix, ns since the epoch.' },
    startTime: { type: 'string', description: 'StartTimeUnix, ns since the epoch.' },
    serviceName: { type: 'string' },
    attributes: stringMap,
    resourceAttributes: stringMap,
    resourceSchemaUrl: { type: 'string' },
    scopeName: { type: 'string' },
    scopeVersion: { type: 'string' },
    scopeAttributes: stringMap,
    scopeSchemaUrl: { type: 'string' },
    flags: { type: 'integer' },
    value: { type: 'number' },
    temporality: { type: 'string', enum: ['delta', 'cumulative', 'unspecified'] },
    monotonic: { type: 'boolean' },
    count: { type: 'string' },
    sum: { type: 'number' },
    min: { type: 'number' },
    max: { type: 'number' },
    bucketCounts: { type: 'array', items: { type: 'string' } },
    explicitBounds: { type: 'array', items: { type: 'number' } },
    scale: { type: 'integer' },
    zeroCount: { type: 'string' },
    positive: buckets,
    negative: buckets,
    quantiles: { type: 'array', items: { type: 'object', properties: { quantile: { type: 'number' }, value: { type: 'number' } } } },
    exemplars: {
      type: 'array',
      items: {
        type: 'object',
        properties: { time: { type: 'string' }, value: { type: 'number' }, traceId: { type: 'string' }, spanId: { type: 'string' }, filteredAttributes: stringMap },
      },
    },
  },
  required: ['time', 'startTime', 'serviceName', 'attributes', 'resourceAttributes', 'resourceSchemaUrl', 'scopeName', 'scopeVersion', 'scopeAttributes', 'scopeSchemaUrl', 'flags'],
} as const;

export const metricRoutes: FastifyPluginCallback<MetricRouteOptions> = (app, { store }, done) => {
  app.get<{ Querystring: MetricListParams }>(
    '/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Metrics with data points in the range: name, type, unit, description and label keys.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...timeRangeParams,
            search: { type: 'string', maxLength: 256, description: 'Case-insensitive substring of the metric name.' },
            service: { type: 'string', maxLength: 1024, description: 'Only metrics this service (ServiceName) reported in the range.' },
            limit: limitParam(5000, 1000, 'metrics'),
          },
        },
        response: {
          200: { type: 'object', properties: { metrics: { type: 'array', items: metricInfo } }, required: ['metrics'] },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const metrics = await runQuery<unknown>(store, metricListSql(store.database, { range: resolveRange(q, Date.now()), search: q.search, service: q.service, limit: q.limit }));
      return { metrics };
    },
  );

  app.get<{ Querystring: MetricQueryParams }>(
    '/metrics/query',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Series of one metric: label filters, step buckets and an aggregation.',
        description: [
          'Aggregations by metric type (the first is the default):',
          '- gauge: avg, min, max, sum (of each series\' latest value), last, count (points).',
          '- sum, cumulative monotonic: rate (per second, counter resets handled per series), increase, or the gauge aggregations on the raw value.',
          '- sum, delta: rate (sum per step / step seconds), increase (sum per step).',
          '- sum, cumulative non-monotonic: the gauge aggregations, or rate/increase of the net change.',
          '- histogram: quantile (p50, p90, p95, p99, or quantile with q), as Prometheus histogram_quantile from the bucket counts gained during the step, merged across series, linear interpolation within a bucket; avg (sum/count), count, sum, rate (observations per second).',
          '- exponential_histogram: avg, count, sum, rate, quantile (p50 … or q; buckets (base^i, base^(i+1)] with base 2^(2^-scale), the zero bucket at 0, then as histograms).',
          '- summary: quantile (the stored quantile values; p50 … or q), avg, count, sum, rate.',
          'Buckets are epoch-aligned, step wide; the range is widened to whole buckets.',
        ].join('\n'),
        querystring: oneMetricQuerystring({
          step: {
            type: 'string',
            maxLength: 32,
            description: `Bucket width: a duration (30s, 5m) or seconds; at least 1s and at most 11000 points. Default: about ${TARGET_POINTS} points.`,
          },
          agg: { type: 'string', enum: [...AGGS], description: 'Aggregation per step; see the description.' },
          q: { type: 'number', minimum: 0, maximum: 1, description: 'Quantile for agg=quantile (0.999).' },
          groupBy: {
            type: 'array',
            items: { type: 'string', maxLength: 4096 },
            maxItems: 20,
            description: 'Label keys of the output series (comma-separated or repeated). Absent: one series per label set. Empty (groupBy=): one series.',
          },
          limit: limitParam(1000, 100, 'series'),
        }),
        response: {
          200: {
            type: 'object',
            properties: {
              ...answeredMetric,
              agg: { type: ['string', 'null'] },
              stepMs: { type: 'integer' },
              series: { type: 'array', items: series },
              truncated: { type: 'boolean', description: 'More series matched than `limit`.' },
            },
            required: ['name', 'type', 'agg', 'stepMs', 'series', 'truncated'],
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const w = toMetricWindow(q, Date.now());
      const kind = pickKind(q.name, await runQuery<KindRow>(store, metricKindSql(store.database, q.name, w.kindRange)), q.type);
      if (kind === undefined) return { name: q.name, type: null, agg: q.agg ?? null, stepMs: w.stepMs, series: [], truncated: false };
      const m = toMetricQuery(q, w, kind);
      const rows = await runQuery<unknown>(store, metricSeriesSql(store.database, m));
      const truncated = trimToLimit(rows, m.limit);
      return { name: q.name, type: kind.type, agg: m.agg === 'quantile' ? `quantile(${m.q})` : m.agg, stepMs: w.stepMs, series: rows, truncated };
    },
  );

  app.get<{ Querystring: MetricPointsParams }>(
    '/metrics/points',
    {
      schema: {
        tags: ['metrics'],
        summary: 'The stored data points of one metric, newest first, every field as exported.',
        description: [
          'For reading what an application sent: bucket counts and bounds, exponential histogram buckets, summary',
          'quantiles, exemplars, flags, and start and point times. Times are nanoseconds since the epoch and 64-bit',
          'counts are decimal strings, both exact. Fields by type:',
          '- gauge: value, exemplars. sum: value, temporality, monotonic, exemplars.',
          '- histogram: count, sum, min, max, bucketCounts, explicitBounds, temporality, exemplars.',
          '- exponential_histogram: count, sum, min, max, scale, zeroCount, positive and negative {offset, bucketCounts}, temporality, exemplars.',
          '- summary: count, sum, quantiles [{quantile, value}].',
        ].join('\n'),
        querystring: oneMetricQuerystring({ limit: limitParam(10_000, 100, 'points') }),
        response: {
          200: {
            type: 'object',
            properties: {
              ...answeredMetric,
              points: { type: 'array', items: point },
              truncated: { type: 'boolean', description: 'More points matched than `limit`; the newest are returned.' },
            },
            required: ['name', 'type', 'points', 'truncated'],
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const range = resolveRange(q, Date.now());
      const kind = pickKind(q.name, await runQuery<KindRow>(store, metricKindSql(store.database, q.name, range)), q.type);
      if (kind === undefined) return { name: q.name, type: null, points: [], truncated: false };
      const points = await runQuery<unknown>(
        store,
        metricPointsSql(store.database, { name: q.name, type: kind.type, range, filters: parseLabelFilters('filter', q.filter), limit: q.limit }),
      );
      const truncated = trimToLimit(points, q.limit);
      return { name: q.name, type: kind.type, points, truncated };
    },
  );
  done();
};
