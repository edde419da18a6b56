/**
 * OTLP/JSON → OTLP protobuf (`Export*ServiceRequest` bytes), for the Kafka transport: topics carry `otlp_proto`
 * whatever encoding the client sent. Runs only on requests `decodeJson` already accepted, so shapes are valid;
 * the transcoding itself is driven by a table of the opentelemetry-proto messages below.
 *
 * JSON specifics handled (OTLP/JSON spec): lowerCamelCase or snake_case keys, trace/span ids as hex, other bytes
 * as base64, enums as numbers or names, 64-bit integers as strings or numbers (kept exact via `parseExact`).
 * Unknown keys are dropped, as the JSON decoder ignores them too.
 */
import { ExactNumber, parseExact } from './json-parse.ts';
import { AGGREGATION_TEMPORALITY_ENUM, SEVERITY_NUMBER_ENUM, SPAN_KIND_ENUM, STATUS_CODE_ENUM } from './mapping.ts';
import type { Signal } from './rows.ts';

type Scalar = 'string' | 'bool' | 'double' | 'uint32' | 'sint32' | 'int64' | 'uint64' | 'fixed64' | 'sfixed64' | 'fixed32' | 'hexBytes' | 'b64Bytes';
type Kind = Scalar | { enum: Readonly<Record<string, number>> } | { message: () => Descriptor };
/** [field number, kind, repeated, packed]. */
type Field = readonly [number, Kind, (boolean | undefined)?, (boolean | undefined)?];
type Descriptor = Readonly<Record<string, Field>>;

const msg = (d: () => Descriptor): Kind => ({ message: d });

const KeyValue: Descriptor = { key: [1, 'string'], value: [2, msg(() => AnyValue)] };
const AnyValue: Descriptor = {
  stringValue: [1, 'string'],
  boolValue: [2, 'bool'],
  intValue: [3, 'int64'],
  doubleValue: [4, 'double'],
  arrayValue: [5, msg(() => ({ values: [1, msg(() => AnyValue), true] }))],
  kvlistValue: [6, msg(() => ({ values: [1, msg(() => KeyValue), true] }))],
  bytesValue: [7, 'b64Bytes'],
};
const attrs: Field = [0, msg(() => KeyValue), true];
const withNo = (f: Field, no: number): Field => [no, f[1], f[2], f[3]];
const Resource: Descriptor = { attributes: withNo(attrs, 1), droppedAttributesCount: [2, 'uint32'] };
const Scope: Descriptor = { name: [1, 'string'], version: [2, 'string'], attributes: withNo(attrs, 3), droppedAttributesCount: [4, 'uint32'] };

const Event: Descriptor = { timeUnixNano: [1, 'fixed64'], name: [2, 'string'], attributes: withNo(attrs, 3), droppedAttributesCount: [4, 'uint32'] };
const Link: Descriptor = {
  traceId: [1, 'hexBytes'],
  spanId: [2, 'hexBytes'],
  traceState: [3, 'string'],
  attributes: withNo(attrs, 4),
  droppedAttributesCount: [5, 'uint32'],
  flags: [6, 'fixed32'],
};
const Span: Descriptor = {
  traceId: [1, 'hexBytes'],
  spanId: [2, 'hexBytes'],
  traceState: [3, 'string'],
  parentSpanId: [4, 'hexBytes'],
  flags: [16, 'fixed32'],
  name: [5, 'string'],
  kind: [6, { enum: SPAN_KIND_ENUM }],
  startTimeUnixNano: [7, 'fixed64'],
  endTimeUnixNano: [8, 'fixed64'],
  attributes: withNo(attrs, 9),
  droppedAttributesCount: [10, 'uint32'],
  events: [11, msg(() => Event), true],
  droppedEventsCount: [12, 'uint32'],
  links: [13, msg(() => Link), true],
  droppedLinksCount: [14, 'uint32'],
  status: [15, msg(() => ({ message: [2, 'string'], code: [3, { enum: STATUS_CODE_ENUM }] }))],
};
const LogRecord: Descriptor = {
  timeUnixNano: [1, 'fixed64'],
  observedTimeUnixNano: [11, 'fixed64'],
  severityNumber: [2, { enum: SEVERITY_NUMBER_ENUM }],
  severityText: [3, 'string'],
  body: [5, msg(() => AnyValue)],
  attributes: withNo(attrs, 6),
  droppedAttributesCount: [7, 'uint32'],
  flags: [8, 'fixed32'],
  traceId: [9, 'hexBytes'],
  spanId: [10, 'hexBytes'],
  eventName: [12, 'string'],
};

const Exemplar: Descriptor = {
  filteredAttributes: withNo(attrs, 7),
  timeUnixNano: [2, 'fixed64'],
  asDouble: [3, 'double'],
  asInt: [6, 'sfixed64'],
  spanId: [4, 'hexBytes'],
  traceId: [5, 'hexBytes'],
};
const temporality: Field = [2, { enum: AGGREGATION_TEMPORALITY_ENUM }];
const NumberDataPoint: Descriptor = {
  attributes: withNo(attrs, 7),
  startTimeUnixNano: [2, 'fixed64'],
  timeUnixNano: [3, 'fixed64'],
  asDouble: [4, 'double'],
  asInt: [6, 'sfixed64'],
  exemplars: [5, msg(() => Exemplar), true],
  flags: [8, 'uint32'],
};
const HistogramDataPoint: Descriptor = {
  attributes: withNo(attrs, 9),
  startTimeUnixNano: [2, 'fixed64'],
  timeUnixNano: [3, 'fixed64'],
  count: [4, 'fixed64'],
  sum: [5, 'double'],
  bucketCounts: [6, 'fixed64', true, true],
  explicitBounds: [7, 'double', true, true],
  exemplars: [8, msg(() => Exemplar), true],
  flags: [10, 'uint32'],
  min: [11, 'double'],
  max: [12, 'double'],
};
const Buckets: Descriptor = { offset: [1, 'sint32'], bucketCounts: [2, 'uint64', true, true] };
const ExponentialHistogramDataPoint: Descriptor = {
  attributes: withNo(attrs, 1),
  startTimeUnixNano: [2, 'fixed64'],
  timeUnixNano: [3, 'fixed64'],
  count: [4, 'fixed64'],
  sum: [5, 'double'],
  scale: [6, 'sint32'],
  zeroCount: [7, 'fixed64'],
  positive: [8, msg(() => Buckets)],
  negative: [9, msg(() => Buckets)],
  flags: [10, 'uint32'],
  exemplars: [11, msg(() => Exemplar), true],
  min: [12, 'double'],
  max: [13, 'double'],
  zeroThreshold: [14, 'double'],
};
const SummaryDataPoint: Descriptor = {
  attributes: withNo(attrs, 7),
  startTimeUnixNano: [2, 'fixed64'],
  timeUnixNano: [3, 'fixed64'],
  count: [4, 'fixed64'],
  sum: [5, 'double'],
  quantileValues: [6, msg(() => ({ quantile: [1, 'double'], value: [2, 'double'] })), true],
  flags: [8, 'uint32'],
};
const points = (d: Descriptor): Field => [1, msg(() => d), true];
const Metric: Descriptor = {
  name: [1, 'string'],
  description: [2, 'string'],
  unit: [3, 'string'],
  gauge: [5, msg(() => ({ dataPoints: points(NumberDataPoint) }))],
  sum: [7, msg(() => ({ dataPoints: points(NumberDataPoint), aggregationTemporality: temporality, isMonotonic: [3, 'bool'] }))],
  histogram: [9, msg(() => ({ dataPoints: points(HistogramDataPoint), aggregationTemporality: temporality }))],
  exponentialHistogram: [10, msg(() => ({ dataPoints: points(ExponentialHistogramDataPoint), aggregationTemporality: temporality }))],
  summary: [11, msg(() => ({ dataPoints: points(SummaryDataPoint) }))],
  metadata: withNo(attrs, 12),
};

/** Resource → scope → items, the same three levels for every signal. */
function request(resourceKey: string, scopeKey: string, itemsKey: string, item: Descriptor): Descriptor {
  const scoped: Descriptor = { scope: [1, msg(() => Scope)], [itemsKey]: [2, msg(() => item), true], schemaUrl: [3, 'string'] };
  const resource: Descriptor = { resource: [1, msg(() => Resource)], [scopeKey]: [2, msg(() => scoped), true], schemaUrl: [3, 'string'] };
  return { [resourceKey]: [1, msg(() => resource), true] };
}

const REQUESTS: Record<Signal, Descriptor> = {
  traces: request('resourceSpans', 'scopeSpans', 'spans', Span),
  logs: request('resourceLogs', 'scopeLogs', 'logRecords', LogRecord),
  metrics: request('resourceMetrics', 'scopeMetrics', 'metrics', Metric),
};

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

class Writer {
  #chunks: number[] = [];
  byte(b: number): void {
    this.#chunks.push(b);
  }
  varint(v: bigint): void {
    let n = BigInt.asUintN(64, v);
    while (n >= 0x80n) {
      this.#chunks.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.#chunks.push(Number(n));
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.#chunks.push(x);
  }
  fixed(v: bigint, size: 4 | 8): void {
    let n = BigInt.asUintN(size * 8, v);
    for (let i = 0; i < size; i++) {
      this.#chunks.push(Number(n & 0xffn));
      n >>= 8n;
    }
  }
  double(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.bytes(b);
  }
  result(): Uint8Array {
    return Uint8Array.from(this.#chunks);
  }
}

function int(v: unknown): bigint {
  if (v instanceof ExactNumber) return BigInt(v.text);
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string' && v.trim() !== '') return BigInt(v.trim());
  return 0n;
}

function num(v: unknown): number {
  if (v instanceof ExactNumber) return Number(v.text);
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

function wireType(kind: Kind): number {
  if (typeof kind !== 'string') return 'enum' in kind ? 0 : 2;
  switch (kind) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return 1;
    case 'fixed32':
      return 5;
    case 'string':
    case 'hexBytes':
    case 'b64Bytes':
      return 2;
    default:
      return 0;
  }
}

function writeScalar(w: Writer, kind: Kind, v: unknown): void {
  if (typeof kind !== 'string') {
    if ('enum' in kind) w.varint(BigInt(typeof v === 'string' ? (kind.enum[v] ?? Number(v)) : num(v)));
    else w.bytes(encode(kind.message(), v));
    return;
  }
  switch (kind) {
    case 'string': {
      const b = Buffer.from(String(v));
      w.varint(BigInt(b.length));
      w.bytes(b);
      return;
    }
    case 'hexBytes':
    case 'b64Bytes': {
      const b = Buffer.from(String(v), kind === 'hexBytes' ? 'hex' : 'base64');
      w.varint(BigInt(b.length));
      w.bytes(b);
      return;
    }
    case 'bool':
      w.varint(v === true || v === 'true' ? 1n : 0n);
      return;
    case 'double':
      w.double(num(v));
      return;
    case 'uint32':
    case 'int64':
    case 'uint64':
      w.varint(int(v));
      return;
    case 'sint32': {
      const n = int(v);
      w.varint(n >= 0n ? n << 1n : (-n << 1n) - 1n);
      return;
    }
    case 'fixed64':
    case 'sfixed64':
      w.fixed(int(v), 8);
      return;
    case 'fixed32':
      w.fixed(int(v), 4);
      return;
  }
}

function encode(d: Descriptor, value: unknown): Uint8Array {
  const w = new Writer();
  if (value === null || typeof value !== 'object') return w.result();
  for (const [rawKey, v] of Object.entries(value)) {
    const field = d[rawKey] ?? d[camel(rawKey)];
    if (!field || v === null || v === undefined) continue;
    const [no, kind, repeated, packed] = field;
    const items = repeated ? (Array.isArray(v) ? v : []) : [v];
    if (packed) {
      if (items.length === 0) continue;
      const inner = new Writer();
      for (const item of items) writeScalar(inner, kind, item);
      const bytes = inner.result();
      w.varint(BigInt((no << 3) | 2));
      w.varint(BigInt(bytes.length));
      w.bytes(bytes);
      continue;
    }
    for (const item of items) {
      w.varint(BigInt((no << 3) | wireType(kind)));
      if (typeof kind !== 'string' && 'message' in kind) {
        const bytes = encode(kind.message(), item);
        w.varint(BigInt(bytes.length));
        w.bytes(bytes);
      } else writeScalar(w, kind, item);
    }
  }
  return w.result();
}

/** Transcodes an OTLP/JSON request the JSON decoder accepted into `Export*ServiceRequest` protobuf bytes. */
export function toProtobuf(signal: Signal, body: string | Uint8Array): Uint8Array {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return encode(REQUESTS[signal], parseExact(text));
}
