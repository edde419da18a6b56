/**
 * Malformed requests get a clear 4xx, the process stays up, and nothing from a rejected request is written.
 */
import { gzipSync } from 'node:zlib';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '#storage/sql.ts';
import { type TestPlatform, startTestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
const LIMIT = 64 * 1024;
beforeAll(async () => {
  platform = await startTestPlatform(['--max-request-bytes', String(LIMIT)]);
});
afterAll(async () => {
  await platform?.stop();
});

function spans(n: number) {
  const exporter = new InMemorySpanExporter();
  const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'bad-input' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = tp.getTracer('t');
  for (let i = 0; i < n; i++) tracer.startSpan(`op-${i}`).end();
  return exporter.getFinishedSpans();
}

async function post(body: Uint8Array | string, headers: Record<string, string>, path = '/v1/traces') {
  const res = await fetch(`${platform.otlpHttpUrl}${path}`, { method: 'POST', headers, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function spanCount(): Promise<number> {
  const [row] = await platform.store!.rows<{ n: string }>(sql`SELECT count() AS n FROM otel.otel_traces WHERE ServiceName = 'bad-input'`);
  return Number(row!.n);
}

const PB = { 'content-type': 'application/x-protobuf' };
const JSON_H = { 'content-type': 'application/json' };

describe('OTLP/HTTP rejects bad input clearly and writes nothing', () => {
  it('malformed protobuf → 400 with a google.rpc.Status naming the problem', async () => {
    const good = ProtobufTraceSerializer.serializeRequest(spans(3))!;
    const truncated = good.slice(0, good.length - 5);
    const res = await post(truncated, PB);
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/x-protobuf');
    expect(res.text).toMatch(/invalid OTLP protobuf traces request/);
    const garbage = await post(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), PB);
    expect(garbage.status).toBe(400);
  });

  it('invalid JSON and JSON of the wrong shape → 400 with a JSON Status', async () => {
    const res = await post('{"resourceSpans": [', JSON_H);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ code: 3, message: expect.stringMatching(/invalid OTLP json traces request/) });
    const shape = await post('{"resourceSpans": {"not": "an array"}}', JSON_H);
    expect(shape.status).toBe(400);
    expect(JSON.parse(shape.text).message).toMatch(/resourceSpans/);
  });

  it('invalid ids → 400 and none of the request is written', async () => {
    const good = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans(5))));
    good.resourceSpans[0].scopeSpans[0].spans[4].traceId = 'abc'; // the last span is bad: nothing may be written
    const res = await post(JSON.stringify(good), JSON_H);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).message).toMatch(/traceId/);
  });

  it('wrong content type → 415', async () => {
    const res = await post('hello', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.text).toMatch(/Content-Type/);
  });

  it('oversized body → 413, compressed or once decompressed', async () => {
    const big = new Uint8Array(LIMIT + 1);
    expect((await post(big, PB)).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(LIMIT * 4)); // small on the wire, over the limit inflated
    expect(bomb.length).toBeLessThan(LIMIT);
    const res = await post(bomb, { ...PB, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/decompressed/);
  });

  it('empty body → 400; corrupt gzip → 400; unknown encoding → 415', async () => {
    expect((await post(new Uint8Array(0), PB)).status).toBe(400);
    const corrupt = await post(Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]), { ...PB, 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.text).toMatch(/gzip/);
    expect((await post('x', { ...PB, 'content-encoding': 'br' })).status).toBe(415);
  });

  it('stays up and writes nothing from the rejected requests; a good gzip request then succeeds', async () => {
    await platform.inserted();
    expect(await spanCount()).toBe(0);
    const ok = await post(gzipSync(ProtobufTraceSerializer.serializeRequest(spans(7))!), { ...PB, 'content-encoding': 'gzip' });
    expect(ok.status).toBe(200);
    await platform.inserted();
    expect(await spanCount()).toBe(7);
  });

  it('unknown paths → 404', async () => {
    expect((await post('{}', JSON_H, '/v1/profiles')).status).toBe(404);
  });
});
