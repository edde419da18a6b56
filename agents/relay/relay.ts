/**
 * The node-local OTLP relay: applications on this node export to the agent (OTLP/HTTP :4318 and OTLP/gRPC
 * :4317, hostPorts in the DaemonSet), the agent finds the sending pod by the request's source IP in the
 * `PodDirectory`, adds the pod's resource attributes (`PodInfo.resource`: namespace, pod, uid, node, workload,
 * allowed labels) to every resource of the request without overwriting what the application set, and
 * forwards it through the `Sink`.
 *
 * End-to-end acknowledgement: the client is answered only once the gateway acknowledged the request (the Sink
 * settled it), so an SDK exporter's retry covers every failure between it and the store. The gateway's refusal
 * comes back as OTLP status by what the application can do about it (responses.ts `refusalAnswer`): a malformed
 * request stays a 400 / INVALID_ARGUMENT and a size refusal a 413 / RESOURCE_EXHAUSTED; a refusal of the agent's
 * own credentials or endpoint (401, 403, other 4xx) is a 503 / UNAVAILABLE with Retry-After, and a gateway error
 * the forwarder gave up on a 502 / UNAVAILABLE: retryable, since the app's data is fine. Each refusal is logged
 * (an error when the agent is at fault, at most once per `logEveryMs` per status) and counted
 * (`crowsnest_agent_relay_refused_total{signal,status}`). A gateway that does not acknowledge within
 * `ackTimeoutMs` is a 503 / UNAVAILABLE with Retry-After (RetryInfo), which the exporters honour. A partial
 * success (items the gateway rejected, with its message) is passed back unchanged, in the request's encoding
 * (protobuf, JSON, gRPC), and counted (`crowsnest_agent_relay_rejected_items_total`).
 *
 * Requests are validated by the platform's own decoder (#otlp/decode.ts) before anything is forwarded, so a bad
 * one is refused here with the decoder's message. OTLP/JSON is forwarded as protobuf (#otlp/to-protobuf.ts).
 * Bounded: request size (compressed and decompressed, `maxRequestBytes`), requests in flight
 * (`maxConcurrent`: beyond it 429 / UNAVAILABLE with Retry-After), and each wait for the gateway.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '#core/log.ts';
import { OtlpDecodeError, decodeJson, validateProtobuf } from '#otlp/decode.ts';
import type { Signal } from '#otlp/rows.ts';
import { toProtobuf } from '#otlp/to-protobuf.ts';
import type { Registry } from 'prom-client';
import type { PodDirectory, Sink } from '../core/contracts.ts';
import { counter } from '../kube/metrics.ts';
import { addResourceAttributes } from './enrich.ts';
import { GRPC, partialSuccessJson, partialSuccessProtobuf, refusalAnswer, retryInfoStatus, statusJson, statusProtobuf } from './responses.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface OtlpRelayOptions {
  sink: Sink;
  pods: PodDirectory;
  registry: Registry;
  log: Logger;
  /** @default '0.0.0.0' (node-local through the hostPort) */
  host?: string;
  /** 0 picks a free port. @default 4318 */
  httpPort?: number;
  /** 0 picks a free port; -1 turns gRPC off. @default 4317 */
  grpcPort?: number;
  /** Largest request body, compressed or not. @default 8 MiB */
  maxRequestBytes?: number;
  /** Requests in flight at once. @default 64 */
  maxConcurrent?: number;
  /** How long a request waits for the gateway's acknowledgement. @default 8000 (the SDKs time out at 10 s) */
  ackTimeoutMs?: number;
  /** Retry-After given with 429/502/503 answers. @default 5 */
  retryAfterSeconds?: number;
  /** A refusal with the same gateway status is logged at most this often. @default 30000 */
  logEveryMs?: number;
}

/** What the relay answers, whatever the protocol. */
export type Outcome =
  | { ok: true; rejected?: number; message?: string }
  | { ok: false; http: number; grpc: number; message: string; retryAfterSeconds?: number };
const SERVICES: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};
const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics' };

/** `::ffff:10.1.2.3` → `10.1.2.3`; gRPC peers `1.2.3.4:5678`, `[::1]:5678`, `ipv4:…` → the address alone. */
export function sourceAddress(peer: string): string {
  let p = peer.replace(/^ipv[46]:/, '');
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(p);
  if (bracket) p = bracket[1]!;
  else if (/^[\d.]+:\d+$/.test(p)) p = p.slice(0, p.lastIndexOf(':'));
  return p.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

export class OtlpRelay {
  readonly #o: OtlpRelayOptions;
  #http: Server | undefined;
  #grpc: grpc.Server | undefined;
  #inflight = 0;
  readonly #requests;
  readonly #items;
  readonly #refused;
  readonly #rejected;
  /** When each gateway status was last logged. */
  readonly #loggedAt = new Map<number, number>();

  constructor(options: OtlpRelayOptions) {
    this.#o = options;
    this.#requests = counter(options.registry, 'crowsnest_agent_relay_requests_total', 'OTLP requests relayed, by signal, protocol and outcome', ['signal', 'protocol', 'result']);
    this.#items = counter(options.registry, 'crowsnest_agent_relay_items_total', 'Spans, log records and data points relayed, by whether their pod was found by source IP', ['signal', 'attributed']);
    this.#refused = counter(options.registry, 'crowsnest_agent_relay_refused_total', 'Relayed requests the gateway refused for good, by signal and the gateway\'s HTTP status', ['signal', 'status']);
    this.#rejected = counter(options.registry, 'crowsnest_agent_relay_rejected_items_total', 'Items of relayed requests the gateway rejected in a partial success, by signal', ['signal']);
  }

  /** Validates, attributes and forwards one protobuf request from `source`; resolves with the answer. */
  async handle(signal: Signal, body: Uint8Array, source: string, format: 'protobuf' | 'json' = 'protobuf'): Promise<Outcome> {
    const o = this.#o;
    let items: number;
    let proto: Uint8Array;
    try {
      if (format === 'json') {
        items = decodeJson(signal, body).accepted;
        proto = toProtobuf(signal, body);
      } else {
        items = validateProtobuf(signal, body).accepted;
        proto = body;
      }
    } catch (e) {
      if (e instanceof OtlpDecodeError) return { ok: false, http: 400, grpc: GRPC.INVALID_ARGUMENT, message: `invalid OTLP ${format} ${signal} request: ${e.message}` };
      throw e;
    }
    if (items === 0) return { ok: true };
    const pod = o.pods.byIp(sourceAddress(source));
    const enriched = pod ? addResourceAttributes(signal, proto, pod.resource) : proto;
    this.#items.inc({ signal, attributed: pod ? 'true' : 'false' }, items);
    const ackTimeout = o.ackTimeoutMs ?? 8000;
    const retryAfterSeconds = o.retryAfterSeconds ?? 5;
    try {
      const settled = await o.sink.send({ signal, body: enriched, items }, AbortSignal.timeout(ackTimeout));
      if (settled.ok) {
        if (!settled.rejected) return { ok: true };
        this.#rejected.inc({ signal }, settled.rejected);
        return { ok: true, rejected: settled.rejected, message: settled.message ?? '' };
      }
      this.#refused.inc({ signal, status: String(settled.status) });
      const answer = refusalAnswer(settled.status, settled.reason, retryAfterSeconds);
      const now = Date.now();
      if (now - (this.#loggedAt.get(settled.status) ?? -Infinity) >= (o.logEveryMs ?? 30_000)) {
        this.#loggedAt.set(settled.status, now);
        o.log[answer.agentFault ? 'error' : 'warn']({ signal, status: settled.status, reason: settled.reason, answered: answer.http }, 'the gateway refused a relayed request');
      }
      return { ok: false, http: answer.http, grpc: answer.grpc, message: answer.message, ...(answer.retryAfterSeconds !== undefined ? { retryAfterSeconds: answer.retryAfterSeconds } : {}) };
    } catch (e) {
      o.log.warn({ signal, err: (e as Error).message }, 'the gateway did not acknowledge a relayed request in time');
      return { ok: false, http: 503, grpc: GRPC.UNAVAILABLE, message: `the gateway did not acknowledge within ${ackTimeout} ms; retry later`, retryAfterSeconds };
    }
  }

  /** Takes a slot for one request; false when `maxConcurrent` are in flight. */
  #admit(): boolean {
    if (this.#inflight >= (this.#o.maxConcurrent ?? 64)) return false;
    this.#inflight++;
    return true;
  }

  async #serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const o = this.#o;
    const max = o.maxRequestBytes ?? 8 * 1024 * 1024;
    const json = String(req.headers['content-type'] ?? '').startsWith('application/json');
    const reply = (outcome: Outcome) => {
      if (outcome.ok) {
        const rejected = outcome.rejected ?? 0;
        const message = outcome.message ?? '';
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? partialSuccessJson(signal!, rejected, message) : Buffer.from(partialSuccessProtobuf(rejected, message)));
        return;
      }
      const headers: Record<string, string> = { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
      if (outcome.retryAfterSeconds !== undefined) headers['retry-after'] = String(outcome.retryAfterSeconds);
      res.writeHead(outcome.http, headers);
      res.end(json ? statusJson(outcome.grpc, outcome.message) : Buffer.from(statusProtobuf(outcome.grpc, outcome.message)));
    };
    const refuse = (http: number, grpcCode: number, message: string, retryAfterSeconds?: number) => {
      req.resume();
      reply({ ok: false, http, grpc: grpcCode, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
    };
    const signal = PATHS[(req.url ?? '').split('?')[0]!];
    if (req.method !== 'POST' || !signal) return refuse(404, GRPC.NOT_FOUND, `no OTLP endpoint at ${req.method} ${req.url} (use POST /v1/traces, /v1/logs or /v1/metrics)`);
    const type = String(req.headers['content-type'] ?? '');
    if (!json && !type.startsWith('application/x-protobuf')) return refuse(415, GRPC.INVALID_ARGUMENT, `unsupported Content-Type "${type}" (use application/x-protobuf or application/json)`);
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!['identity', '', 'gzip', 'deflate'].includes(encoding)) return refuse(415, GRPC.INVALID_ARGUMENT, `unsupported Content-Encoding "${encoding}" (use gzip, deflate or identity)`);
    if (Number(req.headers['content-length'] ?? 0) > max) return refuse(413, GRPC.RESOURCE_EXHAUSTED, `body is larger than the ${max}-byte limit`);
    if (!this.#admit()) {
      this.#requests.inc({ signal, protocol: 'http', result: 'busy' });
      return refuse(429, GRPC.UNAVAILABLE, 'too many requests in flight; retry later', o.retryAfterSeconds ?? 5);
    }
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) return refuse(413, GRPC.RESOURCE_EXHAUSTED, `body is larger than the ${max}-byte limit`);
        chunks.push(chunk);
      }
      let body = Buffer.concat(chunks);
      if (encoding === 'gzip' || encoding === 'deflate') {
        try {
          body = await (encoding === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: max });
        } catch (e) {
          const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
          return refuse(tooLarge ? 413 : 400, tooLarge ? GRPC.RESOURCE_EXHAUSTED : GRPC.INVALID_ARGUMENT, tooLarge ? `decompressed body is larger than the ${max}-byte limit` : `body is not valid ${encoding} data`);
        }
      }
      if (body.length === 0) return refuse(400, GRPC.INVALID_ARGUMENT, 'empty request body');
      const outcome = await this.handle(signal, body, req.socket.remoteAddress ?? '', json ? 'json' : 'protobuf');
      this.#requests.inc({ signal, protocol: 'http', result: outcome.ok ? 'ok' : String(outcome.http) });
      reply(outcome);
    } finally {
      this.#inflight--;
    }
  }

  #grpcHandler(signal: Signal): grpc.handleUnaryCall<Buffer, Buffer> {
    return (call, callback) => {
      const fail = (outcome: Extract<Outcome, { ok: false }>) => {
        const metadata = new grpc.Metadata();
        if (outcome.retryAfterSeconds !== undefined) metadata.set('grpc-status-details-bin', retryInfoStatus(outcome.grpc, outcome.message, outcome.retryAfterSeconds));
        callback({ code: outcome.grpc, details: outcome.message, metadata });
      };
      if (!this.#admit()) {
        this.#requests.inc({ signal, protocol: 'grpc', result: 'busy' });
        fail({ ok: false, http: 429, grpc: GRPC.UNAVAILABLE, message: 'too many requests in flight; retry later', retryAfterSeconds: this.#o.retryAfterSeconds ?? 5 });
        return;
      }
      this.handle(signal, call.request, call.getPeer())
        .then(
          (outcome) => {
            this.#requests.inc({ signal, protocol: 'grpc', result: outcome.ok ? 'ok' : String(outcome.grpc) });
            if (outcome.ok) callback(null, Buffer.from(partialSuccessProtobuf(outcome.rejected ?? 0, outcome.message ?? '')));
            else fail(outcome);
          },
          (e: unknown) => {
            this.#o.log.error({ err: e, signal }, 'relaying a gRPC request failed');
            fail({ ok: false, http: 500, grpc: GRPC.INTERNAL, message: 'internal error' });
          },
        )
        .finally(() => this.#inflight--);
    };
  }

  /** Listens on both protocols; resolves with the bound ports (gRPC -1 when turned off). */
  async start(): Promise<{ httpPort: number; grpcPort: number }> {
    const o = this.#o;
    const host = o.host ?? '0.0.0.0';
    const max = o.maxRequestBytes ?? 8 * 1024 * 1024;
    const server = createServer((req, res) => {
      this.#serveHttp(req, res).catch((e: unknown) => {
        o.log.error({ err: e }, 'relaying an HTTP request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(statusJson(GRPC.INTERNAL, 'internal error'));
      });
    });
    server.requestTimeout = (o.ackTimeoutMs ?? 8000) + 30_000;
    this.#http = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.httpPort ?? 4318, host, () => resolve());
    });
    const httpPort = (server.address() as { port: number }).port;
    let grpcPort = -1;
    if ((o.grpcPort ?? 4317) >= 0) {
      const g = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': 4 * 1024 * 1024 });
      const identity = (b: Buffer) => b;
      for (const signal of ['traces', 'logs', 'metrics'] as const) {
        g.addService(
          { Export: { path: SERVICES[signal], requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
          { Export: this.#grpcHandler(signal) },
        );
      }
      grpcPort = await new Promise<number>((resolve, reject) =>
        g.bindAsync(`${host}:${o.grpcPort ?? 4317}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
      this.#grpc = g;
    }
    o.log.info({ httpPort, grpcPort }, 'OTLP relay listening');
    return { httpPort, grpcPort };
  }

  /** Stops listening; requests in flight finish (forced after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    const http = this.#http;
    const g = this.#grpc;
    await Promise.all([
      http
        ? new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeIdleConnections();
            setTimeout(() => http.closeAllConnections(), graceMs).unref();
          })
        : undefined,
      g
        ? new Promise<void>((resolve) => {
            const force = setTimeout(() => {
              g.forceShutdown();
              resolve();
            }, graceMs);
            force.unref();
            g.tryShutdown(() => {
              clearTimeout(force);
              resolve();
            });
          })
        : undefined,
    ]);
  }
}

export function createOtlpRelay(options: OtlpRelayOptions): OtlpRelay {
  return new OtlpRelay(options);
}
