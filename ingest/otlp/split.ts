/**
 * Splits an OTLP protobuf `Export*ServiceRequest` into one Kafka message per key, the way the Collector's kafka
 * exporter partitions: traces by trace id (every span of a trace lands in one partition, so a consumer sees
 * whole traces), logs and metrics by service (`service.name` of the resource).
 *
 * Works on the raw bytes: resource, scope and item fields are copied verbatim, only the containers around them
 * are re-framed, so nothing is decoded and re-encoded and unknown fields survive. A request that holds a single
 * key is returned as it is. Input is a request the decoder already accepted.
 *
 * This runs on the gateway for every span, so it is one pass that records byte ranges (plain number arrays, no
 * object per field), then one buffer per message, sized first and filled by copying: the first version, built on
 * arrays of field objects and `Buffer.concat`, cost more than decoding the whole request.
 */
import { AnyValue, KeyValue, Resource, SIGNALS, Span, levelTags, tags, type LevelTags } from './descriptor.ts';
import type { Signal } from './rows.ts';
import { Reader, utf8 } from './wire.ts';

// Tags derived once into this module's constants (see descriptor.ts on why local).
const LEVELS: Readonly<Record<Signal, LevelTags>> = {
  traces: levelTags(SIGNALS.traces),
  logs: levelTags(SIGNALS.logs),
  metrics: levelTags(SIGNALS.metrics),
};
const TRACES = LEVELS.traces;
const SPAN = tags(Span);
const RESOURCE = tags(Resource);
const KV = tags(KeyValue);
const ANY = tags(AnyValue);

export interface KeyedMessage {
  key: string;
  value: Uint8Array;
}

/** The items of one scope container that share a key. */
interface ScopeGroup {
  /** Index into the scope table of the request (its header ranges and resource). */
  scope: number;
  /** start, end byte ranges of the items (whole fields, tag included; consecutive items share one range). */
  items: number[];
  itemBytes: number;
}

/** Byte ranges of a container's fields other than its repeated children: copied into every message that needs them. */
interface Header {
  ranges: number[];
  bytes: number;
}

const varintSize = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

export function splitRequest(signal: Signal, body: Uint8Array): KeyedMessage[] {
  return signal === 'traces' ? splitTraces(body) : splitByService(body, LEVELS[signal]);
}

/** Logs and metrics: each ResourceLogs / ResourceMetrics goes whole to its service's message. */
function splitByService(body: Uint8Array, levels: LevelTags): KeyedMessage[] {
  const r = new Reader(body);
  const byKey = new Map<string, number[]>();
  const end = body.length;
  while (r.pos < end) {
    const start = r.pos;
    const tag = r.tag();
    if (tag !== levels.resources) {
      r.skip(tag, end, 0);
      continue;
    }
    const e = r.lenEnd(end);
    const key = serviceName(r, r.pos, e, levels.resource);
    let ranges = byKey.get(key);
    if (!ranges) byKey.set(key, (ranges = []));
    ranges.push(start, e);
    r.pos = e;
  }
  if (byKey.size <= 1) return [{ key: [...byKey.keys()][0] ?? '', value: body }];
  const src = asBuffer(body);
  const out: KeyedMessage[] = [];
  for (const [key, ranges] of byKey) {
    let size = 0;
    for (let i = 0; i < ranges.length; i += 2) size += ranges[i + 1]! - ranges[i]!;
    const value = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < ranges.length; i += 2) at += src.copy(value, at, ranges[i], ranges[i + 1]);
    out.push({ key, value });
  }
  return out;
}

/** Moves `r` into the next field tagged `tag` before `end`, skipping the others, and returns that field's end; -1 if none. */
function seek(r: Reader, end: number, tag: number): number {
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag) return r.lenEnd(end);
    r.skip(t, end, 0);
  }
  return -1;
}

/** `service.name` of a ResourceLogs / ResourceMetrics message: its resource's attribute of that name, as a string. */
function serviceName(r: Reader, start: number, end: number, res: number): string {
  r.pos = start;
  const attr = RESOURCE.attributes;
  for (let resEnd = seek(r, end, res); resEnd >= 0; r.pos = resEnd, resEnd = seek(r, end, res)) {
    for (let kvEnd = seek(r, resEnd, attr); kvEnd >= 0; r.pos = kvEnd, kvEnd = seek(r, resEnd, attr)) {
      let key = '';
      let value = '';
      while (r.pos < kvEnd) {
        const t = r.tag();
        if (t === KV.key) key = r.string(kvEnd);
        else if (t === KV.value) {
          const valueEnd = r.lenEnd(kvEnd);
          const stringEnd = seek(r, valueEnd, ANY.stringValue);
          if (stringEnd >= 0) value = utf8(r.buf, r.view, r.pos, stringEnd);
          r.pos = valueEnd;
        } else r.skip(t, kvEnd, 0);
      }
      if (key === 'service.name') return value;
    }
  }
  return '';
}

function splitTraces(body: Uint8Array): KeyedMessage[] {
  const r = new Reader(body);
  const src = asBuffer(body);
  const end = body.length;
  const resources: Header[] = [];
  const scopes: { header: Header; resource: number }[] = [];
  // key → its scope groups, in order of first appearance; the groups of one key are in request order.
  const byKey = new Map<string, ScopeGroup[]>();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== TRACES.resources) {
      r.skip(tag, end, 0);
      continue;
    }
    const resEnd = r.lenEnd(end);
    const resource = resources.push({ ranges: [], bytes: 0 }) - 1;
    while (r.pos < resEnd) {
      const fieldStart = r.pos;
      const t = r.tag();
      if (t !== TRACES.scopes) {
        r.skip(t, resEnd, 0);
        addRange(resources[resource]!, fieldStart, r.pos);
        continue;
      }
      const scopeEnd = r.lenEnd(resEnd);
      const scope = scopes.push({ header: { ranges: [], bytes: 0 }, resource }) - 1;
      scopeSpans(r, src, scopeEnd, scope, scopes[scope]!.header, byKey);
    }
  }
  if (byKey.size <= 1) return [{ key: [...byKey.keys()][0] ?? '', value: body }];
  const out: KeyedMessage[] = [];
  for (const [key, groups] of byKey) out.push({ key, value: assemble(src, resources, scopes, groups) });
  return out;
}

/** One ScopeSpans: its header ranges, and each span added to the group of its trace id. */
function scopeSpans(r: Reader, body: Buffer, end: number, scope: number, header: Header, byKey: Map<string, ScopeGroup[]>): void {
  // Spans of one trace usually come together: reuse the previous span's key when the 16 id bytes are equal.
  let prevId = -1;
  let prevKey = '';
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== TRACES.items) {
      r.skip(tag, end, 0);
      addRange(header, fieldStart, r.pos);
      continue;
    }
    const spanEnd = r.lenEnd(end);
    const idEnd = seek(r, spanEnd, SPAN.traceId);
    let key = '';
    if (idEnd >= 0) {
      const idStart = r.pos;
      if (idEnd - idStart !== 16) key = body.toString('hex', idStart, idEnd);
      else {
        key = prevId >= 0 && sameTraceId(body, prevId, idStart) ? prevKey : body.toString('hex', idStart, idEnd);
        prevId = idStart;
        prevKey = key;
      }
    }
    r.pos = spanEnd;
    let groups = byKey.get(key);
    if (!groups) byKey.set(key, (groups = []));
    let g = groups.at(-1);
    if (!g || g.scope !== scope) groups.push((g = { scope, items: [], itemBytes: 0 }));
    // Spans of one trace usually follow each other: one range for the run, so one copy instead of one per span.
    const last = g.items.length - 1;
    if (last > 0 && g.items[last] === fieldStart) g.items[last] = spanEnd;
    else g.items.push(fieldStart, spanEnd);
    g.itemBytes += spanEnd - fieldStart;
  }
}

/** Whether the 16-byte trace ids at `a` and `b` are equal. */
function sameTraceId(buf: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < 16; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

function addRange(h: Header, start: number, end: number): void {
  const last = h.ranges.length - 1;
  if (last > 0 && h.ranges[last] === start) h.ranges[last] = end;
  else h.ranges.push(start, end);
  h.bytes += end - start;
}

/** One message: per resource that has groups of this key, its header and those groups' scopes, re-framed. */
function assemble(src: Buffer, resources: Header[], scopes: { header: Header; resource: number }[], groups: ScopeGroup[]): Buffer {
  // Sizes first: per group its ScopeSpans length, per run of groups of one resource the ResourceSpans length.
  const scopeLens = groups.map((g) => scopes[g.scope]!.header.bytes + g.itemBytes);
  const resourceLens: number[] = [];
  let size = 0;
  for (let i = 0; i < groups.length; ) {
    const resource = scopes[groups[i]!.scope]!.resource;
    let len = resources[resource]!.bytes;
    for (; i < groups.length && scopes[groups[i]!.scope]!.resource === resource; i++) len += 1 + varintSize(scopeLens[i]!) + scopeLens[i]!;
    resourceLens.push(len);
    size += 1 + varintSize(len) + len;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  let rl = 0;
  for (let i = 0; i < groups.length; ) {
    const resource = scopes[groups[i]!.scope]!.resource;
    at = writeHeader(out, at, TRACES.resources, resourceLens[rl++]!);
    at = copyRanges(src, out, at, resources[resource]!.ranges);
    for (; i < groups.length && scopes[groups[i]!.scope]!.resource === resource; i++) {
      at = writeHeader(out, at, TRACES.scopes, scopeLens[i]!);
      at = copyRanges(src, out, at, scopes[groups[i]!.scope]!.header.ranges);
      at = copyRanges(src, out, at, groups[i]!.items);
    }
  }
  return out;
}

// Module functions rather than closures in `assemble`: two closures per message were measurable on the gateway.

/** Writes a length-delimited field's tag and length at `at`; returns the next offset. */
function writeHeader(out: Buffer, at: number, tag: number, len: number): number {
  out[at++] = tag;
  while (len > 0x7f) {
    out[at++] = (len & 0x7f) | 0x80;
    len >>>= 7;
  }
  out[at++] = len;
  return at;
}

/** Copies `src`'s byte ranges (start, end pairs) to `out` at `at`; returns the next offset. */
function copyRanges(src: Buffer, out: Buffer, at: number, ranges: number[]): number {
  for (let k = 0; k < ranges.length; k += 2) at += src.copy(out, at, ranges[k], ranges[k + 1]);
  return at;
}

function asBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

