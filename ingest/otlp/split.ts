/**
 * Splits an OTLP protobuf `Export*ServiceRequest` into one Kafka message per key, the way the Collector's kafka
 * exporter partitions: traces by trace id (every span of a trace lands in one partition, so a consumer sees
 * whole traces), logs and metrics by service (`service.name` of the resource).
 *
 * Works on the raw bytes: resource, scope and item fields are copied verbatim, only the containers around them
 * are re-framed, so nothing is decoded and re-encoded and unknown fields survive. A request that holds a single
 * key is returned as it is. Input is a request the decoder already accepted.
 */
import { lenHeader } from './pb-write.ts';
import { LEN, Reader } from './wire.ts';
import type { Signal } from './rows.ts';

export interface KeyedMessage {
  key: string;
  value: Uint8Array;
}

interface Field {
  no: number;
  /** The whole field: tag, length prefix and value. */
  start: number;
  end: number;
  /** The value of a length-delimited field. */
  valueStart: number;
}

function fieldsOf(r: Reader, start: number, end: number): Field[] {
  const out: Field[] = [];
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.tag();
    if ((tag & 7) === LEN) {
      const valueEnd = r.lenEnd(end);
      out.push({ no: tag >>> 3, start: fieldStart, end: valueEnd, valueStart: r.pos });
      r.pos = valueEnd;
    } else {
      r.skip(tag, end, 0);
      out.push({ no: tag >>> 3, start: fieldStart, end: r.pos, valueStart: r.pos });
    }
  }
  return out;
}

function hex(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('hex');
}

/** `service.name` from a Resource message (attributes = 1; KeyValue key = 1, value = 2; AnyValue string = 1). */
function serviceName(r: Reader, resource: Field | undefined): string {
  if (!resource) return '';
  for (const kv of fieldsOf(r, resource.valueStart, resource.end).filter((f) => f.no === 1)) {
    const parts = fieldsOf(r, kv.valueStart, kv.end);
    const key = parts.find((f) => f.no === 1);
    if (!key || Buffer.from(r.buf.buffer, r.buf.byteOffset + key.valueStart, key.end - key.valueStart).toString('utf8') !== 'service.name') continue;
    const value = parts.find((f) => f.no === 2);
    const str = value ? fieldsOf(r, value.valueStart, value.end).find((f) => f.no === 1) : undefined;
    return str ? Buffer.from(r.buf.buffer, r.buf.byteOffset + str.valueStart, str.end - str.valueStart).toString('utf8') : '';
  }
  return '';
}

function lenField(no: number, parts: Uint8Array[]): Uint8Array[] {
  return [lenHeader(no, parts.reduce((n, p) => n + p.length, 0)), ...parts];
}

/** Items of one scope container that share a key, with the scope's other fields (scope, schema url). */
interface ScopeGroup {
  scopeFields: Uint8Array[];
  items: Uint8Array[];
}

export function splitRequest(signal: Signal, body: Uint8Array): KeyedMessage[] {
  const r = new Reader(body);
  const slice = (f: Field) => body.subarray(f.start, f.end);
  // key → resource index → scope groups, in the order keys first appear.
  const byKey = new Map<string, Map<number, { resourceFields: Uint8Array[]; scopes: ScopeGroup[] }>>();
  const resources = fieldsOf(r, 0, body.length).filter((f) => f.no === 1);
  resources.forEach((res, ri) => {
    const resFields = fieldsOf(r, res.valueStart, res.end);
    const resourceFields = resFields.filter((f) => f.no !== 2).map(slice);
    const service = signal === 'traces' ? '' : serviceName(r, resFields.find((f) => f.no === 1));
    for (const scope of resFields.filter((f) => f.no === 2)) {
      const scopeFields = fieldsOf(r, scope.valueStart, scope.end);
      const groups = new Map<string, ScopeGroup>();
      for (const item of scopeFields.filter((f) => f.no === 2)) {
        let key = service;
        if (signal === 'traces') {
          const traceId = fieldsOf(r, item.valueStart, item.end).find((f) => f.no === 1);
          key = traceId ? hex(body, traceId.valueStart, traceId.end) : '';
        }
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { scopeFields: scopeFields.filter((f) => f.no !== 2).map(slice), items: [] }));
        g.items.push(slice(item));
      }
      for (const [key, g] of groups) {
        let perResource = byKey.get(key);
        if (!perResource) byKey.set(key, (perResource = new Map()));
        let entry = perResource.get(ri);
        if (!entry) perResource.set(ri, (entry = { resourceFields, scopes: [] }));
        entry.scopes.push(g);
      }
    }
  });
  if (byKey.size <= 1) return [{ key: [...byKey.keys()][0] ?? '', value: body }];
  const out: KeyedMessage[] = [];
  for (const [key, perResource] of byKey) {
    const parts: Uint8Array[] = [];
    for (const { resourceFields, scopes } of perResource.values()) {
      const scopeParts = scopes.flatMap((s) => lenField(2, [...s.scopeFields, ...s.items]));
      parts.push(...lenField(1, [...resourceFields, ...scopeParts]));
    }
    out.push({ key, value: Buffer.concat(parts) });
  }
  return out;
}
