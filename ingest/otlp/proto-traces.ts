/**
 * ExportTraceServiceRequest (protobuf) → otel_traces rows.
 *
 * Field numbers (opentelemetry-proto collector/trace/v1/trace_service.proto, trace/v1/trace.proto):
 *   ExportTraceServiceRequest: resource_spans 1.
 *   ResourceSpans: resource 1, scope_spans 2, schema_url 3.   ScopeSpans: scope 1, spans 2, schema_url 3.
 *   Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6, start_time_unix_nano 7 (fixed64),
 *         end_time_unix_nano 8 (fixed64), attributes 9, dropped_attributes_count 10, events 11,
 *         dropped_events_count 12, links 13, dropped_links_count 14, status 15, flags 16 (fixed32).
 *   Span.Event: time_unix_nano 1 (fixed64), name 2, attributes 3, dropped_attributes_count 4.
 *   Span.Link: trace_id 1, span_id 2, trace_state 3, attributes 4, dropped_attributes_count 5, flags 6 (fixed32).
 *   Status: message 2, code 3 (1 is reserved).
 */
import { within } from './errors.ts';
import { spanKindName, statusCodeName } from './mapping.ts';
import {
  attributeInto,
  finishResource,
  newScope,
  resourceInto,
  scopeInto,
  type ResourceInfo,
  type ScopeInfo,
} from './proto-common.ts';
import type { Attrs, SpanRow } from './rows.ts';
import { I32, I64, LEN, Reader, VARINT, fields, u64DiffToDecimal, u64ToDecimal } from './wire.ts';

const REQUEST = fields({ 1: ['resourceSpans', LEN] });
const RESOURCE_SPANS = fields({ 1: ['resource', LEN], 2: ['scopeSpans', LEN], 3: ['schemaUrl', LEN] });
const SCOPE_SPANS = fields({ 1: ['scope', LEN], 2: ['spans', LEN], 3: ['schemaUrl', LEN] });
const SPAN = fields({
  1: ['traceId', LEN],
  2: ['spanId', LEN],
  3: ['traceState', LEN],
  4: ['parentSpanId', LEN],
  5: ['name', LEN],
  6: ['kind', VARINT],
  7: ['startTimeUnixNano', I64],
  8: ['endTimeUnixNano', I64],
  9: ['attributes', LEN],
  10: ['droppedAttributesCount', VARINT],
  11: ['events', LEN],
  12: ['droppedEventsCount', VARINT],
  13: ['links', LEN],
  14: ['droppedLinksCount', VARINT],
  15: ['status', LEN],
  16: ['flags', I32],
});
const EVENT = fields({ 1: ['timeUnixNano', I64], 2: ['name', LEN], 3: ['attributes', LEN], 4: ['droppedAttributesCount', VARINT] });
const LINK = fields({
  1: ['traceId', LEN],
  2: ['spanId', LEN],
  3: ['traceState', LEN],
  4: ['attributes', LEN],
  5: ['droppedAttributesCount', VARINT],
  6: ['flags', I32],
});
const STATUS = fields({ 2: ['message', LEN], 3: ['code', VARINT] });

/** The arrays of spans without events or links: shared, so frozen (a row is not meant to be modified anyway). */
const NONE = Object.freeze([]) as unknown as never[];

export function decodeTracesProto(body: Uint8Array, validateOnly = false): SpanRow[] {
  const r = new Reader(body, validateOnly);
  const end = body.length;
  const rows: SpanRow[] = [];
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        resourceSpans(r, e, rows);
      } catch (err) {
        throw within(err, `resourceSpans[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, REQUEST);
  }
  r.close(end);
  return rows;
}

function resourceSpans(r: Reader, end: number, rows: SpanRow[]): void {
  // Fields may come in any order, but every row needs the resource: find it first, then decode the scopes.
  const start = r.pos;
  const attrs: Attrs = {};
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        resourceInto(r, e, attrs);
      } catch (err) {
        throw within(err, 'resource');
      }
    } else r.unknown(tag, end, RESOURCE_SPANS);
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
        scopeSpans(r, e, resource, rows);
      } catch (err) {
        throw within(err, `scopeSpans[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function scopeSpans(r: Reader, end: number, resource: ResourceInfo, rows: SpanRow[]): void {
  const start = r.pos;
  const scope = newScope();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) {
      const e = r.lenEnd(end);
      try {
        scopeInto(r, e, scope);
      } catch (err) {
        throw within(err, 'scope');
      }
    } else r.unknown(tag, end, SCOPE_SPANS);
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
        rows.push(span(r, e, resource, scope));
      } catch (err) {
        throw within(err, `spans[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

function span(r: Reader, end: number, resource: ResourceInfo, scope: ScopeInfo): SpanRow {
  let traceId = '';
  let spanId = '';
  let traceState = '';
  let parentSpanId = '';
  let name = '';
  let kind = 0;
  let startLo = 0;
  let startHi = 0;
  let endLo = 0;
  let endHi = 0;
  const attrs: Attrs = {};
  let attrCount = 0;
  // Most spans have no events or links: they share one frozen empty array instead of allocating seven.
  let eventTimes: string[] = NONE;
  let eventNames: string[] = NONE;
  let eventAttrs: Attrs[] = NONE;
  let linkTraceIds: string[] = NONE;
  let linkSpanIds: string[] = NONE;
  let linkStates: string[] = NONE;
  let linkAttrs: Attrs[] = NONE;
  let statusCode = 0;
  let statusMessage = '';

  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 10:
        traceId = r.id(end, 16, 'traceId');
        break;
      case 18:
        spanId = r.id(end, 8, 'spanId');
        break;
      case 26:
        traceState = r.string(end);
        break;
      case 34:
        parentSpanId = r.id(end, 8, 'parentSpanId');
        break;
      case 42:
        name = r.string(end);
        break;
      case 48:
        kind = r.i32();
        break;
      case 57:
        r.fixed64();
        startLo = r.lo;
        startHi = r.hi;
        break;
      case 65:
        r.fixed64();
        endLo = r.lo;
        endHi = r.hi;
        break;
      case 74:
        attributeInto(r, end, attrs, 'attributes', attrCount++);
        break;
      case 90: {
        const e = r.lenEnd(end);
        if (eventNames === NONE) {
          eventTimes = [];
          eventNames = [];
          eventAttrs = [];
        }
        try {
          event(r, e, eventTimes, eventNames, eventAttrs);
        } catch (err) {
          throw within(err, `events[${eventNames.length}]`);
        }
        break;
      }
      case 106: {
        const e = r.lenEnd(end);
        if (linkTraceIds === NONE) {
          linkTraceIds = [];
          linkSpanIds = [];
          linkStates = [];
          linkAttrs = [];
        }
        try {
          link(r, e, linkTraceIds, linkSpanIds, linkStates, linkAttrs);
        } catch (err) {
          throw within(err, `links[${linkTraceIds.length}]`);
        }
        break;
      }
      case 122: {
        // A repeated `status` merges field by field, which reassigning the two locals does.
        const e = r.lenEnd(end);
        try {
          while (r.pos < e) {
            const t = r.tag();
            if (t === 18) statusMessage = r.string(e);
            else if (t === 24) statusCode = r.i32();
            else r.unknown(t, e, STATUS);
          }
          r.close(e);
        } catch (err) {
          throw within(err, 'status');
        }
        break;
      }
      default:
        r.unknown(tag, end, SPAN);
    }
  }
  r.close(end);

  return {
    Timestamp: u64ToDecimal(startLo, startHi),
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
    Duration: u64DiffToDecimal(endLo, endHi, startLo, startHi),
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

function event(r: Reader, end: number, times: string[], names: string[], attrsOut: Attrs[]): void {
  let lo = 0;
  let hi = 0;
  let name = '';
  const attrs: Attrs = {};
  let n = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 9) {
      r.fixed64();
      lo = r.lo;
      hi = r.hi;
    } else if (tag === 18) name = r.string(end);
    else if (tag === 26) attributeInto(r, end, attrs, 'attributes', n++);
    else r.unknown(tag, end, EVENT);
  }
  r.close(end);
  times.push(u64ToDecimal(lo, hi));
  names.push(name);
  attrsOut.push(attrs);
}

function link(r: Reader, end: number, traceIds: string[], spanIds: string[], states: string[], attrsOut: Attrs[]): void {
  let traceId = '';
  let spanId = '';
  let state = '';
  const attrs: Attrs = {};
  let n = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 10) traceId = r.id(end, 16, 'traceId');
    else if (tag === 18) spanId = r.id(end, 8, 'spanId');
    else if (tag === 26) state = r.string(end);
    else if (tag === 34) attributeInto(r, end, attrs, 'attributes', n++);
    else r.unknown(tag, end, LINK);
  }
  r.close(end);
  traceIds.push(traceId);
  spanIds.push(spanId);
  states.push(state);
  attrsOut.push(attrs);
}
