/**
 * With --auth-token set, ingest (OTLP/HTTP, OTLP/gRPC) and query need `Authorization: Bearer <token>`.
 */
import { Metadata } from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPlatform, startTestPlatform } from '../support/platform.ts';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform(['--auth-token', 'old-token,s3cret']);
});
afterAll(async () => {
  await platform?.stop();
});

function body() {
  const exporter = new InMemorySpanExporter();
  const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'auth' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  tp.getTracer('t').startSpan('op').end();
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

async function exportOverGrpc(exporter: SpanExporter): Promise<{ code: number; error?: Error | undefined }> {
  const exporterSpans = new InMemorySpanExporter();
  const tp = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'auth-grpc' }), spanProcessors: [new SimpleSpanProcessor({ exporter: exporterSpans })] });
  tp.getTracer('t').startSpan('op').end();
  return new Promise((resolve) => exporter.export(exporterSpans.getFinishedSpans(), (r) => resolve({ code: r.code, error: r.error })));
}

describe('bearer-token auth', () => {
  const post = (headers: Record<string, string>) =>
    fetch(`${platform.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...headers }, body: body() });

  it('OTLP/HTTP: 401 without or with a wrong token, 200 with either configured token', async () => {
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post({ authorization: 's3cret' })).status).toBe(401);
    expect((await post({ authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await post({ authorization: 'bearer old-token' })).status).toBe(200);
  });

  it('OTLP/gRPC: UNAUTHENTICATED without a token, success with it', async () => {
    const denied = await exportOverGrpc(new GrpcExporter({ url: platform.grpcUrl }));
    expect(denied.code).not.toBe(0);
    expect(String(denied.error?.message)).toMatch(/UNAUTHENTICATED|bearer token/i);
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer s3cret');
    const allowed = await exportOverGrpc(new GrpcExporter({ url: platform.grpcUrl, metadata }));
    expect(allowed.error).toBeUndefined();
    expect(allowed.code).toBe(0);
  });

  it('query API: 401 without or with a wrong token, 200 with it; probes stay open', async () => {
    const url = `${platform.apiUrl}/api/v1/services`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await fetch(`${platform.apiUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${platform.apiUrl}/readyz`)).status).toBe(200);
  });
});
