/** ExportLogsServiceRequest (OTLP/JSON) → otel_logs rows, the same rows as proto-logs.ts. */
import { SIGNALS } from './descriptor.ts';
import { within } from './errors.ts';
import {
  anyValueString,
  attributes,
  get,
  id,
  int32,
  int64,
  str,
  uint32,
  type Obj,
} from './json-common.ts';
import { jsonLevels, walkJson } from './json-walk.ts';
import { SEVERITY_NUMBER_ENUM } from './mapping.ts';
import { logRow, type ResourceInfo, type ScopeInfo } from './row-builders.ts';
import type { LogRow } from './rows.ts';

const LEVELS = jsonLevels(SIGNALS.logs);

export function decodeLogsJson(request: Obj): LogRow[] {
  return walkJson(request, LEVELS, logItem, []);
}

function logItem(l: Obj, res: ResourceInfo, sc: ScopeInfo, rows: LogRow[]): void {
  rows.push(logRecord(l, res, sc));
}

function logRecord(l: Obj, res: ResourceInfo, sc: ScopeInfo): LogRow {
  const time = int64(l, 'timeUnixNano', 'time_unix_nano', false);
  const observed = int64(l, 'observedTimeUnixNano', 'observed_time_unix_nano', false);
  uint32(l, 'droppedAttributesCount', 'dropped_attributes_count');
  let body: string;
  try {
    body = anyValueString(get(l, 'body'));
  } catch (err) {
    throw within(err, 'body');
  }
  // Arguments in parameter order are also the order fields are checked in: the first invalid one is reported.
  return logRow(
    res,
    sc,
    // The exporter falls back to the observed time when the record has no time of its own.
    time === '0' ? observed : time,
    id(l, 'traceId', 'trace_id', 16),
    id(l, 'spanId', 'span_id', 8),
    uint32(l, 'flags'),
    str(l, 'severityText', 'severity_text'),
    int32(l, 'severityNumber', 'severity_number', SEVERITY_NUMBER_ENUM),
    body,
    attributes(l, 'attributes'),
    str(l, 'eventName', 'event_name'),
  );
}
