/**
 * ExportMetricsServiceRequest (protobuf) → one row per data point in the otel_metrics_* tables (field numbers in
 * descriptor.ts).
 * Repeated scalars are accepted packed and unpacked, as protobuf requires of parsers.
 */
import {
  Buckets,
  Exemplar,
  ExponentialHistogram,
  ExponentialHistogramDataPoint,
  Gauge,
  Histogram,
  HistogramDataPoint,
  Metric,
  SIGNALS,
  NumberDataPoint,
  Sum,
  Summary,
  SummaryDataPoint,
  ValueAtQuantile,
  elementTags,
  known,
  tags,
} from './descriptor.ts';
import { OtlpDecodeError, within } from './errors.ts';
import { MetricRejections } from './mapping.ts';
import { attributeInto, skipAttribute } from './proto-common.ts';
import { protoLevels, walkProto } from './proto-walk.ts';
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
import type { Attrs, ExponentialHistogramRow, GaugeRow, HistogramRow, SumRow, SummaryRow } from './rows.ts';
import { type Fields, type Reader, i64ToNumber, u64ToDecimal } from './wire.ts';

// Tags and known fields, derived once into this module's constants (see descriptor.ts on why local).
const LEVELS = protoLevels(SIGNALS.metrics);
const METRIC = tags(Metric);
const METRIC_KNOWN = known(Metric);
const GAUGE = tags(Gauge);
const GAUGE_KNOWN = known(Gauge);
const SUM = tags(Sum);
const SUM_KNOWN = known(Sum);
const HISTOGRAM = tags(Histogram);
const HISTOGRAM_KNOWN = known(Histogram);
const EXP_HISTOGRAM = tags(ExponentialHistogram);
const EXP_HISTOGRAM_KNOWN = known(ExponentialHistogram);
const SUMMARY = tags(Summary);
const SUMMARY_KNOWN = known(Summary);
const NUMBER_POINT = tags(NumberDataPoint);
const NUMBER_POINT_KNOWN = known(NumberDataPoint);
const HISTOGRAM_POINT = tags(HistogramDataPoint);
/** Packed fields sent unpacked, one element per field (parsers must accept both). */
const HISTOGRAM_POINT_UNPACKED = elementTags(HistogramDataPoint);
const HISTOGRAM_POINT_KNOWN = known(HistogramDataPoint);
const EXP_HISTOGRAM_POINT = tags(ExponentialHistogramDataPoint);
const EXP_HISTOGRAM_POINT_KNOWN = known(ExponentialHistogramDataPoint);
const BUCKETS = tags(Buckets);
const BUCKETS_UNPACKED = elementTags(Buckets);
const BUCKETS_KNOWN = known(Buckets);
const SUMMARY_POINT = tags(SummaryDataPoint);
const SUMMARY_POINT_KNOWN = known(SummaryDataPoint);
const VALUE_AT_QUANTILE = tags(ValueAtQuantile);
const VALUE_AT_QUANTILE_KNOWN = known(ValueAtQuantile);
const EXEMPLAR = tags(Exemplar);
const EXEMPLAR_KNOWN = known(Exemplar);

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

export function decodeMetricsProto(body: Uint8Array): MetricTables {
  return walkProto(body, false, LEVELS, metric, newMetricTables());
}

function metric(
  r: Reader,
  end: number,
  resource: ResourceInfo,
  scope: ScopeInfo,
  out: MetricTables,
  ri: number,
  si: number,
  mi: number,
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
      case METRIC.name:
        name = r.string(end);
        break;
      case METRIC.description:
        description = r.string(end);
        break;
      case METRIC.unit:
        unit = r.string(end);
        break;
      case METRIC.gauge:
      case METRIC.sum:
      case METRIC.histogram:
      case METRIC.exponentialHistogram:
      case METRIC.summary:
        dataEnd = r.lenEnd(end);
        dataTag = tag;
        dataStart = r.pos;
        r.pos = dataEnd;
        break;
      case METRIC.metadata:
        skipAttribute(r, end, 'metadata', metadataCount++);
        break;
      default:
        r.unknown(tag, end, METRIC_KNOWN);
    }
  }
  r.close(end);
  if (dataTag === 0) {
    out.rejections.add(`${LEVELS.resources}[${ri}].${LEVELS.scopes}[${si}].${LEVELS.items}[${mi}]`, name);
    return;
  }
  const info: MetricInfo = { resource, scope, name, description, unit };
  r.pos = dataStart;
  // Errors name the oneof member they came from, as in the OTLP/JSON field names.
  const member =
    dataTag === METRIC.gauge
      ? 'gauge'
      : dataTag === METRIC.sum
        ? 'sum'
        : dataTag === METRIC.histogram
          ? 'histogram'
          : dataTag === METRIC.exponentialHistogram
            ? 'exponentialHistogram'
            : 'summary';
  try {
    switch (dataTag) {
      case METRIC.gauge:
        gauge(r, dataEnd, info, out.gauge);
        break;
      case METRIC.sum:
        sum(r, dataEnd, info, out.sum);
        break;
      case METRIC.histogram:
        histogram(r, dataEnd, info, out.histogram);
        break;
      case METRIC.exponentialHistogram:
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

/**
 * Reads `aggregation_temporality` / `is_monotonic` of a Sum, Histogram or ExponentialHistogram (pass one; `monotonicTag`
 * is -1 for the two without one) and checks the other fields' wire types.
 */
function temporality(
  r: Reader,
  end: number,
  known: Fields,
  temporalityTag: number,
  monotonicTag: number,
): { temporality: number; monotonic: boolean } {
  let t = 0;
  let monotonic = false;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === temporalityTag) t = r.i32();
    else if (tag === monotonicTag) monotonic = r.bool();
    else r.unknown(tag, end, known);
  }
  r.close(end);
  return { temporality: t, monotonic };
}

/**
 * Decodes each data point (field `pointsTag`) of a gauge, sum, histogram, exponential histogram or summary into
 * `rows`. `known` checks the other fields' wire types on the way; undefined when a first pass (`temporality`) already did.
 */
function dataPoints<R>(
  r: Reader,
  end: number,
  rows: R[],
  pointsTag: number,
  known: Fields | undefined,
  point: (e: number) => R,
): void {
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === pointsTag) {
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
  dataPoints(r, end, rows, GAUGE.dataPoints, GAUGE_KNOWN, (e) => {
    const p = numberPoint(r, e);
    return gaugeRow(info, p, p.value, p.flags);
  });
}

function sum(r: Reader, end: number, info: MetricInfo, rows: SumRow[]): void {
  const start = r.pos;
  const { temporality: aggregationTemporality, monotonic } = temporality(
    r,
    end,
    SUM_KNOWN,
    SUM.aggregationTemporality,
    SUM.isMonotonic,
  );
  r.pos = start;
  dataPoints(r, end, rows, SUM.dataPoints, undefined, (e) => {
    const p = numberPoint(r, e);
    return sumRow(info, p, p.value, p.flags, aggregationTemporality, monotonic);
  });
}

function histogram(r: Reader, end: number, info: MetricInfo, rows: HistogramRow[]): void {
  const start = r.pos;
  const { temporality: aggregationTemporality } = temporality(r, end, HISTOGRAM_KNOWN, HISTOGRAM.aggregationTemporality, -1);
  r.pos = start;
  dataPoints(r, end, rows, HISTOGRAM.dataPoints, undefined, (e) => histogramPoint(r, e, info, aggregationTemporality));
}

function exponentialHistogram(r: Reader, end: number, info: MetricInfo, rows: ExponentialHistogramRow[]): void {
  const start = r.pos;
  const { temporality: aggregationTemporality } = temporality(
    r,
    end,
    EXP_HISTOGRAM_KNOWN,
    EXP_HISTOGRAM.aggregationTemporality,
    -1,
  );
  r.pos = start;
  dataPoints(r, end, rows, EXP_HISTOGRAM.dataPoints, undefined, (e) =>
    exponentialHistogramPoint(r, e, info, aggregationTemporality),
  );
}

function summary(r: Reader, end: number, info: MetricInfo, rows: SummaryRow[]): void {
  dataPoints(r, end, rows, SUMMARY.dataPoints, SUMMARY_KNOWN, (e) => summaryPoint(r, e, info));
}

// ---- data points -----------------------------------------------------------------------------------------------------

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
      case NUMBER_POINT.startTimeUnixNano:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case NUMBER_POINT.timeUnixNano:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case NUMBER_POINT.asDouble:
        value = r.double();
        break;
      case NUMBER_POINT.asInt:
        r.fixed64();
        value = i64ToNumber(r.lo, r.hi);
        break;
      case NUMBER_POINT.exemplars:
        exemplar(r, end, exemplars);
        break;
      case NUMBER_POINT.attributes:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case NUMBER_POINT.flags:
        flags = r.i32() >>> 0;
        break;
      default:
        r.unknown(tag, end, NUMBER_POINT_KNOWN);
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
        case EXEMPLAR.timeUnixNano:
          r.fixed64();
          time = u64ToDecimal(r.lo, r.hi);
          break;
        case EXEMPLAR.asDouble:
          value = r.double();
          break;
        case EXEMPLAR.asInt:
          r.fixed64();
          value = i64ToNumber(r.lo, r.hi);
          break;
        case EXEMPLAR.spanId:
          spanId = r.rawId(end, 8, 'spanId');
          break;
        case EXEMPLAR.traceId:
          traceId = r.rawId(end, 16, 'traceId');
          break;
        case EXEMPLAR.filteredAttributes:
          attributeInto(r, end, attrs, 'filteredAttributes', n++);
          break;
        default:
          r.unknown(tag, end, EXEMPLAR_KNOWN);
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
      case HISTOGRAM_POINT.startTimeUnixNano:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case HISTOGRAM_POINT.timeUnixNano:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case HISTOGRAM_POINT.count:
        r.fixed64();
        count = u64ToDecimal(r.lo, r.hi);
        break;
      case HISTOGRAM_POINT.sum:
        sumValue = r.double();
        break;
      case HISTOGRAM_POINT_UNPACKED.bucketCounts:
        r.fixed64();
        bucketCounts.push(u64ToDecimal(r.lo, r.hi));
        break;
      case HISTOGRAM_POINT.bucketCounts:
        packedFixed64(r, end, bucketCounts, 'bucketCounts');
        break;
      case HISTOGRAM_POINT_UNPACKED.explicitBounds:
        bounds.push(r.double());
        break;
      case HISTOGRAM_POINT.explicitBounds:
        packedDouble(r, end, bounds, 'explicitBounds');
        break;
      case HISTOGRAM_POINT.exemplars:
        exemplar(r, end, exemplars);
        break;
      case HISTOGRAM_POINT.attributes:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case HISTOGRAM_POINT.flags:
        flags = r.i32() >>> 0;
        break;
      case HISTOGRAM_POINT.min:
        min = r.double();
        break;
      case HISTOGRAM_POINT.max:
        max = r.double();
        break;
      default:
        r.unknown(tag, end, HISTOGRAM_POINT_KNOWN);
    }
  }
  r.close(end);
  const p: PointCommon = { attrs, start, time, exemplars };
  return histogramRow(info, p, count, sumValue, bucketCounts, bounds, flags, min, max, aggregationTemporality);
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
  let positive: BucketColumns = { offset: 0, counts: [] };
  let negative: BucketColumns = { offset: 0, counts: [] };
  let flags = 0;
  let min = 0;
  let max = 0;
  const exemplars = new Exemplars();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case EXP_HISTOGRAM_POINT.attributes:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case EXP_HISTOGRAM_POINT.startTimeUnixNano:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case EXP_HISTOGRAM_POINT.timeUnixNano:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case EXP_HISTOGRAM_POINT.count:
        r.fixed64();
        count = u64ToDecimal(r.lo, r.hi);
        break;
      case EXP_HISTOGRAM_POINT.sum:
        sumValue = r.double();
        break;
      case EXP_HISTOGRAM_POINT.scale:
        scale = r.s32();
        break;
      case EXP_HISTOGRAM_POINT.zeroCount:
        r.fixed64();
        zeroCount = u64ToDecimal(r.lo, r.hi);
        break;
      case EXP_HISTOGRAM_POINT.positive:
        positive = buckets(r, end, positive, 'positive');
        break;
      case EXP_HISTOGRAM_POINT.negative:
        negative = buckets(r, end, negative, 'negative');
        break;
      case EXP_HISTOGRAM_POINT.flags:
        flags = r.i32() >>> 0;
        break;
      case EXP_HISTOGRAM_POINT.exemplars:
        exemplar(r, end, exemplars);
        break;
      case EXP_HISTOGRAM_POINT.min:
        min = r.double();
        break;
      case EXP_HISTOGRAM_POINT.max:
        max = r.double();
        break;
      default:
        r.unknown(tag, end, EXP_HISTOGRAM_POINT_KNOWN);
    }
  }
  r.close(end);
  const p: PointCommon = { attrs, start, time, exemplars };
  return exponentialHistogramRow(
    info,
    p,
    count,
    sumValue,
    scale,
    zeroCount,
    positive,
    negative,
    flags,
    min,
    max,
    aggregationTemporality,
  );
}

/** A Buckets message; a repeated one merges into `into` (offset replaced, counts appended). */
function buckets(r: Reader, limit: number, into: BucketColumns, field: string): BucketColumns {
  const end = r.lenEnd(limit);
  try {
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === BUCKETS.offset) into.offset = r.s32();
      else if (tag === BUCKETS_UNPACKED.bucketCounts) {
        r.v64();
        into.counts.push(u64ToDecimal(r.lo, r.hi));
      } else if (tag === BUCKETS.bucketCounts) {
        const e = r.lenEnd(end);
        while (r.pos < e) {
          r.v64();
          into.counts.push(u64ToDecimal(r.lo, r.hi));
        }
        if (r.pos !== e) throw new OtlpDecodeError('bucketCounts', 'packed varints run past the end of the field');
      } else r.unknown(tag, end, BUCKETS_KNOWN);
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
      case SUMMARY_POINT.startTimeUnixNano:
        r.fixed64();
        start = u64ToDecimal(r.lo, r.hi);
        break;
      case SUMMARY_POINT.timeUnixNano:
        r.fixed64();
        time = u64ToDecimal(r.lo, r.hi);
        break;
      case SUMMARY_POINT.count:
        r.fixed64();
        count = u64ToDecimal(r.lo, r.hi);
        break;
      case SUMMARY_POINT.sum:
        sumValue = r.double();
        break;
      case SUMMARY_POINT.quantileValues: {
        const e = r.lenEnd(end);
        try {
          let q = 0;
          let v = 0;
          while (r.pos < e) {
            const t = r.tag();
            if (t === VALUE_AT_QUANTILE.quantile) q = r.double();
            else if (t === VALUE_AT_QUANTILE.value) v = r.double();
            else r.unknown(t, e, VALUE_AT_QUANTILE_KNOWN);
          }
          r.close(e);
          quantiles.push(q);
          values.push(v);
        } catch (err) {
          throw within(err, `quantileValues[${quantiles.length}]`);
        }
        break;
      }
      case SUMMARY_POINT.attributes:
        attributeInto(r, end, attrs, 'attributes', n++);
        break;
      case SUMMARY_POINT.flags:
        flags = r.i32() >>> 0;
        break;
      default:
        r.unknown(tag, end, SUMMARY_POINT_KNOWN);
    }
  }
  r.close(end);
  return summaryRow(info, attrs, start, time, count, sumValue, quantiles, values, flags);
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
