/**
 * OTLP request decoding, the hot path of ingest: ExportTrace/Logs/MetricsServiceRequest bodies, protobuf or OTLP/JSON,
 * straight into the rows of the OpenTelemetry Collector ClickHouse exporter's tables (see rows.ts).
 *
 * Both entry points either return the complete result or throw an OtlpDecodeError saying what is wrong and where
 * (e.g. `resourceSpans[0].scopeSpans[1].spans[3].traceId: must be 16 bytes, got 3`); they never return part of a
 * request. Unknown protobuf fields and unknown JSON keys are skipped, for forward compatibility. Metrics whose `data`
 * is absent cannot be stored: they are counted in `rejected` (OTLP partial success) instead of failing the request.
 */
import { OtlpDecodeError } from './errors.ts';
import { decodeLogsJson } from './json-logs.ts';
import { decodeMetricsJson } from './json-metrics.ts';
import { isObj, typeName } from './json-common.ts';
import { NeedExactNumbers, parseExact, parseFast } from './json-parse.ts';
import { decodeTracesJson } from './json-traces.ts';
import { decodeLogsProto } from './proto-logs.ts';
import { decodeMetricsProto, type MetricTables } from './proto-metrics.ts';
import { decodeTracesProto } from './proto-traces.ts';
import type { DecodedRequest, LogRow, RequestCounts, Signal, SpanRow } from './rows.ts';

export { OtlpDecodeError } from './errors.ts';

/** Decodes an Export{Trace,Logs,Metrics}ServiceRequest in the protobuf encoding. */
export function decodeProtobuf(signal: Signal, body: Uint8Array): DecodedRequest {
  switch (signal) {
    case 'traces':
      return tracesResult(decodeTracesProto(body));
    case 'logs':
      return logsResult(decodeLogsProto(body));
    case 'metrics':
      return metricsResult(decodeMetricsProto(body));
    default:
      return unknownSignal(signal);
  }
}

/**
 * Checks an Export{Trace,Logs,Metrics}ServiceRequest in the protobuf encoding exactly as `decodeProtobuf` does (the
 * same code runs, so it rejects the same requests with the same errors) and counts its items, without building rows:
 * for callers that forward the bytes. Traces and logs skip materializing strings and ids, half of their decode;
 * metrics decode fully, because the partial-success message names the metrics it rejects.
 */
export function validateProtobuf(signal: Signal, body: Uint8Array): RequestCounts {
  switch (signal) {
    case 'traces':
      return { signal, accepted: decodeTracesProto(body, true).length, rejected: 0, rejectMessage: '' };
    case 'logs':
      return { signal, accepted: decodeLogsProto(body, true).length, rejected: 0, rejectMessage: '' };
    case 'metrics': {
      const { accepted, rejected, rejectMessage } = metricsResult(decodeMetricsProto(body));
      return { signal, accepted, rejected, rejectMessage };
    }
    default:
      return unknownSignal(signal);
  }
}

const utf8 = new TextDecoder('utf-8');

/** Decodes an Export{Trace,Logs,Metrics}ServiceRequest in the OTLP/JSON encoding. */
export function decodeJson(signal: Signal, body: string | Uint8Array): DecodedRequest {
  const text = typeof body === 'string' ? body : utf8.decode(body);
  try {
    return decodeDocument(signal, parseFast(text));
  } catch (err) {
    // A 64-bit integer sent as a JSON number beyond 2^53: JSON.parse rounded it, so parse again keeping it exact.
    if (err !== NeedExactNumbers.instance) throw err;
  }
  return decodeDocument(signal, parseExact(text));
}

function decodeDocument(signal: Signal, doc: unknown): DecodedRequest {
  if (!isObj(doc)) throw new OtlpDecodeError('', `the request must be a JSON object, got ${typeName(doc)}`);
  const request = doc;
  switch (signal) {
    case 'traces':
      return tracesResult(decodeTracesJson(request));
    case 'logs':
      return logsResult(decodeLogsJson(request));
    case 'metrics':
      return metricsResult(decodeMetricsJson(request));
    default:
      return unknownSignal(signal);
  }
}

function unknownSignal(signal: never): never {
  throw new OtlpDecodeError('', `unknown signal ${JSON.stringify(signal)}`);
}

function tracesResult(rows: SpanRow[]): DecodedRequest {
  return {
    signal: 'traces',
    tables: rows.length > 0 ? { otel_traces: rows } : {},
    accepted: rows.length,
    rejected: 0,
    rejectMessage: '',
  };
}

function logsResult(rows: LogRow[]): DecodedRequest {
  return {
    signal: 'logs',
    tables: rows.length > 0 ? { otel_logs: rows } : {},
    accepted: rows.length,
    rejected: 0,
    rejectMessage: '',
  };
}

function metricsResult(t: MetricTables): DecodedRequest {
  const tables: DecodedRequest['tables'] = {};
  if (t.gauge.length > 0) tables.otel_metrics_gauge = t.gauge;
  if (t.sum.length > 0) tables.otel_metrics_sum = t.sum;
  if (t.histogram.length > 0) tables.otel_metrics_histogram = t.histogram;
  if (t.exponentialHistogram.length > 0) tables.otel_metrics_exponential_histogram = t.exponentialHistogram;
  if (t.summary.length > 0) tables.otel_metrics_summary = t.summary;
  return {
    signal: 'metrics',
    tables,
    accepted: t.gauge.length + t.sum.length + t.histogram.length + t.exponentialHistogram.length + t.summary.length,
    rejected: t.rejections.count,
    rejectMessage: t.rejections.message(),
  };
}
