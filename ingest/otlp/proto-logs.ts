/**
 * ExportLogsServiceRequest (protobuf) → otel_logs rows.
 *
 * Field numbers (opentelemetry-proto collector/logs/v1/logs_service.proto, logs/v1/logs.proto):
 *   ExportLogsServiceRequest: resource_logs 1.
 *   ResourceLogs: resource 1, scope_logs 2, schema_url 3.   ScopeLogs: scope 1, log_records 2, schema_url 3.
 *   LogRecord: time_unix_nano 1 (fixed64), observed_time_unix_nano 11 (fixed64), severity_number 2, severity_text 3,
 *              body 5, attributes 6, dropped_attributes_count 7, flags 8 (fixed32), trace_id 9, span_id 10,
 *              event_name 12 (4 is reserved).
 */
import { within } from './errors.ts';
import { TRACE_FLAGS_MASK } from './mapping.ts';
import {
  anyValueString,
  attributeInto,
  finishResource,
  newScope,
  resourceInto,
  scopeInto,
  type ResourceInfo,
  type ScopeInfo,
} from './proto-common.ts';
import type { Attrs, LogRow } from './rows.ts';
import { I32, I64, LEN, Reader, VARINT, fields, u64ToDecimal } from './wire.ts';

const REQUEST = fields({ 1: ['resourceLogs', LEN] });
const RESOURCE_LOGS = fields({ 1: ['resource', LEN], 2: ['scopeLogs', LEN], 3: ['schemaUrl', LEN] });
const SCOPE_LOGS = fields({ 1: ['scope', LEN], 2: ['logRecords', LEN], 3: ['schemaUrl', LEN] });
const LOG_RECORD = fields({
  1: ['timeUnixNano', I64],
  2: ['severityNumber', VARINT],
  3: ['severityText', LEN],
  5: ['body', LEN],
  6: ['attributes', LEN],
  7: ['droppedAttributesCount', VARINT],
  8: ['flags', I32],
  9: ['traceId', LEN],
  10: ['spanId', LEN],
  11: ['observedTimeUnixNano', I64],
  12: ['eventName', LEN],
});

export function decodeLogsProto(body: Uint8Array, validateOnly = false): LogRow[] {
  const r = new Reader(body, validateOnly);
  const end = body.length;
  const rows: LogRow[] = [];
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        resourceLogs(r, e, rows);
      } catch (err) {
        throw within(err, `resourceLogs[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, REQUEST);
  }
  r.close(end);
  return rows;
}

function resourceLogs(r: Reader, end: number, rows: LogRow[]): void {
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
    else r.unknown(tag, end, RESOURCE_LOGS);
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
        scopeLogs(r, e, resource, schemaUrl, rows);
      } catch (err) {
        throw within(err, `scopeLogs[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function scopeLogs(r: Reader, end: number, resource: ResourceInfo, resourceSchemaUrl: string, rows: LogRow[]): void {
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
    else r.unknown(tag, end, SCOPE_LOGS);
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
        rows.push(logRecord(r, e, resource, resourceSchemaUrl, scope, schemaUrl));
      } catch (err) {
        throw within(err, `logRecords[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function logRecord(
  r: Reader,
  end: number,
  resource: ResourceInfo,
  resourceSchemaUrl: string,
  scope: ScopeInfo,
  scopeSchemaUrl: string,
): LogRow {
  let timeLo = 0;
  let timeHi = 0;
  let observedLo = 0;
  let observedHi = 0;
  let severityNumber = 0;
  let severityText = '';
  let body = '';
  const attrs: Attrs = {};
  let attrCount = 0;
  let flags = 0;
  let traceId = '';
  let spanId = '';
  let eventName = '';
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 9:
        r.fixed64();
        timeLo = r.lo;
        timeHi = r.hi;
        break;
      case 16:
        severityNumber = r.i32();
        break;
      case 26:
        severityText = r.string(end);
        break;
      case 42: {
        const e = r.lenEnd(end);
        try {
          body = anyValueString(r, e);
        } catch (err) {
          throw within(err, 'body');
        }
        break;
      }
      case 50:
        attributeInto(r, end, attrs, 'attributes', attrCount++);
        break;
      case 69:
        flags = r.fixed32();
        break;
      case 74:
        traceId = r.id(end, 16, 'traceId');
        break;
      case 82:
        spanId = r.id(end, 8, 'spanId');
        break;
      case 89:
        r.fixed64();
        observedLo = r.lo;
        observedHi = r.hi;
        break;
      case 98:
        eventName = r.string(end);
        break;
      default:
        r.unknown(tag, end, LOG_RECORD);
    }
  }
  r.close(end);
  // The exporter falls back to the observed time when the record has no time of its own.
  const useObserved = timeLo === 0 && timeHi === 0;
  return {
    Timestamp: useObserved ? u64ToDecimal(observedLo, observedHi) : u64ToDecimal(timeLo, timeHi),
    TraceId: traceId,
    SpanId: spanId,
    TraceFlags: flags & TRACE_FLAGS_MASK,
    SeverityText: severityText,
    SeverityNumber: severityNumber,
    ServiceName: resource.serviceName,
    Body: body,
    ResourceSchemaUrl: resourceSchemaUrl,
    ResourceAttributes: resource.attrs,
    ScopeSchemaUrl: scopeSchemaUrl,
    ScopeName: scope.name,
    ScopeVersion: scope.version,
    ScopeAttributes: scope.attrs,
    LogAttributes: attrs,
    EventName: eventName,
  };
}
