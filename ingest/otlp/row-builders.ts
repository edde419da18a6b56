/**
 * The rows of each table, built in one place for both decoders (protobuf and OTLP/JSON): each decoder reads its
 * encoding into plain values, and these functions lay them out as columns. So the two cannot drift, and every row of a
 * table has one hidden class whichever encoding it came from (the writers that read them stay monomorphic).
 *
 * Builders take positional arguments instead of an options object: they run once per span or data point, and an
 * object per call would be one more allocation on the hot path. JSON decoders compute the arguments in the order of
 * the parameters, which is the order their fields are validated (the first invalid field is the one reported).
 */
import { spanKindName, statusCodeName, TRACE_FLAGS_MASK } from './mapping.ts';
import type {
  Attrs,
  ExponentialHistogramRow,
  GaugeRow,
  HistogramRow,
  LogRow,
  SpanRow,
  SumRow,
  SummaryRow,
} from './rows.ts';

export interface ResourceInfo {
  /** Shared by every row of the resource: frozen so a consumer cannot change them all by accident. */
  attrs: Attrs;
  /** AsString of the `service.name` attribute, `''` without one (exporter's `GetServiceName`). */
  serviceName: string;
  /** `schema_url` of the ResourceSpans / ResourceLogs / ResourceMetrics. */
  schemaUrl: string;
}

export function resourceInfo(attrs: Attrs, schemaUrl: string): ResourceInfo {
  const serviceName = Object.hasOwn(attrs, 'service.name') ? attrs['service.name']! : '';
  return { attrs: Object.freeze(attrs), serviceName, schemaUrl };
}

export interface ScopeInfo {
  name: string;
  version: string;
  /** Frozen once read, like the resource's. */
  attrs: Attrs;
  droppedAttributesCount: number;
  /** `schema_url` of the ScopeSpans / ScopeLogs / ScopeMetrics. */
  schemaUrl: string;
}

export function newScope(): ScopeInfo {
  return { name: '', version: '', attrs: {}, droppedAttributesCount: 0, schemaUrl: '' };
}

// ---- spans ----------------------------------------------------------------------------------------------------------

/** The `Events.*` Nested columns of one span. */
export interface SpanEvents {
  readonly times: string[];
  readonly names: string[];
  readonly attrs: Attrs[];
}

/** The `Links.*` Nested columns of one span. */
export interface SpanLinks {
  readonly traceIds: string[];
  readonly spanIds: string[];
  readonly states: string[];
  readonly attrs: Attrs[];
}

/** Shared, so frozen (a row is not meant to be modified anyway). */
const NONE = Object.freeze([]) as unknown as never[];
/** Most spans have neither events nor links: they share these instead of allocating seven empty arrays. */
export const NO_EVENTS: SpanEvents = Object.freeze({ times: NONE, names: NONE, attrs: NONE });
export const NO_LINKS: SpanLinks = Object.freeze({ traceIds: NONE, spanIds: NONE, states: NONE, attrs: NONE });

export function newEvents(): SpanEvents {
  return { times: [], names: [], attrs: [] };
}

export function newLinks(): SpanLinks {
  return { traceIds: [], spanIds: [], states: [], attrs: [] };
}

/** An otel_traces row. `kind` and `statusCode` are the OTLP enum values. */
export function spanRow(
  resource: ResourceInfo,
  scope: ScopeInfo,
  timestamp: string,
  traceId: string,
  spanId: string,
  parentSpanId: string,
  traceState: string,
  name: string,
  kind: number,
  attrs: Attrs,
  duration: string,
  statusCode: number,
  statusMessage: string,
  events: SpanEvents,
  links: SpanLinks,
): SpanRow {
  return {
    Timestamp: timestamp,
    TraceId: traceId,
    SpanId: spanId,
    ParentSpanId: parentSpanId,
    TraceState: traceState,
    SpanName: name,
    SpanKind: spanKindName(kind),
    ServiceName: resource.serviceName,
    ResourceAttributes: resource.attrs,
    ScopeName: scope.name,
    ScopeVersion: scope.version,
    SpanAttributes: attrs,
    Duration: duration,
    StatusCode: statusCodeName(statusCode),
    StatusMessage: statusMessage,
    'Events.Timestamp': events.times,
    'Events.Name': events.names,
    'Events.Attributes': events.attrs,
    'Links.TraceId': links.traceIds,
    'Links.SpanId': links.spanIds,
    'Links.TraceState': links.states,
    'Links.Attributes': links.attrs,
  };
}

// ---- logs -----------------------------------------------------------------------------------------------------------

/**
 * An otel_logs row. `timestamp` is the record's time, or its observed time when it has none (the exporter's
 * fallback, applied by the caller, which knows which one is zero in its encoding). `flags` are the record's flags.
 */
export function logRow(
  resource: ResourceInfo,
  scope: ScopeInfo,
  timestamp: string,
  traceId: string,
  spanId: string,
  flags: number,
  severityText: string,
  severityNumber: number,
  body: string,
  attrs: Attrs,
  eventName: string,
): LogRow {
  return {
    Timestamp: timestamp,
    TraceId: traceId,
    SpanId: spanId,
    TraceFlags: flags & TRACE_FLAGS_MASK,
    SeverityText: severityText,
    SeverityNumber: severityNumber,
    ServiceName: resource.serviceName,
    Body: body,
    ResourceSchemaUrl: resource.schemaUrl,
    ResourceAttributes: resource.attrs,
    ScopeSchemaUrl: scope.schemaUrl,
    ScopeName: scope.name,
    ScopeVersion: scope.version,
    ScopeAttributes: scope.attrs,
    LogAttributes: attrs,
    EventName: eventName,
  };
}

// ---- metrics --------------------------------------------------------------------------------------------------------
//
// Each builder writes its row as one object literal, the columns every otel_metrics_* table shares included, although
// those lines then repeat: a row spread from a shared base object (`{ ...base(info, p), Value }`, as both decoders did
// before) measured 6-7x slower per gauge point (6.2 µs against 0.8), the spread being most of a data point's decode.
// The row types of rows.ts check each literal: a builder that missed or misspelled a column would not compile.

/** Everything a metric's rows share. */
export interface MetricInfo {
  resource: ResourceInfo;
  scope: ScopeInfo;
  name: string;
  description: string;
  unit: string;
}

/** A data point's exemplars, as the `Exemplars.*` Nested columns. */
export class Exemplars {
  readonly attrs: Attrs[] = [];
  readonly times: string[] = [];
  readonly values: number[] = [];
  readonly spanIds: string[] = [];
  readonly traceIds: string[] = [];
}

/** What every data point but a summary's has (the summary table has no exemplar columns). */
export interface PointCommon {
  attrs: Attrs;
  start: string;
  time: string;
  exemplars: Exemplars;
}

export function gaugeRow(info: MetricInfo, p: PointCommon, value: number, flags: number): GaugeRow {
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resource.schemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scope.schemaUrl,
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
    Value: value,
    Flags: flags,
  };
}

export function sumRow(
  info: MetricInfo,
  p: PointCommon,
  value: number,
  flags: number,
  aggregationTemporality: number,
  monotonic: boolean,
): SumRow {
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resource.schemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scope.schemaUrl,
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
    Value: value,
    Flags: flags,
    AggregationTemporality: aggregationTemporality,
    IsMonotonic: monotonic,
  };
}

export function histogramRow(
  info: MetricInfo,
  p: PointCommon,
  count: string,
  sum: number,
  bucketCounts: string[],
  explicitBounds: number[],
  flags: number,
  min: number,
  max: number,
  aggregationTemporality: number,
): HistogramRow {
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resource.schemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scope.schemaUrl,
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
    Count: count,
    Sum: sum,
    BucketCounts: bucketCounts,
    ExplicitBounds: explicitBounds,
    Flags: flags,
    Min: min,
    Max: max,
    AggregationTemporality: aggregationTemporality,
  };
}

export interface BucketColumns {
  offset: number;
  counts: string[];
}

export function exponentialHistogramRow(
  info: MetricInfo,
  p: PointCommon,
  count: string,
  sum: number,
  scale: number,
  zeroCount: string,
  positive: BucketColumns,
  negative: BucketColumns,
  flags: number,
  min: number,
  max: number,
  aggregationTemporality: number,
): ExponentialHistogramRow {
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resource.schemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scope.schemaUrl,
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
    Count: count,
    Sum: sum,
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

export function summaryRow(
  info: MetricInfo,
  attrs: Attrs,
  start: string,
  time: string,
  count: string,
  sum: number,
  quantiles: number[],
  values: number[],
  flags: number,
): SummaryRow {
  return {
    ResourceAttributes: info.resource.attrs,
    ResourceSchemaUrl: info.resource.schemaUrl,
    ScopeName: info.scope.name,
    ScopeVersion: info.scope.version,
    ScopeAttributes: info.scope.attrs,
    ScopeDroppedAttrCount: info.scope.droppedAttributesCount,
    ScopeSchemaUrl: info.scope.schemaUrl,
    ServiceName: info.resource.serviceName,
    MetricName: info.name,
    MetricDescription: info.description,
    MetricUnit: info.unit,
    Attributes: attrs,
    StartTimeUnix: start,
    TimeUnix: time,
    Count: count,
    Sum: sum,
    'ValueAtQuantiles.Quantile': quantiles,
    'ValueAtQuantiles.Value': values,
    Flags: flags,
  };
}
