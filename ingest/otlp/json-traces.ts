/** ExportTraceServiceRequest (OTLP/JSON) → otel_traces rows, the same rows as proto-traces.ts. */
import { SIGNALS } from './descriptor.ts';
import { within } from './errors.ts';
import {
  attributes,
  element,
  id,
  int32,
  int64,
  list,
  message,
  str,
  uint32,
  type Obj,
} from './json-common.ts';
import { jsonLevels, walkJson } from './json-walk.ts';
import { SPAN_KIND_ENUM, STATUS_CODE_ENUM } from './mapping.ts';
import {
  NO_EVENTS,
  NO_LINKS,
  newEvents,
  newLinks,
  spanRow,
  type ResourceInfo,
  type ScopeInfo,
} from './row-builders.ts';
import type { SpanRow } from './rows.ts';

const LEVELS = jsonLevels(SIGNALS.traces);

export function decodeTracesJson(request: Obj): SpanRow[] {
  return walkJson(request, LEVELS, spanItem, []);
}

function spanItem(s: Obj, res: ResourceInfo, sc: ScopeInfo, rows: SpanRow[]): void {
  rows.push(span(s, res, sc));
}

function span(s: Obj, res: ResourceInfo, sc: ScopeInfo): SpanRow {
  const start = int64(s, 'startTimeUnixNano', 'start_time_unix_nano', false);
  const end = int64(s, 'endTimeUnixNano', 'end_time_unix_nano', false);
  uint32(s, 'flags');
  uint32(s, 'droppedAttributesCount', 'dropped_attributes_count');
  uint32(s, 'droppedEventsCount', 'dropped_events_count');
  uint32(s, 'droppedLinksCount', 'dropped_links_count');

  const eventList = list(s, 'events');
  const events = eventList.length === 0 ? NO_EVENTS : newEvents();
  for (let i = 0; i < eventList.length; i++) {
    try {
      const e = element(eventList[i]);
      events.times.push(int64(e, 'timeUnixNano', 'time_unix_nano', false));
      events.names.push(str(e, 'name'));
      events.attrs.push(attributes(e, 'attributes'));
      uint32(e, 'droppedAttributesCount', 'dropped_attributes_count');
    } catch (err) {
      throw within(err, `events[${i}]`);
    }
  }

  const linkList = list(s, 'links');
  const links = linkList.length === 0 ? NO_LINKS : newLinks();
  for (let i = 0; i < linkList.length; i++) {
    try {
      const l = element(linkList[i]);
      links.traceIds.push(id(l, 'traceId', 'trace_id', 16));
      links.spanIds.push(id(l, 'spanId', 'span_id', 8));
      links.states.push(str(l, 'traceState', 'trace_state'));
      links.attrs.push(attributes(l, 'attributes'));
      uint32(l, 'droppedAttributesCount', 'dropped_attributes_count');
      uint32(l, 'flags');
    } catch (err) {
      throw within(err, `links[${i}]`);
    }
  }

  let statusCode = 0;
  let statusMessage = '';
  const status = message(s, 'status');
  if (status !== undefined) {
    try {
      statusCode = int32(status, 'code', undefined, STATUS_CODE_ENUM);
      statusMessage = str(status, 'message');
    } catch (err) {
      throw within(err, 'status');
    }
  }

  // Arguments in parameter order are also the order fields are checked in: the first invalid one is reported.
  return spanRow(
    res,
    sc,
    start,
    id(s, 'traceId', 'trace_id', 16),
    id(s, 'spanId', 'span_id', 8),
    id(s, 'parentSpanId', 'parent_span_id', 8),
    str(s, 'traceState', 'trace_state'),
    str(s, 'name'),
    int32(s, 'kind', undefined, SPAN_KIND_ENUM),
    attributes(s, 'attributes'),
    decimalDiff(end, start),
    statusCode,
    statusMessage,
    events,
    links,
  );
}

/** `a - b` of two canonical non-negative decimal strings, `"0"` when a < b. */
export function decimalDiff(a: string, b: string): string {
  if (a.length < 16 && b.length < 16) {
    const d = Number(a) - Number(b);
    return d > 0 ? String(d) : '0';
  }
  if (a.length < b.length || (a.length === b.length && a <= b)) return '0';
  const bb = b.padStart(a.length, '0');
  let out = '';
  let borrow = 0;
  for (let i = a.length - 1; i >= 0; i--) {
    let d = a.charCodeAt(i) - bb.charCodeAt(i) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 10;
    out = String.fromCharCode(48 + d) + out;
  }
  return out.replace(/^0+(?=\d)/, '');
}
