/**
 * The receivers answer with the platform's error model over both protocols: malformed input is the client's
 * fault (400 / INVALID_ARGUMENT, with the decoder's message); anything else the decoder throws is ours (500 /
 * INTERNAL, no internal text, a request id that finds the logged exception), so an exporter's data is not
 * blamed as malformed; pipeline refusals keep their codes and retry hints.
 */
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import type * as Decode from '#otlp/decode.ts';
import type { PublishResult, Transport } from '../pipeline/transport.ts';
import { GrpcReceiver } from './grpc.ts';
import { buildHttpReceiver } from './http.ts';

// The decoder fails unexpectedly only when a test says so; otherwise it is the real one.
const decoderBug = vi.hoisted(() => ({ on: false }));
vi.mock('#otlp/decode.ts', async (importOriginal) => {
  const real = await importOriginal<typeof Decode>();
  const guard =
    <A extends unknown[], R>(fn: (...a: A) => R) =>
    (...a: A): R => {
      if (decoderBug.on) throw new TypeError('Cannot read properties of undefined (reading "secretInternalField")');
      return fn(...a);
    };
  return { ...real, decodeProtobuf: guard(real.decodeProtobuf), validateProtobuf: guard(real.validateProtobuf), decodeJson: guard(real.decodeJson) };
});

const published: PublishResult[] = [];
let next: PublishResult | Error = { ok: true };
const transport: Transport = {
  name: 'test',
  needsRows: false,
  publish: () => {
    const r = next;
    if (r instanceof Error) return Promise.reject(r);
    published.push(r);
    return Promise.resolve(r);
  },
  close: () => Promise.resolve(),
};

const lines: Record<string, unknown>[] = [];
const log = createLogger({
  level: 'debug',
  format: 'json',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  }),
});
const metrics = createMetrics();
const deps = { transport, metrics, log, maxRequestBytes: 64 * 1024, authTokens: ['t0ken'] };

function traces(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const tp = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  tp.getTracer('t').startSpan('op').end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

/** google.rpc.Status { int32 code = 1; string message = 2; } */
function readStatus(bytes: Buffer): { code: number; message: string } {
  let i = 0;
  const varint = () => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  const out = { code: 0, message: '' };
  while (i < bytes.length) {
    const tag = varint();
    if (tag === 0x08) out.code = varint();
    else if ((tag & 7) === 2) {
      const len = varint();
      if (tag >> 3 === 2) out.message = bytes.subarray(i, i + len).toString();
      i += len;
    } else throw new Error(`unexpected tag ${tag}`);
  }
  return out;
}

afterEach(() => {
  decoderBug.on = false;
  next = { ok: true };
  lines.length = 0;
});

describe('OTLP/HTTP errors', () => {
  const app = buildHttpReceiver(deps);
  afterAll(() => app.close());
  const post = (payload: Uint8Array | string, type = 'application/x-protobuf', headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': type, authorization: 'Bearer t0ken', ...headers }, payload: Buffer.from(payload) });

  it('answers an unexpected decoder failure 500/INTERNAL with a request id, not 400, and logs the exception with that id', async () => {
    decoderBug.on = true;
    const res = await post(traces());
    expect(res.statusCode).toBe(500);
    const id = res.headers['x-request-id'];
    expect(typeof id).toBe('string');
    expect(readStatus(res.rawPayload)).toEqual({ code: 13, message: `internal error (request id ${String(id)})` });
    expect(res.body).not.toMatch(/secretInternalField|TypeError|decoder/);
    const logged = lines.find((l) => l['reqId'] === id);
    expect(logged).toMatchObject({ level: 50, code: 'INTERNAL', signal: 'traces' });
    expect(logged?.['msg']).toMatch(/decoder failed unexpectedly/);
    expect(JSON.stringify(logged)).toContain('secretInternalField');
    expect(published).toEqual([]);
  });

  it('does the same for JSON bodies, with a JSON Status', async () => {
    decoderBug.on = true;
    const res = await post('{"resourceSpans":[]}', 'application/json');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 13, message: `internal error (request id ${String(res.headers['x-request-id'])})` });
  });

  it('still answers malformed input 400/INVALID_ARGUMENT with the decoder message, and logs nothing', async () => {
    const res = await post(Uint8Array.from([0xff, 0xff, 0xff]));
    expect(res.statusCode).toBe(400);
    const status = readStatus(res.rawPayload);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^invalid OTLP protobuf traces request: /);
    expect(res.headers['x-request-id']).toBeUndefined();
    expect(lines.filter((l) => Number(l['level']) >= 40)).toEqual([]);
  });

  it('answers a full pipeline 503/UNAVAILABLE with Retry-After and its reason', async () => {
    next = { ok: false, retryable: true, reason: 'ingest queue is full', retryAfterSeconds: 2 };
    const res = await post(traces());
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(readStatus(res.rawPayload)).toEqual({ code: 14, message: `ingest queue is full (request id ${String(res.headers['x-request-id'])})` });
  });

  it('answers a permanent refusal 500 with its reason (not retryable by exporters)', async () => {
    next = { ok: false, retryable: false, reason: 'Kafka refused the request: too large' };
    const res = await post(traces());
    expect(res.statusCode).toBe(500);
    expect(readStatus(res.rawPayload).message).toMatch(/^Kafka refused the request: too large \(request id /);
  });

  it('answers an exception thrown past accept 500 without its text', async () => {
    next = new Error('ECONNRESET from somewhere deep');
    const res = await post(traces());
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('ECONNRESET');
    expect(lines.find((l) => l['reqId'] === res.headers['x-request-id'])).toMatchObject({ level: 50 });
  });

  it('maps the other codes: 401/UNAUTHENTICATED, 404/NOT_FOUND, 413/RESOURCE_EXHAUSTED, 415', async () => {
    const unauth = await post(traces(), 'application/x-protobuf', { authorization: 'Bearer nope' });
    expect([unauth.statusCode, readStatus(unauth.rawPayload).code]).toEqual([401, 16]);
    const missing = await app.inject({ method: 'POST', url: '/v1/profiles', headers: { 'content-type': 'application/json', authorization: 'Bearer t0ken' }, payload: '{}' });
    expect([missing.statusCode, missing.json<{ code: number }>().code]).toEqual([404, 5]);
    const big = await post(new Uint8Array(64 * 1024 + 1));
    expect([big.statusCode, readStatus(big.rawPayload).code]).toEqual([413, 8]);
    const type = await post('x', 'text/plain');
    expect([type.statusCode, readStatus(type.rawPayload).code]).toEqual([415, 3]);
  });
});

describe('OTLP/gRPC errors', () => {
  const receiver = new GrpcReceiver(deps);
  let client: grpc.Client;
  beforeAll(async () => {
    const port = await receiver.listen('127.0.0.1', 0);
    client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await receiver.close(100);
  });
  const identity = (b: Buffer) => b;
  const call = (body: Uint8Array, token = 't0ken') =>
    new Promise<grpc.ServiceError | undefined>((resolve) => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', identity, identity, Buffer.from(body), md, (err) => resolve(err ?? undefined));
    });

  it('answers an unexpected decoder failure INTERNAL with a request id, and logs the exception with it', async () => {
    decoderBug.on = true;
    const err = await call(traces());
    expect(err?.code).toBe(grpc.status.INTERNAL);
    const id = /request id ([\w-]+)/.exec(err!.details)?.[1];
    expect(err!.details).toBe(`internal error (request id ${id})`);
    expect(JSON.stringify(lines.find((l) => l['reqId'] === id))).toContain('secretInternalField');
  });

  it('answers malformed input INVALID_ARGUMENT with the decoder message', async () => {
    const err = await call(Uint8Array.from([0xff, 0xff, 0xff]));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/^invalid OTLP protobuf traces request: /);
  });

  it('answers a full pipeline UNAVAILABLE with RetryInfo, and a bad token UNAUTHENTICATED', async () => {
    next = { ok: false, retryable: true, reason: 'ingest queue is full', retryAfterSeconds: 3 };
    const err = await call(traces());
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    const details = err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(details.toString('latin1')).toContain('type.googleapis.com/google.rpc.RetryInfo');
    expect((await call(traces(), 'nope'))?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('accepts a good request', async () => {
    expect(await call(traces())).toBeUndefined();
  });
});
