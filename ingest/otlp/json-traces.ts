/** ExportTraceServiceRequest (OTLP/JSON) → otel_traces rows, the same rows as proto-traces.ts. */
import { within } from './errors.ts';
import {
  attributes,
  element,
  id,
  int32,
  int64,
  list,
  message,
  resource,
  scope,
  str,
  uint32,
  type Obj,
} from './json-common.ts';
import { SPAN_KIND_ENUM, STATUS_CODE_ENUM, spanKindName, statusCodeName } from './mapping.ts';
import type { ResourceInfo, ScopeInfo } from './proto-common.ts';
import type { Attrs, SpanRow } from './rows.ts';

export function decodeTracesJson(request: Obj): SpanRow[] {
  const rows: SpanRow[] = [];
  const resourceSpans = list(request, 'resourceSpans', 'resource_spans');
  for (let i = 0; i < resourceSpans.length; i++) {
    try {
      const rs = element(resourceSpans[i]);
      const res = resource(rs);
      str(rs, 'schemaUrl', 'schema_url');
      const scopeSpans = list(rs, 'scopeSpans', 'scope_spans');
      for (let j = 0; j < scopeSpans.length; j++) {
        try {
          const ss = element(scopeSpans[j]);
          const sc = scope(ss);
          str(ss, 'schemaUrl', 'schema_url');
          const spans = list(ss, 'spans');
          for (let k = 0; k < spans.length; k++) {
            try {
              rows.push(span(element(spans[k]), res, sc));
            } catch (err) {
              throw within(err, `spans[${k}]`);
            }
          }
        } catch (err) {
          throw within(err, `scopeSpans[${j}]`);
        }
      }
    } catch (err) {
      throw within(err, `resourceSpans[${i}]`);
    }
  }
  return rows;
}

function span(s: Obj, res: ResourceInfo, sc: ScopeInfo): SpanRow {
  const start = int64(s, 'startTimeUnixNano', 'start_time_unix_nano', false);
  const end = int64(s, 'endTimeUnixNano', 'end_time_unix_nano', false);
  uint32(s, 'flags');
  uint32(s, 'droppedAttributesCount', 'dropped_attributes_count');
  uint32(s, 'droppedEventsCount', 'dropped_events_count');
  uint32(s, 'droppedLinksCount', 'dropped_links_count');

  const eventTimes: string[] = [];
  const eventNames: string[] = [];
  const eventAttrs: Attrs[] = [];
  const events = list(s, 'events');
  for (let i = 0; i < events.length; i++) {
    try {
      const e = element(events[i]);
      eventTimes.push(int64(e, 'timeUnixNano', 'time_unix_nano', false));
      eventNames.push(str(e, 'name'));
      eventAttrs.push(attributes(e, 'attributes'));
      uint32(e, 'droppedAttributesCount', 'dropped_attributes_count');
    } catch (err) {
      throw within(err, `events[${i}]`);
    }
  }

  const linkTraceIds: string[] = [];
  const linkSpanIds: string[] = [];
  const linkStates: string[] = [];
  const linkAttrs: Attrs[] = [];
  const links = list(s, 'links');
  for (let i = 0; i < links.length; i++) {
    try {
      const l = element(links[i]);
      linkTraceIds.push(id(l, 'traceId', 'trace_id', 16));
      linkSpanIds.push(id(l, 'spanId', 'span_id', 8));
      linkStates.push(str(l, 'traceState', 'trace_state'));
      linkAttrs.push(attributes(l, 'attributes'));
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

  return {
    Timestamp: start,
    TraceId: id(s, 'traceId', 'trace_id', 16),
    SpanId: id(s, 'spanId', 'span_id', 8),
    ParentSpanId: id(s, 'parentSpanId', 'parent_span_id', 8),
    TraceState: str(s, 'traceState', 'trace_state'),
    SpanName: str(s, 'name'),
    SpanKind: spanKindName(int32(s, 'kind', undefined, SPAN_KIND_ENUM)),
    ServiceName: res.serviceName,
    ResourceAttributes: res.attrs,
    ScopeName: sc.name,
    ScopeVersion: sc.version,
    SpanAttributes: attributes(s, 'attributes'),
    Duration: decimalDiff(end, start),
    StatusCode: statusCodeName(statusCode),
    StatusMessage: statusMessage,
    'Events.Timestamp': eventTimes,
    'Events.Name': eventNames,
    'Events.Attributes': eventAttrs,
    'Links.TraceId': linkTraceIds,
    'Links.SpanId': linkSpanIds,
    'Links.TraceState': linkStates,
    'Links.Attributes': linkAttrs,
  };
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
