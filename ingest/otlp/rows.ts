/**
 * Rows as they are inserted (JSONEachRow) into the OpenTelemetry Collector ClickHouse exporter's tables.
 *
 * Keys are column names exactly; Nested columns use ClickHouse's flattened `Parent.Child` names.
 * Representation rules, chosen so nothing loses precision on the way through JSON:
 * - DateTime64(9) and UInt64 values are decimal strings of nanoseconds / the integer (`"1700000000123456789"`).
 * - Trace and span ids are lowercase hex (`""` when absent), as the exporter writes them.
 * - Attribute maps hold the exporter's string form of each AnyValue (see `attributes.ts`).
 */
import type { TABLES } from '#storage/tables.ts';

export type Signal = 'traces' | 'logs' | 'metrics';

export type Attrs = Record<string, string>;

export interface SpanRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  /** `Unspecified` | `Internal` | `Server` | `Client` | `Producer` | `Consumer` */
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Attrs;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Attrs;
  /** End minus start, nanoseconds. */
  Duration: string;
  /** `Unset` | `Ok` | `Error` */
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Attrs[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Attrs[];
}

export interface LogRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  TraceFlags: number;
  SeverityText: string;
  SeverityNumber: number;
  ServiceName: string;
  Body: string;
  ResourceSchemaUrl: string;
  ResourceAttributes: Attrs;
  ScopeSchemaUrl: string;
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: Attrs;
  LogAttributes: Attrs;
  EventName: string;
}

/** Columns every otel_metrics_* table shares. */
export interface MetricRowBase {
  ResourceAttributes: Attrs;
  ResourceSchemaUrl: string;
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: Attrs;
  ScopeDroppedAttrCount: number;
  ScopeSchemaUrl: string;
  ServiceName: string;
  MetricName: string;
  MetricDescription: string;
  MetricUnit: string;
  Attributes: Attrs;
  StartTimeUnix: string;
  TimeUnix: string;
  'Exemplars.FilteredAttributes': Attrs[];
  'Exemplars.TimeUnix': string[];
  'Exemplars.Value': number[];
  'Exemplars.SpanId': string[];
  'Exemplars.TraceId': string[];
}

export interface GaugeRow extends MetricRowBase {
  Value: number;
  Flags: number;
}

export interface SumRow extends GaugeRow {
  AggregationTemporality: number;
  IsMonotonic: boolean;
}

export interface HistogramRow extends MetricRowBase {
  Count: string;
  Sum: number;
  BucketCounts: string[];
  ExplicitBounds: number[];
  Flags: number;
  Min: number;
  Max: number;
  AggregationTemporality: number;
}

export interface ExponentialHistogramRow extends MetricRowBase {
  Count: string;
  Sum: number;
  Scale: number;
  ZeroCount: string;
  PositiveOffset: number;
  PositiveBucketCounts: string[];
  NegativeOffset: number;
  NegativeBucketCounts: string[];
  Flags: number;
  Min: number;
  Max: number;
  AggregationTemporality: number;
}

export interface SummaryRow extends Omit<MetricRowBase, `Exemplars.${string}`> {
  Count: string;
  Sum: number;
  'ValueAtQuantiles.Quantile': number[];
  'ValueAtQuantiles.Value': number[];
  Flags: number;
}

/** Rows per destination table, keyed by the table registry's names. */
export interface TableRows {
  [TABLES.traces.name]: SpanRow;
  [TABLES.logs.name]: LogRow;
  [TABLES.metricsGauge.name]: GaugeRow;
  [TABLES.metricsSum.name]: SumRow;
  [TABLES.metricsHistogram.name]: HistogramRow;
  [TABLES.metricsExponentialHistogram.name]: ExponentialHistogramRow;
  [TABLES.metricsSummary.name]: SummaryRow;
}

export type TableName = keyof TableRows;

/** What the OTLP partial-success response reports of one request. */
export interface RequestCounts {
  signal: Signal;
  /** Spans, log records or metric data points accepted. */
  accepted: number;
  /** Items dropped because they cannot be stored (reported as `rejected_*` in the partial-success response). */
  rejected: number;
  /** Why items were rejected; empty when none were. */
  rejectMessage: string;
}

/** One decoded OTLP export request: rows per table plus its counts. */
export interface DecodedRequest extends RequestCounts {
  /** Rows per destination table; a table without rows may be absent. */
  tables: { [T in TableName]?: TableRows[T][] };
}
