/**
 * ExportTraceServiceRequest (protobuf) → otel_traces rows (field numbers in descriptor.ts).
 */
import { SIGNALS, Span, SpanEvent, SpanLink, Status, known, tags } from './descriptor.ts';
import { within } from './errors.ts';
import { attributeInto } from './proto-common.ts';
import { protoLevels, walkProto } from './proto-walk.ts';
import {
  NO_EVENTS,
  NO_LINKS,
  newEvents,
  newLinks,
  spanRow,
  type ResourceInfo,
  type ScopeInfo,
  type SpanEvents,
  type SpanLinks,
} from './row-builders.ts';
import type { Attrs, SpanRow } from './rows.ts';
import { type Reader, u64DiffToDecimal, u64ToDecimal } from './wire.ts';

// Tags and known fields, derived once into this module's constants (see descriptor.ts on why local).
const LEVELS = protoLevels(SIGNALS.traces);
const SPAN = tags(Span);
const SPAN_KNOWN = known(Span);
const EVENT = tags(SpanEvent);
const EVENT_KNOWN = known(SpanEvent);
const LINK = tags(SpanLink);
const LINK_KNOWN = known(SpanLink);
const STATUS = tags(Status);
const STATUS_KNOWN = known(Status);

export function decodeTracesProto(body: Uint8Array, validateOnly = false): SpanRow[] {
  return walkProto(body, validateOnly, LEVELS, spanItem, []);
}

function spanItem(r: Reader, end: number, resource: ResourceInfo, scope: ScopeInfo, rows: SpanRow[]): void {
  rows.push(span(r, end, resource, scope));
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
  let events = NO_EVENTS;
  let links = NO_LINKS;
  let statusCode = 0;
  let statusMessage = '';

  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case SPAN.traceId:
        traceId = r.id(end, 16, 'traceId');
        break;
      case SPAN.spanId:
        spanId = r.id(end, 8, 'spanId');
        break;
      case SPAN.traceState:
        traceState = r.string(end);
        break;
      case SPAN.parentSpanId:
        parentSpanId = r.id(end, 8, 'parentSpanId');
        break;
      case SPAN.name:
        name = r.string(end);
        break;
      case SPAN.kind:
        kind = r.i32();
        break;
      case SPAN.startTimeUnixNano:
        r.fixed64();
        startLo = r.lo;
        startHi = r.hi;
        break;
      case SPAN.endTimeUnixNano:
        r.fixed64();
        endLo = r.lo;
        endHi = r.hi;
        break;
      case SPAN.attributes:
        attributeInto(r, end, attrs, 'attributes', attrCount++);
        break;
      case SPAN.events: {
        const e = r.lenEnd(end);
        if (events === NO_EVENTS) events = newEvents();
        try {
          event(r, e, events);
        } catch (err) {
          throw within(err, `events[${events.names.length}]`);
        }
        break;
      }
      case SPAN.links: {
        const e = r.lenEnd(end);
        if (links === NO_LINKS) links = newLinks();
        try {
          link(r, e, links);
        } catch (err) {
          throw within(err, `links[${links.traceIds.length}]`);
        }
        break;
      }
      case SPAN.status: {
        // A repeated `status` merges field by field, which reassigning the two locals does.
        const e = r.lenEnd(end);
        try {
          while (r.pos < e) {
            const t = r.tag();
            if (t === STATUS.message) statusMessage = r.string(e);
            else if (t === STATUS.code) statusCode = r.i32();
            else r.unknown(t, e, STATUS_KNOWN);
          }
          r.close(e);
        } catch (err) {
          throw within(err, 'status');
        }
        break;
      }
      default:
        r.unknown(tag, end, SPAN_KNOWN);
    }
  }
  r.close(end);

  return spanRow(
    resource,
    scope,
    u64ToDecimal(startLo, startHi),
    traceId,
    spanId,
    parentSpanId,
    traceState,
    name,
    kind,
    attrs,
    u64DiffToDecimal(endLo, endHi, startLo, startHi),
    statusCode,
    statusMessage,
    events,
    links,
  );
}

function event(r: Reader, end: number, out: SpanEvents): void {
  let lo = 0;
  let hi = 0;
  let name = '';
  const attrs: Attrs = {};
  let n = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === EVENT.timeUnixNano) {
      r.fixed64();
      lo = r.lo;
      hi = r.hi;
    } else if (tag === EVENT.name) name = r.string(end);
    else if (tag === EVENT.attributes) attributeInto(r, end, attrs, 'attributes', n++);
    else r.unknown(tag, end, EVENT_KNOWN);
  }
  r.close(end);
  out.times.push(u64ToDecimal(lo, hi));
  out.names.push(name);
  out.attrs.push(attrs);
}

function link(r: Reader, end: number, out: SpanLinks): void {
  let traceId = '';
  let spanId = '';
  let state = '';
  const attrs: Attrs = {};
  let n = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === LINK.traceId) traceId = r.id(end, 16, 'traceId');
    else if (tag === LINK.spanId) spanId = r.id(end, 8, 'spanId');
    else if (tag === LINK.traceState) state = r.string(end);
    else if (tag === LINK.attributes) attributeInto(r, end, attrs, 'attributes', n++);
    else r.unknown(tag, end, LINK_KNOWN);
  }
  r.close(end);
  out.traceIds.push(traceId);
  out.spanIds.push(spanId);
  out.states.push(state);
  out.attrs.push(attrs);
}
