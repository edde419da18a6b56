/** ExportLogsServiceRequest (OTLP/JSON) → otel_logs rows, the same rows as proto-logs.ts. */
import { within } from './errors.ts';
import {
  anyValueString,
  attributes,
  element,
  get,
  id,
  int32,
  int64,
  list,
  resource,
  scope,
  str,
  uint32,
  type Obj,
} from './json-common.ts';
import { SEVERITY_NUMBER_ENUM } from './mapping.ts';
import { logRow, type ResourceInfo, type ScopeInfo } from './row-builders.ts';
import type { LogRow } from './rows.ts';

export function decodeLogsJson(request: Obj): LogRow[] {
  const rows: LogRow[] = [];
  const resourceLogs = list(request, 'resourceLogs', 'resource_logs');
  for (let i = 0; i < resourceLogs.length; i++) {
    try {
      const rl = element(resourceLogs[i]);
      const res = resource(rl);
      const scopeLogs = list(rl, 'scopeLogs', 'scope_logs');
      for (let j = 0; j < scopeLogs.length; j++) {
        try {
          const sl = element(scopeLogs[j]);
          const sc = scope(sl);
          const records = list(sl, 'logRecords', 'log_records');
          for (let k = 0; k < records.length; k++) {
            try {
              rows.push(logRecord(element(records[k]), res, sc));
            } catch (err) {
              throw within(err, `logRecords[${k}]`);
            }
          }
        } catch (err) {
          throw within(err, `scopeLogs[${j}]`);
        }
      }
    } catch (err) {
      throw within(err, `resourceLogs[${i}]`);
    }
  }
  return rows;
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
