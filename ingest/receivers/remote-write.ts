/**
 * Prometheus remote_write 1.0 at `POST /api/v1/write` on the gateway's OTLP/HTTP port: a snappy (block format)
 * compressed `prometheus.WriteRequest`, validated (remote-write-decode.ts), converted to one OTLP
 * `ExportMetricsServiceRequest` (protobuf written directly, remote-write-encode.ts) and handed to the same
 * `accept()` as an OTLP/HTTP request, so the write-ahead log
 * and Kafka transports carry it unchanged into the same metric tables.
 *
 * Answers: 204 stored; 400 with the reason for bad snappy, bad protobuf, a series without `__name__`, unsorted or
 * duplicate labels (the request is rejected whole: nothing is written); 413 over the size limit (compressed or
 * announced decompressed size, checked before decompressing); 415 for another Content-Type (remote_write 2.0's
 * `proto=io.prometheus.write.v2.Request` included) or Content-Encoding; 503 + Retry-After when the pipeline is full
 * (Prometheus retries 5xx; it drops data on a 429 unless `retry_on_http_429` is set, so 503 is the right answer).
 *
 * Conversion (series are not reassembled into OTLP histograms or summaries: remote_write 1.0 shards a classic
 * histogram's `_bucket`, `_sum` and `_count` series across requests, so no single request is known to hold one
 * whole; the OpenTelemetry Collector's prometheusremotewrite receiver does not reassemble them either: it accepts
 * only remote_write 2.0 and documents classic histograms as unsupported):
 * - each series becomes points of a metric named as the series; `job` and `instance` become the resource's
 *   `service.name` (`ns/name` → `service.namespace` + `service.name`) and `service.instance.id`; `target_info`
 *   series add their labels to that resource and are dropped;
 * - the kind comes from metadata (`counter` → monotonic cumulative Sum; a histogram's `_bucket`/`_count`/`_sum`
 *   and a summary's `_count`/`_sum` → monotonic Sum, its quantile series → Gauge; gauge, unknown, gaugehistogram
 *   → Gauge; info, stateset → non-monotonic Sum). Prometheus sends metadata in requests of its own (every minute by
 *   default), so the receiver remembers it (bounded); before it is known, names decide (`_total`, `_bucket`,
 *   `_count`, `_sum` → monotonic Sum, others → Gauge), which gives the same kinds for conventionally named series,
 *   so a metric does not change table when its metadata arrives;
 * - the staleness marker (Prometheus's special NaN) becomes OTLP's no-recorded-value flag;
 * - exemplars carry `trace_id`/`span_id` labels as ids, other labels as attributes; start times are unknown (0).
 */
import snappy from 'snappy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Logger } from '#core/log.ts';
import { OtlpDecodeError } from '#otlp/errors.ts';
import { type AcceptDeps, accept } from './accept.ts';
import { type Attr, type RwExemplar, type RwMetric, type RwResource, encodeRemoteWriteMetrics } from './remote-write-encode.ts';
import { type PromLabels, type PromMetricType, type WriteRequest, decodeWriteRequest } from './remote-write-decode.ts';

export const REMOTE_WRITE_PATH = '/api/v1/write';
export const REMOTE_WRITE_SCOPE = 'crowsnest/remote_write';

export interface RemoteWriteOptions extends AcceptDeps {
  maxRequestBytes: number;
  log: Logger;
  /** Metric families whose metadata is remembered at most. @default 100000 */
  maxMetadata?: number;
}

/** Family name → type, from metadata requests; bounded (oldest forgotten first). */
export class MetadataCache {
  readonly #types = new Map<string, { type: PromMetricType; help: string; unit: string }>();
  readonly #max: number;
  constructor(max = 100_000) {
    this.#max = max;
  }
  set(family: string, type: PromMetricType, help: string, unit: string): void {
    this.#types.delete(family);
    this.#types.set(family, { type, help, unit });
    if (this.#types.size > this.#max) this.#types.delete(this.#types.keys().next().value!);
  }
  get(family: string): { type: PromMetricType; help: string; unit: string } | undefined {
    return this.#types.get(family);
  }
  get size(): number {
    return this.#types.size;
  }
}

type Kind = { kind: 'gauge' } | { kind: 'sum'; monotonic: boolean };
const GAUGE: Kind = { kind: 'gauge' };
const COUNTER: Kind = { kind: 'sum', monotonic: true };
const UPDOWN: Kind = { kind: 'sum', monotonic: false };

const SUFFIXES = ['_total', '_bucket', '_count', '_sum', '_created', '_info', '_gcount', '_gsum'];

/** The family a series belongs to, from remembered metadata (exact name first, then without a type suffix). */
function familyOf(name: string, cache: MetadataCache): { family: string; suffix: string; meta: { type: PromMetricType; help: string; unit: string } } | undefined {
  const exact = cache.get(name);
  if (exact) return { family: name, suffix: '', meta: exact };
  for (const suffix of SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const family = name.slice(0, -suffix.length);
    const meta = cache.get(family);
    if (meta) return { family, suffix, meta };
  }
  return undefined;
}

export function kindOf(name: string, labels: PromLabels, cache: MetadataCache): { kind: Kind; promType: PromMetricType; help: string; unit: string } {
  const f = familyOf(name, cache);
  if (f) {
    const { type, help, unit } = f.meta;
    switch (type) {
      case 'counter':
        return { kind: f.suffix === '_created' ? GAUGE : COUNTER, promType: type, help, unit };
      case 'histogram':
      case 'summary':
        return { kind: f.suffix === '_bucket' || f.suffix === '_count' || f.suffix === '_sum' ? COUNTER : GAUGE, promType: type, help, unit };
      case 'info':
      case 'stateset':
        return { kind: UPDOWN, promType: type, help, unit };
      default:
        return { kind: GAUGE, promType: type, help, unit };
    }
  }
  const cumulative = name.endsWith('_total') || (name.endsWith('_bucket') && labels.some(([k]) => k === 'le')) || name.endsWith('_count') || name.endsWith('_sum');
  return { kind: cumulative ? COUNTER : GAUGE, promType: 'unknown', help: '', unit: '' };
}

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;

/**
 * The OTLP resources for a decoded WriteRequest (after its metadata went into `cache`), and their data point count.
 */
export function toOtlpResources(req: WriteRequest, cache: MetadataCache): { resources: RwResource[]; points: number } {
  const resources = new Map<string, { attrs: Record<string, string>; metrics: Map<string, RwMetric> }>();
  const resourceOf = (job: string, instance: string) => {
    const key = `${job}\u0000${instance}`;
    let r = resources.get(key);
    if (!r) {
      const attrs: Record<string, string> = {};
      const slash = job.indexOf('/');
      if (slash > 0) {
        attrs['service.namespace'] = job.slice(0, slash);
        attrs['service.name'] = job.slice(slash + 1);
      } else if (job !== '') attrs['service.name'] = job;
      if (instance !== '') attrs['service.instance.id'] = instance;
      r = { attrs, metrics: new Map() };
      resources.set(key, r);
    }
    return r;
  };
  let points = 0;
  for (const s of req.series) {
    let name = '';
    let job = '';
    let instance = '';
    const attrs: Attr[] = [];
    for (const [k, v] of s.labels) {
      if (k === '__name__') name = v;
      else if (k === 'job') job = v;
      else if (k === 'instance') instance = v;
      else if (v !== '') attrs.push([k, v]); // an empty value is an absent label in Prometheus
    }
    const resource = resourceOf(job, instance);
    if (name === 'target_info') {
      for (const [k, v] of attrs) if (!(k in resource.attrs)) resource.attrs[k] = v;
      continue;
    }
    if (s.samples.length === 0) continue;
    let m = resource.metrics.get(name);
    if (!m) {
      const { kind, promType, help, unit } = kindOf(name, s.labels, cache);
      m = { name, description: help, unit, promType, monotonic: kind.kind === 'gauge' ? undefined : kind.monotonic, series: [] };
      resource.metrics.set(name, m);
    }
    const exemplars: RwExemplar[] = s.exemplars.map((e) => {
      const out: RwExemplar = { attrs: [], timeMs: e.timestampMs, value: e.value, traceId: undefined, spanId: undefined };
      for (const [k, v] of e.labels) {
        if (k === 'trace_id' && HEX32.test(v)) out.traceId = Buffer.from(v, 'hex');
        else if (k === 'span_id' && HEX16.test(v)) out.spanId = Buffer.from(v, 'hex');
        else out.attrs.push([k, v]);
      }
      return out;
    });
    const last = s.samples.length - 1;
    m.series.push({
      attrs,
      points: s.samples.map((sample, i) => ({
        timeMs: sample.timestampMs,
        value: sample.stale ? 0 : sample.value,
        flags: sample.stale ? 1 : 0,
        // Remote write does not tie an exemplar to a sample; they go with the series' last sample.
        exemplars: i === last && exemplars.length > 0 ? exemplars : undefined,
      })),
    });
    points += s.samples.length;
  }
  const out: RwResource[] = [];
  for (const r of resources.values()) {
    if (r.metrics.size > 0) out.push({ attrs: Object.entries(r.attrs), scope: REMOTE_WRITE_SCOPE, metrics: [...r.metrics.values()] });
  }
  return { resources: out, points };
}

/** The uncompressed length a snappy block announces (its varint preamble), or undefined when unreadable. */
export function snappyLength(buf: Uint8Array): number | undefined {
  let n = 0;
  for (let i = 0, shift = 0; i < Math.min(buf.length, 5); i++, shift += 7) {
    const b = buf[i]!;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return n;
  }
  return undefined;
}

const PROTOBUF = 'application/x-protobuf';

function sendError(reply: FastifyReply, req: FastifyRequest, log: Logger, err: AppError): FastifyReply {
  if (err.status >= 500) log.warn({ reqId: req.id, err: err.message }, 'remote_write request failed');
  if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.status(err.status).type('text/plain; charset=utf-8').send(`${err.publicMessage(req.id)}\n`);
}

/**
 * Registers `POST /api/v1/write` in its own encapsulated context, so it reads any body as bytes and answers in
 * Prometheus's way (plain text), apart from the OTLP routes' parsers and error bodies.
 */
export function registerRemoteWrite(app: FastifyInstance, opts: RemoteWriteOptions): void {
  const cache = new MetadataCache(opts.maxMetadata);
  const log = opts.log;
  const reject = (reason: string) => opts.metrics.rejected.inc({ signal: 'metrics', reason });
  void app.register((scope, _o, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxRequestBytes }, (_req, body, next) => next(null, body));
    scope.post(REMOTE_WRITE_PATH, async (req, reply) => {
      const contentType = String(req.headers['content-type'] ?? '');
      const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim());
      const proto = params.find((p) => p.toLowerCase().startsWith('proto='));
      if (mediaType.toLowerCase() !== PROTOBUF || (proto !== undefined && proto.slice(6).replace(/"/g, '') !== 'prometheus.WriteRequest')) {
        reject('bad_encoding');
        return sendError(reply, req, log, new AppError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type "${contentType}" (remote_write 1.0 sends ${PROTOBUF})`));
      }
      const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
      if (encoding !== 'snappy') {
        reject('bad_encoding');
        return sendError(reply, req, log, new AppError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Encoding "${encoding}" (remote_write 1.0 sends snappy)`));
      }
      const compressed = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
      const announced = snappyLength(compressed);
      if (announced === undefined) {
        reject('malformed');
        return sendError(reply, req, log, new AppError('BAD_REQUEST', 'body is not snappy-compressed data (no length preamble)'));
      }
      if (announced > opts.maxRequestBytes) {
        reject('too_large');
        return sendError(reply, req, log, new AppError('PAYLOAD_TOO_LARGE', `decompressed body would be ${announced} bytes, over the ${opts.maxRequestBytes}-byte limit`));
      }
      let body: Buffer;
      try {
        body = snappy.uncompressSync(compressed, { asBuffer: true }) as Buffer;
      } catch (e) {
        reject('malformed');
        return sendError(reply, req, log, new AppError('BAD_REQUEST', `body is not valid snappy (block format) data: ${(e as Error).message}`));
      }
      let decoded: WriteRequest;
      try {
        decoded = decodeWriteRequest(body);
      } catch (e) {
        if (!(e instanceof OtlpDecodeError)) throw e;
        reject('malformed');
        return sendError(reply, req, log, new AppError('BAD_REQUEST', `invalid remote_write WriteRequest: ${e.message}`));
      }
      for (const m of decoded.metadata) if (m.family !== '') cache.set(m.family, m.type, m.help, m.unit);
      if (decoded.nativeHistograms > 0) reject('native_histogram');
      const { resources, points } = toOtlpResources(decoded, cache);
      if (points === 0) return reply.status(204).send();
      const otlp = encodeRemoteWriteMetrics(resources);
      const outcome = await accept(opts, 'metrics', 'protobuf', otlp, 'remote_write');
      if (outcome.kind === 'error') return sendError(reply, req, log, outcome.error);
      return reply.status(204).send();
    });
    done();
  });
}
