/**
 * ExportLogsServiceRequest (protobuf) → otel_logs rows (field numbers in descriptor.ts).
 */
import { LogRecord, SIGNALS, known, tags } from './descriptor.ts';
import { within } from './errors.ts';
import { anyValueString, attributeInto } from './proto-common.ts';
import { protoLevels, walkProto } from './proto-walk.ts';
import { logRow, type ResourceInfo, type ScopeInfo } from './row-builders.ts';
import type { Attrs, LogRow } from './rows.ts';
import { type Reader, u64ToDecimal } from './wire.ts';

// Tags and known fields, derived once into this module's constants (see descriptor.ts on why local).
const LEVELS = protoLevels(SIGNALS.logs);
const LOG_RECORD = tags(LogRecord);
const LOG_RECORD_KNOWN = known(LogRecord);

export function decodeLogsProto(body: Uint8Array, validateOnly = false): LogRow[] {
  return walkProto(body, validateOnly, LEVELS, logItem, []);
}

function logItem(r: Reader, end: number, resource: ResourceInfo, scope: ScopeInfo, rows: LogRow[]): void {
  rows.push(logRecord(r, end, resource, scope));
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
