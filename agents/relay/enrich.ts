/**
 * Adds resource attributes to every ResourceSpans / ResourceLogs / ResourceMetrics of an OTLP protobuf export
 * request, on the bytes: each Resource gets a `KeyValue` appended for every attribute it does not already have
 * (an attribute the application set wins), the containers around it are re-framed with their new lengths, and
 * everything else (scopes, items, unknown fields) is copied verbatim. Protobuf concatenates repeated fields, so
 * appending to the Resource message is exactly adding to its attribute list. A ResourceX without a Resource
 * gets one.
 *
 * The input must be a request the shared decoder accepted (`#otlp/decode.ts` `validateProtobuf`): this walks
 * only the two outer levels and trusts the rest.
 */
import { AnyValue, KeyValue, Resource, SIGNALS, levelTags, tags } from '#otlp/descriptor.ts';
import type { Signal } from '#otlp/rows.ts';
import { Reader } from '#otlp/wire.ts';

const RESOURCE = tags(Resource);
const KV = tags(KeyValue);
const ANY = tags(AnyValue);

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function lenField(tag: number, payload: Uint8Array[]): Buffer {
  const size = payload.reduce((s, p) => s + p.length, 0);
  const head: number[] = [];
  varint(tag, head);
  varint(size, head);
  return Buffer.concat([Buffer.from(head), ...payload]);
}

/** `KeyValue{key, value: AnyValue{string_value}}` as a Resource `attributes` field. */
function attributeField(key: string, value: string): Buffer {
  const any = lenField(ANY.stringValue, [Buffer.from(value)]);
  const kv = [lenField(KV.key, [Buffer.from(key)]), lenField(KV.value, [any])];
  return lenField(RESOURCE.attributes, kv);
}

/** Keys of the attributes already in a Resource message `body[start, end)`. */
function existingKeys(body: Uint8Array, start: number, end: number): Set<string> {
  const keys = new Set<string>();
  const r = new Reader(body);
  r.pos = start;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag !== RESOURCE.attributes) {
      r.skip(tag, end, 0);
      continue;
    }
    const kvEnd = r.lenEnd(end);
    while (r.pos < kvEnd) {
      const t = r.tag();
      if (t === KV.key) keys.add(r.string(kvEnd));
      else r.skip(t, kvEnd, 0);
    }
    r.pos = kvEnd;
  }
  return keys;
}

/** The request with `attributes` added where missing; the same bytes when there is nothing to add. */
export function addResourceAttributes(signal: Signal, body: Uint8Array, attributes: Readonly<Record<string, string>>): Uint8Array {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return body;
  const levels = levelTags(SIGNALS[signal]);
  const src = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const r = new Reader(body);
  const out: Buffer[] = [];
  let changed = false;
  const end = body.length;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if (tag !== levels.resources) {
      r.skip(tag, end, 0);
      out.push(src.subarray(fieldStart, r.pos));
      continue;
    }
    const rxEnd = r.lenEnd(end);
    // Inside one ResourceX: find its Resource.
    const parts: Buffer[] = [];
    let found = false;
    while (r.pos < rxEnd) {
      const fStart = r.pos;
      const t = r.tag();
      if (t !== levels.resource || found) {
        r.skip(t, rxEnd, 0);
        parts.push(src.subarray(fStart, r.pos));
        continue;
      }
      found = true;
      const resEnd = r.lenEnd(rxEnd);
      const resStart = r.pos;
      const have = existingKeys(body, resStart, resEnd);
      const added = entries.filter(([k]) => !have.has(k)).map(([k, v]) => attributeField(k, v));
      if (added.length > 0) changed = true;
      parts.push(lenField(levels.resource, [src.subarray(resStart, resEnd), ...added]));
      r.pos = resEnd;
    }
    if (!found) {
      changed = true;
      parts.unshift(lenField(levels.resource, entries.map(([k, v]) => attributeField(k, v))));
    }
    out.push(lenField(levels.resources, parts));
    r.pos = rxEnd;
  }
  return changed ? Buffer.concat(out) : body;
}
