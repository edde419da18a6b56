/**
 * ExportLogsServiceRequest (protobuf) → otel_logs rows (field numbers in descriptor.ts).
 */
import { ExportLogsServiceRequest, LogRecord, ResourceLogs, ScopeLogs, known, tags } from './descriptor.ts';
import { within } from './errors.ts';
import { anyValueString, attributeInto, resourceInto, scopeInto } from './proto-common.ts';
import { logRow, newScope, resourceInfo, type ResourceInfo, type ScopeInfo } from './row-builders.ts';
import type { Attrs, LogRow } from './rows.ts';
import { Reader, u64ToDecimal } from './wire.ts';

// Tags and known fields, derived once into this module's constants (see descriptor.ts on why local).
const REQUEST = tags(ExportLogsServiceRequest);
const REQUEST_KNOWN = known(ExportLogsServiceRequest);
const RESOURCE_LOGS = tags(ResourceLogs);
const RESOURCE_LOGS_KNOWN = known(ResourceLogs);
const SCOPE_LOGS = tags(ScopeLogs);
const SCOPE_LOGS_KNOWN = known(ScopeLogs);
const LOG_RECORD = tags(LogRecord);
const LOG_RECORD_KNOWN = known(LogRecord);

export function decodeLogsProto(body: Uint8Array, validateOnly = false): LogRow[] {
  const r = new Reader(body, validateOnly);
  const end = body.length;
  const rows: LogRow[] = [];
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === REQUEST.resourceLogs) {
      const e = r.lenEnd(end);
      try {
        resourceLogs(r, e, rows);
      } catch (err) {
        throw within(err, `resourceLogs[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, REQUEST_KNOWN);
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
    if (tag === RESOURCE_LOGS.resource) {
      const e = r.lenEnd(end);
      try {
        resourceInto(r, e, attrs);
      } catch (err) {
        throw within(err, 'resource');
      }
    } else if (tag === RESOURCE_LOGS.schemaUrl) schemaUrl = r.string(end);
    else r.unknown(tag, end, RESOURCE_LOGS_KNOWN);
  }
  r.close(end);
  const resource = resourceInfo(attrs, schemaUrl);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === RESOURCE_LOGS.scopeLogs) {
      const e = r.lenEnd(end);
      try {
        scopeLogs(r, e, resource, rows);
      } catch (err) {
        throw within(err, `scopeLogs[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function scopeLogs(r: Reader, end: number, resource: ResourceInfo, rows: LogRow[]): void {
  const start = r.pos;
  const scope = newScope();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === SCOPE_LOGS.scope) {
      const e = r.lenEnd(end);
      try {
        scopeInto(r, e, scope);
      } catch (err) {
        throw within(err, 'scope');
      }
    } else if (tag === SCOPE_LOGS.schemaUrl) scope.schemaUrl = r.string(end);
    else r.unknown(tag, end, SCOPE_LOGS_KNOWN);
  }
  r.close(end);
  Object.freeze(scope.attrs);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === SCOPE_LOGS.logRecords) {
      const e = r.lenEnd(end);
      try {
        rows.push(logRecord(r, e, resource, scope));
      } catch (err) {
        throw within(err, `logRecords[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function logRecord(r: Reader, end: number, resource: ResourceInfo, scope: ScopeInfo): LogRow {
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
      case LOG_RECORD.timeUnixNano:
        r.fixed64();
        timeLo = r.lo;
        timeHi = r.hi;
        break;
      case LOG_RECORD.severityNumber:
        severityNumber = r.i32();
        break;
      case LOG_RECORD.severityText:
        severityText = r.string(end);
        break;
      case LOG_RECORD.body: {
        const e = r.lenEnd(end);
        try {
          body = anyValueString(r, e);
        } catch (err) {
          throw within(err, 'body');
        }
        break;
      }
      case LOG_RECORD.attributes:
        attributeInto(r, end, attrs, 'attributes', attrCount++);
        break;
      case LOG_RECORD.flags:
        flags = r.fixed32();
        break;
      case LOG_RECORD.traceId:
        traceId = r.id(end, 16, 'traceId');
        break;
      case LOG_RECORD.spanId:
        spanId = r.id(end, 8, 'spanId');
        break;
      case LOG_RECORD.observedTimeUnixNano:
        r.fixed64();
        observedLo = r.lo;
        observedHi = r.hi;
        break;
      case LOG_RECORD.eventName:
        eventName = r.string(end);
        break;
      default:
        r.unknown(tag, end, LOG_RECORD_KNOWN);
    }
  }
  r.close(end);
  // The exporter falls back to the observed time when the record has no time of its own.
  const useObserved = timeLo === 0 && timeHi === 0;
  return logRow(
    resource,
    scope,
    useObserved ? u64ToDecimal(observedLo, observedHi) : u64ToDecimal(timeLo, timeHi),
    traceId,
    spanId,
    flags,
    severityText,
    severityNumber,
    body,
    attrs,
    eventName,
  );
}
