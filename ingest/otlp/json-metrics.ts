/** ExportMetricsServiceRequest (OTLP/JSON) → otel_metrics_* rows, the same rows as proto-metrics.ts. */
import { SIGNALS } from './descriptor.ts';
import { OtlpDecodeError, within } from './errors.ts';
import {
  attributes,
  bool,
  double,
  doubleValue,
  element,
  get,
  id,
  int32,
  int64,
  int64Value,
  list,
  message,
  str,
  uint32,
  type Obj,
} from './json-common.ts';
import { jsonLevels, walkJson } from './json-walk.ts';
import { AGGREGATION_TEMPORALITY_ENUM } from './mapping.ts';
import { newMetricTables, type MetricTables } from './proto-metrics.ts';
import {
  Exemplars,
  exponentialHistogramRow,
  gaugeRow,
  histogramRow,
  sumRow,
  summaryRow,
  type BucketColumns,
  type MetricInfo,
  type PointCommon,
  type ResourceInfo,
  type ScopeInfo,
} from './row-builders.ts';
import type { ExponentialHistogramRow, HistogramRow, SummaryRow } from './rows.ts';

const LEVELS = jsonLevels(SIGNALS.metrics);

export function decodeMetricsJson(request: Obj): MetricTables {
  return walkJson(request, LEVELS, metric, newMetricTables());
}

const DATA_KEYS: readonly (readonly [camel: string, snake: string])[] = [
  ['gauge', 'gauge'],
  ['sum', 'sum'],
  ['histogram', 'histogram'],
  ['exponentialHistogram', 'exponential_histogram'],
  ['summary', 'summary'],
];

function metric(
  m: Obj,
  resource: ResourceInfo,
  scope: ScopeInfo,
  out: MetricTables,
  ri: number,
  si: number,
  mi: number,
): void {
  const info: MetricInfo = {
    resource,
    scope,
    name: str(m, 'name'),
    description: str(m, 'description'),
    unit: str(m, 'unit'),
  };
  attributes(m, 'metadata');
  let kind = -1;
  let data: Obj | undefined;
  for (let i = 0; i < DATA_KEYS.length; i++) {
    const [camel, snake] = DATA_KEYS[i]!;
    const d = message(m, camel, snake);
    if (d === undefined) continue;
    if (kind >= 0) throw new OtlpDecodeError('', `more than one of ${DATA_KEYS[kind]![0]} and ${camel} is set`);
    kind = i;
    data = d;
  }
  if (data === undefined) {
    out.rejections.add(`${LEVELS.resources}[${ri}].${LEVELS.scopes}[${si}].${LEVELS.items}[${mi}]`, info.name);
    return;
  }
  const field = DATA_KEYS[kind]![0];
  try {
    const points = list(data, 'dataPoints', 'data_points');
    // Gauge and Summary have no temporality: a key of that name there is unknown, hence ignored.
    const temporality =
      kind >= 1 && kind <= 3
        ? int32(data, 'aggregationTemporality', 'aggregation_temporality', AGGREGATION_TEMPORALITY_ENUM)
        : 0;
    const monotonic = kind === 1 ? bool(data, 'isMonotonic', 'is_monotonic') : false;
    for (let i = 0; i < points.length; i++) {
      try {
        const p = element(points[i]);
        switch (kind) {
          case 0: {
            const n = numberPoint(p);
            out.gauge.push(gaugeRow(info, n, n.value, n.flags));
            break;
          }
          case 1: {
            const n = numberPoint(p);
            out.sum.push(sumRow(info, n, n.value, n.flags, temporality, monotonic));
            break;
          }
          case 2:
            out.histogram.push(histogramPoint(p, info, temporality));
            break;
          case 3:
            out.exponentialHistogram.push(exponentialHistogramPoint(p, info, temporality));
            break;
          default:
            out.summary.push(summaryPoint(p, info));
        }
      } catch (err) {
        throw within(err, `dataPoints[${i}]`);
      }
    }
  } catch (err) {
    throw within(err, field);
  }
}

function common(p: Obj, attributesField: string): PointCommon {
  const exemplars = new Exemplars();
  const items = list(p, 'exemplars');
  for (let i = 0; i < items.length; i++) {
    try {
      const e = element(items[i]);
      exemplars.attrs.push(attributes(e, 'filteredAttributes', 'filtered_attributes'));
      exemplars.times.push(int64(e, 'timeUnixNano', 'time_unix_nano', false));
      exemplars.values.push(numberValue(e));
      // The exporter hex-encodes the raw id arrays: zeroes, not '', when absent.
      exemplars.spanIds.push(id(e, 'spanId', 'span_id', 8, true));
      exemplars.traceIds.push(id(e, 'traceId', 'trace_id', 16, true));
    } catch (err) {
      throw within(err, `exemplars[${i}]`);
    }
  }
  return {
    attrs: attributes(p, attributesField),
    start: int64(p, 'startTimeUnixNano', 'start_time_unix_nano', false),
    time: int64(p, 'timeUnixNano', 'time_unix_nano', false),
    exemplars,
  };
}

/** `as_double` / `as_int` (a oneof) of a NumberDataPoint or Exemplar → Float64, 0 when neither is set. */
function numberValue(o: Obj): number {
  const d = get(o, 'asDouble', 'as_double');
  const i = get(o, 'asInt', 'as_int');
  if (d !== undefined && i !== undefined) throw new OtlpDecodeError('', 'both asDouble and asInt are set');
  if (d !== undefined) return doubleValue(d, 'asDouble');
  // float64(int64): the exact decimal, rounded once.
  if (i !== undefined) return Number(int64Value(i, 'asInt', true));
  return 0;
}

function numberPoint(p: Obj): PointCommon & { value: number; flags: number } {
  const c = common(p, 'attributes');
  // A literal, not a spread of `c`: see row-builders.ts on what spreads cost per data point.
  return { attrs: c.attrs, start: c.start, time: c.time, exemplars: c.exemplars, value: numberValue(p), flags: uint32(p, 'flags') };
}

function u64List(o: Obj, camel: string, snake: string): string[] {
  const values = list(o, camel, snake);
  const out: string[] = [];
  for (let i = 0; i < values.length; i++) {
    try {
      out.push(int64Value(values[i], '', false));
    } catch (err) {
      throw within(err, `${camel}[${i}]`);
    }
  }
  return out;
}

function doubleList(o: Obj, camel: string, snake: string): number[] {
  const values = list(o, camel, snake);
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    try {
      out.push(doubleValue(values[i], ''));
    } catch (err) {
      throw within(err, `${camel}[${i}]`);
    }
  }
  return out;
}

function histogramPoint(p: Obj, info: MetricInfo, temporality: number): HistogramRow {
  // Arguments in parameter order are also the order fields are checked in: the first invalid one is reported.
  return histogramRow(
    info,
    common(p, 'attributes'),
    int64(p, 'count', undefined, false),
    double(p, 'sum'),
    u64List(p, 'bucketCounts', 'bucket_counts'),
    doubleList(p, 'explicitBounds', 'explicit_bounds'),
    uint32(p, 'flags'),
    double(p, 'min'),
    double(p, 'max'),
    temporality,
  );
}

function buckets(p: Obj, field: string): BucketColumns {
  const b = message(p, field);
  if (b === undefined) return { offset: 0, counts: [] };
  try {
    return { offset: int32(b, 'offset', undefined), counts: u64List(b, 'bucketCounts', 'bucket_counts') };
  } catch (err) {
    throw within(err, field);
  }
}

function exponentialHistogramPoint(p: Obj, info: MetricInfo, temporality: number): ExponentialHistogramRow {
  const c = common(p, 'attributes');
  const positive = buckets(p, 'positive');
  const negative = buckets(p, 'negative');
  double(p, 'zeroThreshold', 'zero_threshold');
  return exponentialHistogramRow(
    info,
    c,
    int64(p, 'count', undefined, false),
    double(p, 'sum'),
    int32(p, 'scale', undefined),
    int64(p, 'zeroCount', 'zero_count', false),
    positive,
    negative,
    uint32(p, 'flags'),
    double(p, 'min'),
    double(p, 'max'),
    temporality,
  );
}

function summaryPoint(p: Obj, info: MetricInfo): SummaryRow {
  const quantiles: number[] = [];
  const values: number[] = [];
  const qv = list(p, 'quantileValues', 'quantile_values');
  for (let i = 0; i < qv.length; i++) {
    try {
      const q = element(qv[i]);
      quantiles.push(double(q, 'quantile'));
      values.push(double(q, 'value'));
    } catch (err) {
      throw within(err, `quantileValues[${i}]`);
    }
  }
  return summaryRow(
    info,
    attributes(p, 'attributes'),
    int64(p, 'startTimeUnixNano', 'start_time_unix_nano', false),
    int64(p, 'timeUnixNano', 'time_unix_nano', false),
    int64(p, 'count', undefined, false),
    double(p, 'sum'),
    quantiles,
    values,
    uint32(p, 'flags'),
  );
}
