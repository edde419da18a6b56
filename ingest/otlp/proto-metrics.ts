/**
 * ExportMetricsServiceRequest (protobuf) → one row per data point in the otel_metrics_* tables.
 *
 * Field numbers (opentelemetry-proto collector/metrics/v1/metrics_service.proto, metrics/v1/metrics.proto):
 *   ExportMetricsServiceRequest: resource_metrics 1.
 *   ResourceMetrics: resource 1, scope_metrics 2, schema_url 3.   ScopeMetrics: scope 1, metrics 2, schema_url 3.
 *   Metric: name 1, description 2, unit 3, oneof data { gauge 5, sum 7, histogram 9, exponential_histogram 10,
 *           summary 11 }, metadata 12 (4, 6, 8 are reserved).
 *   Gauge: data_points 1.  Sum: data_points 1, aggregation_temporality 2, is_monotonic 3.
 *   Histogram / ExponentialHistogram: data_points 1, aggregation_temporality 2.  Summary: data_points 1.
 *   NumberDataPoint: attributes 7, start_time_unix_nano 2, time_unix_nano 3 (fixed64), as_double 4,
 *                    as_int 6 (sfixed64), exemplars 5, flags 8.
 *   HistogramDataPoint: attributes 9, start 2, time 3, count 4 (fixed64), sum 5, bucket_counts 6 (fixed64),
 *                       explicit_bounds 7 (double), exemplars 8, flags 10, min 11, max 12.
 *   ExponentialHistogramDataPoint: attributes 1, start 2, time 3, count 4 (fixed64), sum 5, scale 6 (sint32),
 *                       zero_count 7 (fixed64), positive 8, negative 9, flags 10, exemplars 11, min 12, max 13,
 *                       zero_threshold 14.   Buckets: offset 1 (sint32), bucket_counts 2 (uint64).
 *   SummaryDataPoint: attributes 7, start 2, time 3, count 4 (fixed64), sum 5, quantile_values 6, flags 8.
 *   ValueAtQuantile: quantile 1, value 2.
 *   Exemplar: filtered_attributes 7, time_unix_nano 2 (fixed64), as_double 3, as_int 6 (sfixed64), span_id 4, trace_id 5.
 * Repeated scalars are accepted packed and unpacked, as protobuf requires of parsers.
 */
import { OtlpDecodeError, within } from './errors.ts';
import { MetricRejections } from './mapping.ts';
import {
  attributeInto,
  finishResource,
  newScope,
  resourceInto,
  scopeInto,
  skipAttribute,
  type ResourceInfo,
  type ScopeInfo,
} from './proto-common.ts';
import type {
  Attrs,
  ExponentialHistogramRow,
  GaugeRow,
  HistogramRow,
  SumRow,
  SummaryRow,
} from './rows.ts';
import { type Fields, I64, LEN, Reader, VARINT, fields, i64ToNumber, u64ToDecimal } from './wire.ts';

const REQUEST = fields({ 1: ['resourceMetrics', LEN] });
const RESOURCE_METRICS = fields({ 1: ['resource', LEN], 2: ['scopeMetrics', LEN], 3: ['schemaUrl', LEN] });
const SCOPE_METRICS = fields({ 1: ['scope', LEN], 2: ['metrics', LEN], 3: ['schemaUrl', LEN] });
const METRIC = fields({
  1: ['name', LEN],
  2: ['description', LEN],
  3: ['unit', LEN],
  5: ['gauge', LEN],
  7: ['sum', LEN],
  9: ['histogram', LEN],
  10: ['exponentialHistogram', LEN],
  11: ['summary', LEN],
  12: ['metadata', LEN],
});
const DATA_POINTS = fields({ 1: ['dataPoints', LEN] });
const SUM = fields({ 1: ['dataPoints', LEN], 2: ['aggregationTemporality', VARINT], 3: ['isMonotonic', VARINT] });
const HISTOGRAM = fields({ 1: ['dataPoints', LEN], 2: ['aggregationTemporality', VARINT] });
const NUMBER_POINT = fields({
  2: ['startTimeUnixNano', I64],
  3: ['timeUnixNano', I64],
  4: ['asDouble', I64],
  5: ['exemplars', LEN],
  6: ['asInt', I64],
  7: ['attributes', LEN],
  8: ['flags', VARINT],
});
const HISTOGRAM_POINT = fields({
  2: ['startTimeUnixNano', I64],
  3: ['timeUnixNano', I64],
  4: ['count', I64],
  5: ['sum', I64],
  6: ['bucketCounts', LEN],
  7: ['explicitBounds', LEN],
  8: ['exemplars', LEN],
  9: ['attributes', LEN],
  10: ['flags', VARINT],
  11: ['min', I64],
  12: ['max', I64],
});
const EXP_HISTOGRAM_POINT = fields({
  1: ['attributes', LEN],
  2: ['startTimeUnixNano', I64],
  3: ['timeUnixNano', I64],
  4: ['count', I64],
  5: ['sum', I64],
  6: ['scale', VARINT],
  7: ['zeroCount', I64],
  8: ['positive', LEN],
  9: ['negative', LEN],
  10: ['flags', VARINT],
  11: ['exemplars', LEN],
  12: ['min', I64],
  13: ['max', I64],
  14: ['zeroThreshold', I64],
});
const BUCKETS = fields({ 1: ['offset', VARINT], 2: ['bucketCounts', LEN] });
const SUMMARY_POINT = fields({
  2: ['startTimeUnixNano', I64],
  3: ['timeUnixNano', I64],
  4: ['count', I64],
  5: ['sum', I64],
  6: ['quantileValues', LEN],
  7: ['attributes', LEN],
  8: ['flags', VARINT],
});
const VALUE_AT_QUANTILE = fields({ 1: ['quantile', I64], 2: ['value', I64] });
const EXEMPLAR = fields({
  2: ['timeUnixNano', I64],
  3: ['asDouble', I64],
  4: ['spanId', LEN],
  5: ['traceId', LEN],
  6: ['asInt', I64],
  7: ['filteredAttributes', LEN],
});

export interface MetricTables {
  gauge: GaugeRow[];
  sum: SumRow[];
  histogram: HistogramRow[];
  exponentialHistogram: ExponentialHistogramRow[];
  summary: SummaryRow[];
  rejections: MetricRejections;
}

export function newMetricTables(): MetricTables {
  return { gauge: [], sum: [], histogram: [], exponentialHistogram: [], summary: [], rejections: new MetricRejections() };
}

/** Everything a metric's rows share. */
interface MetricInfo {
  resource: ResourceInfo;
  resourceSchemaUrl: string;
  scope: ScopeInfo;
  scopeSchemaUrl: string;
  name: string;
  description: string;
  unit: string;
}

export function decodeMetricsProto(body: Uint8Array): MetricTables {
  const r = new Reader(body);
  const end = body.length;
  const out = newMetricTables();
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        resourceMetrics(r, e, out, i);
      } catch (err) {
        throw within(err, `resourceMetrics[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, REQUEST);
  }
  r.close(end);
  return out;
}

function resourceMetrics(r: Reader, end: number, out: MetricTables, ri: number): void {
  const start = r.pos;
  const attrs: Attrs = {};
  let schemaUrl = '';
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        resourceInto(r, e, attrs);
      } catch (err) {
        throw within(err, 'resource');
      }
    } else if (tag === 26) schemaUrl = r.string(end);
    else r.unknown(tag, end, RESOURCE_METRICS);
  }
  r.close(end);
  const resource = finishResource(attrs);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) {
      const e = r.lenEnd(end);
      try {
        scopeMetrics(r, e, resource, schemaUrl, out, `resourceMetrics[${ri}].scopeMetrics[${i}]`);
      } catch (err) {
        throw within(err, `scopeMetrics[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function scopeMetrics(
  r: Reader,
  end: number,
  resource: ResourceInfo,
  resourceSchemaUrl: string,
  out: MetricTables,
  path: string,
): void {
  const start = r.pos;
  const scope = newScope();
  let schemaUrl = '';
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        scopeInto(r, e, scope);
      } catch (err) {
        throw within(err, 'scope');
      }
    } else if (tag === 26) schemaUrl = r.string(end);
    else r.unknown(tag, end, SCOPE_METRICS);
  }
  r.close(end);
  Object.freeze(scope.attrs);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 18) {
      const e = r.lenEnd(end);
      try {
        metric(r, e, resource, resourceSchemaUrl, scope, schemaUrl, out, `${path}.metrics[${i}]`);
      } catch (err) {
        throw within(err, `metrics[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function metric(
  r: Reader,
  end: number,
  resource: ResourceInfo,
  resourceSchemaUrl: string,
  scope: ScopeInfo,
  scopeSchemaUrl: string,
  out: MetricTables,
  path: string,
): void {
  let name = '';
  let description = '';
  let unit = '';
  // `data` is a oneof: the last member on the wire wins. Decode it once its siblings (name...) are known.
  let dataTag = 0;
  let dataStart = 0;
  let dataEnd = 0;
  let metadataCount = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10:
        name = r.string(end);
        break;
      case 18:
        description = r.string(end);
        break;
      case 26:
        unit = r.string(end);
        break;
      case 42:
      case 58:
      case 74:
      case 82:
      case 90:
        dataEnd = r.lenEnd(end);
        dataTag = tag;
        dataStart = r.pos;
        r.pos = dataEnd;
        break;
      case 98:
        skipAttribute(r, end, 'metadata', metadataCount++);
        break;
      default:
        r.unknown(tag, end, METRIC);
    }
  }
  r.close(end);
  if (dataTag === 0) {
    out.rejections.add(path, name);
    return;
  }
  const info: MetricInfo = { resource, resourceSchemaUrl, scope, scopeSchemaUrl, name, description, unit };
  r.pos = dataStart;
  // Errors name the oneof member they came from, as in the OTLP/JSON field names.
  const member = dataTag === 42 ? 'gauge' : dataTag === 58 ? 'sum' : dataTag === 74 ? 'histogram' : dataTag === 82 ? 'exponentialHistogram' : 'summary';
  try {
    switch (dataTag) {
      case 42:
        gauge(r, dataEnd, info, out.gauge);
        break;
      case 58:
        sum(r, dataEnd, info, out.sum);
        break;
      case 74:
        histogram(r, dataEnd, info, out.histogram);
        break;
      case 82:
        exponentialHistogram(r, dataEnd, info, out.exponentialHistogram);
        break;
      default:
        summary(r, dataEnd, info, out.summary);
    }
  } catch (err) {
    throw within(err, member);
  }
  r.pos = end;
}

/** Reads `aggregation_temporality` / `is_monotonic` of a Sum, Histogram or ExponentialHistogram (pass one). */
function temporality(r: Reader, end: number, known: typeof SUM): { temporality: number; monotonic: boolean } {
  let t = 0;
  let monotonic = false;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 16) t = r.i32();
    else if (tag === 24 && known === SUM) monotonic = r.bool();
    else r.unknown(tag, end, known);
  }
  r.close(end);
  return { temporality: t, monotonic };
}

/**
 * Decodes each data point (field 1) of a gauge, sum, histogram, exponential histogram or summary into `rows`.
 * `known` checks the other fields' wire types on the way; undefined when a first pass (`temporality`) already did.
 */
function dataPoints<R>(r: Reader, end: number, rows: R[], known: Fields | undefined, point: (e: number) => R): void {
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        rows.push(point(e));
      } catch (err) {
        throw within(err, `dataPoints[${i}]`);
      }
      i++;
    } else if (known) r.unknown(tag, end, known);
    else r.skip(tag, end, 0);
  }
  if (known) r.close(end);
}

function gauge(r: Reader, end: number, info: MetricInfo, rows: GaugeRow[]): void {
  dataPoints(r, end, rows, DATA_POINTS, (e) => {
    const p = numberPoint(r, e);
    return { ...base(info, p), Value: p.value, Flags: p.flags };
  });
}

function sum(r: Reader, end: number, info: MetricInfo, rows: SumRow[]): void {
  const start = r.pos;
  const { temporality: aggregationTemporality, monotonic } = temporality(r, end, SUM);
  r.pos = start;
  dataPoints(r, end, rows, undefined, (e) => {
    const p = numberPoint(r, e);
    return { ...base(info, p), Value: p.value, Flags: p.flags, AggregationTemporality: aggregationTemporality, IsMonotonic: monotonic };
  });
}

function histogram(r: Reader, end: number, info: MetricInfo, rows: HistogramRow[]): void {
  const start = r.pos;
  const { temporality: aggregationTemporality } = temporality(r, end, HISTOGRAM);
  r.pos = start;
  dataPoints(r, end, rows, undefined, (e) => histogramPoint(r, e, info, aggregationTemporality));
}

function exponentialHistogram(r: Reader, end: number, info: MetricInfo, rows: ExponentialHistogramRow[]): void {
  const start = r.pos;
  const { temporality: aggregationTemporality } = temporality(r, end, HISTOGRAM);
  r.pos = start;
  dataPoints(r, end, rows, undefined, (e) => exponentialHistogramPoint(r, e, info, aggregationTemporality));
}

function summary(r: Reader, end: number, info: MetricInfo, rows: SummaryRow[]): void {
  dataPoints(r, end, rows, DATA_POINTS, (e) => summaryPoint(r, e, info));
}

// ---- data points -----------------------------------------------------------------------------------------------------

/** What every data point has, plus exemplars (absent on summaries: the summary table has no exemplar columns). */
interface PointCommon {
  attrs: Attrs;
  start: string;
  time: string;
  exemplars: Exemplars;
}

class Exemplars {
  readonly attrs: Attrs[] = [];
  readonly times: string[] = [];
  readonly values: number[] = [];
  readonly spanIds: string[] = [];
  readonly traceIds: string[] = [];
}

function base(info: MetricInfo, p: PointCommon) {
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resourceSchemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scopeSchemaUrl,
    ServiceName: info.resource.serviceName,
    MetricName: info.name,
    MetricDescription: info.description,
    MetricUnit: info.unit,
    Attributes: p.attrs,
    StartTimeUnix: p.start,
    TimeUnix: p.time,
    'Exemplars.FilteredAttributes': p.exemplars.attrs,
    'Exemplars.TimeUnix': p.exemplars.times,
    'Exemplars.Value': p.exemplars.values,
    'Exemplars.SpanId': p.exemplars.spanIds,
    'Exemplars.TraceId': p.exemplars.traceIds,
  };
}

interface NumberPoint extends PointCommon {
  value: number;
  flags: number;
}

function numberPoint(r: Reader, end: number): NumberPoint {
  const attrs: Attrs = {};
  let n = 0;
  let start = '0';
  let time = '0';
  let value = 0;
  let flags = 0;
  const exemplars = new Exemplars();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 17:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case 25:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case 33:
        value = r.double();
        break;
      case 49:
        r.fixed64();
        value = i64ToNumber(r.lo, r.hi);
        break;
      case 42:
        exemplar(r, end, exemplars);
        break;
      case 58:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case 64:
        flags = r.i32() >>> 0;
        break;
      default:
        r.unknown(tag, end, NUMBER_POINT);
    }
  }
  r.close(end);
  return { attrs, start, time, exemplars, value, flags };
}

function exemplar(r: Reader, limit: number, out: Exemplars): void {
  const end = r.lenEnd(limit);
  const i = out.times.length;
  try {
    const attrs: Attrs = {};
    let n = 0;
    let time = '0';
    let value = 0;
    // The exporter hex-encodes the raw id arrays: zeroes, not '', when absent.
    let spanId = '0000000000000000';
    let traceId = '00000000000000000000000000000000';
    while (r.pos < end) {
      const tag = r.tag();
      switch (tag) {
        case 17:
          r.fixed64();
          time = u64ToDecimal(r.lo, r.hi);
          break;
        case 25:
          value = r.double();
          break;
        case 49:
          r.fixed64();
          value = i64ToNumber(r.lo, r.hi);
          break;
        case 34:
          spanId = r.rawId(end, 8, 'spanId');
          break;
        case 42:
          traceId = r.rawId(end, 16, 'traceId');
          break;
        case 58:
          attributeInto(r, end, attrs, 'filteredAttributes', n++);
          break;
        default:
          r.unknown(tag, end, EXEMPLAR);
      }
    }
    r.close(end);
    out.attrs.push(attrs);
    out.times.push(time);
    out.values.push(value);
    out.spanIds.push(spanId);
    out.traceIds.push(traceId);
  } catch (err) {
    throw within(err, `exemplars[${i}]`);
  }
}

function histogramPoint(r: Reader, end: number, info: MetricInfo, aggregationTemporality: number): HistogramRow {
  const attrs: Attrs = {};
  let n = 0;
  let start = '0';
  let time = '0';
  let count = '0';
  let sumValue = 0;
  const bucketCounts: string[] = [];
  const bounds: number[] = [];
  let flags = 0;
  let min = 0;
  let max = 0;
  const exemplars = new Exemplars();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 17:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case 25:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case 33:
        r.fixed64();
        count = u64ToDecimal(r.lo, r.hi);
        break;
      case 41:
        sumValue = r.double();
        break;
      case 49: // unpacked
        r.fixed64();
        bucketCounts.push(u64ToDecimal(r.lo, r.hi));
        break;
      case 50:
        packedFixed64(r, end, bucketCounts, 'bucketCounts');
        break;
      case 57: // unpacked
        bounds.push(r.double());
        break;
      case 58:
        packedDouble(r, end, bounds, 'explicitBounds');
        break;
      case 66:
        exemplar(r, end, exemplars);
        break;
      case 74:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case 80:
        flags = r.i32() >>> 0;
        break;
      case 89:
        min = r.double();
        break;
      case 97:
        max = r.double();
        break;
      default:
        r.unknown(tag, end, HISTOGRAM_POINT);
    }
  }
  r.close(end);
  return {
    ...base(info, { attrs, start, time, exemplars }),
    Count: count,
    Sum: sumValue,
    BucketCounts: bucketCounts,
    ExplicitBounds: bounds,
    Flags: flags,
    Min: min,
    Max: max,
    AggregationTemporality: aggregationTemporality,
  };
}

function exponentialHistogramPoint(
  r: Reader,
  end: number,
  info: MetricInfo,
  aggregationTemporality: number,
): ExponentialHistogramRow {
  const attrs: Attrs = {};
  let n = 0;
  let start = '0';
  let time = '0';
  let count = '0';
  let sumValue = 0;
  let scale = 0;
  let zeroCount = '0';
  let positive: Buckets = { offset: 0, counts: [] };
  let negative: Buckets = { offset: 0, counts: [] };
  let flags = 0;
  let min = 0;
  let max = 0;
  const exemplars = new Exemplars();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case 17:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case 25:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case 33:
        r.fixed64();
        count = u64ToDecimal(r.lo, r.hi);
        break;
      case 41:
        sumValue = r.double();
        break;
      case 48:
        scale = r.s32();
        break;
      case 57:
        r.fixed64();
        zeroCount = u64ToDecimal(r.lo, r.hi);
        break;
      case 66:
        positive = buckets(r, end, positive, 'positive');
        break;
      case 74:
        negative = buckets(r, end, negative, 'negative');
        break;
      case 80:
        flags = r.i32() >>> 0;
        break;
      case 90:
        exemplar(r, end, exemplars);
        break;
      case 97:
        min = r.double();
        break;
      case 105:
        max = r.double();
        break;
      default:
        r.unknown(tag, end, EXP_HISTOGRAM_POINT);
    }
  }
  r.close(end);
  return {
    ...base(info, { attrs, start, time, exemplars }),
    Count: count,
    Sum: sumValue,
    Scale: scale,
    ZeroCount: zeroCount,
    PositiveOffset: positive.offset,
    PositiveBucketCounts: positive.counts,
    NegativeOffset: negative.offset,
    NegativeBucketCounts: negative.counts,
    Flags: flags,
    Min: min,
    Max: max,
    AggregationTemporality: aggregationTemporality,
  };
}

interface Buckets {
  offset: number;
  counts: string[];
}

/** A Buckets message; a repeated one merges into `into` (offset replaced, counts appended). */
function buckets(r: Reader, limit: number, into: Buckets, field: string): Buckets {
  const end = r.lenEnd(limit);
  try {
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 8) into.offset = r.s32();
      else if (tag === 16) {
        r.v64();
        into.counts.push(u64ToDecimal(r.lo, r.hi));
      } else if (tag === 18) {
        const e = r.lenEnd(end);
        while (r.pos < e) {
          r.v64();
          into.counts.push(u64ToDecimal(r.lo, r.hi));
        }
        if (r.pos !== e) throw new OtlpDecodeError('bucketCounts', 'packed varints run past the end of the field');
      } else r.unknown(tag, end, BUCKETS);
    }
    r.close(end);
  } catch (err) {
    throw within(err, field);
  }
  return into;
}

function summaryPoint(r: Reader, end: number, info: MetricInfo): SummaryRow {
  const attrs: Attrs = {};
  let n = 0;
  let start = '0';
  let time = '0';
  let count = '0';
  let sumValue = 0;
  const quantiles: number[] = [];
  const values: number[] = [];
  let flags = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 17:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case 25:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case 33:
        r.fixed64();
        count = u64ToDecimal(r.lo, r.hi);
        break;
      case 41:
        sumValue = r.double();
        break;
      case 50: {
        const e = r.lenEnd(end);
        try {
          let q = 0;
          let v = 0;
          while (r.pos < e) {
            const t = r.tag();
            if (t === 9) q = r.double();
            else if (t === 17) v = r.double();
            else r.unknown(t, e, VALUE_AT_QUANTILE);
          }
          r.close(e);
          quantiles.push(q);
          values.push(v);
        } catch (err) {
          throw within(err, `quantileValues[${quantiles.length}]`);
        }
        break;
      }
      case 58:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case 64:
        flags = r.i32() >>> 0;
        break;
      default:
        r.unknown(tag, end, SUMMARY_POINT);
    }
  }
  r.close(end);
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resourceSchemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scopeSchemaUrl,
    ServiceName: info.resource.serviceName,
    MetricName: info.name,
    MetricDescription: info.description,
    MetricUnit: info.unit,
    Attributes: attrs,
    StartTimeUnix: start,
    TimeUnix: time,
    Count: count,
    Sum: sumValue,
    'ValueAtQuantiles.Quantile': quantiles,
    'ValueAtQuantiles.Value': values,
    Flags: flags,
  };
}

function packedFixed64(r: Reader, limit: number, out: string[], field: string): void {
  const end = r.lenEnd(limit);
  if ((end - r.pos) % 8 !== 0) {
    throw new OtlpDecodeError(field, `packed fixed64 length ${end - r.pos} is not a multiple of 8`);
  }
  while (r.pos < end) {
    r.fixed64();
    out.push(u64ToDecimal(r.lo, r.hi));
  }
}

function packedDouble(r: Reader, limit: number, out: number[], field: string): void {
  const end = r.lenEnd(limit);
  if ((end - r.pos) % 8 !== 0) {
    throw new OtlpDecodeError(field, `packed double length ${end - r.pos} is not a multiple of 8`);
  }
  while (r.pos < end) out.push(r.double());
}
