/**
 * Issue 10, "a lean gateway": `crowsnest gateway` never loads the embedded ClickHouse library. It did (the store
 * module imported chdb at its top, and every command loaded the store), which cost ~150 MB of a gateway's
 * 264 MB idle RSS. The process is checked from outside, as an operator would: /proc/<pid>/maps must not map
 * libchdb, before and after it forwarded a request. Its RSS is reported, not asserted: it depends on the machine.
 */
import { readFileSync } from 'node:fs';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrowsnestProcess, startCrowsnest } from '../../test/support/crowsnest-process.ts';
import { type TestBroker, freePort, startTestBroker } from '../../test/support/kafka.ts';

let broker: TestBroker;
let gateway: CrowsnestProcess;
let otlpHttp: number;

beforeAll(async () => {
  broker = await startTestBroker();
  otlpHttp = await freePort();
  gateway = await startCrowsnest('gateway', ['--kafka-brokers', broker.bootstrap, '--otlp-http-port', String(otlpHttp), '--otlp-grpc-port', '0', '--kafka-topic-spans', 'lean_gateway_spans'], await freePort());
});

afterAll(async () => {
  await gateway?.stop();
  await broker?.destroy();
});

/** A request as the official SDK serializes it: three spans of one trace. */
function traceRequest(): Uint8Array {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('lean');
  tracer.startActiveSpan('root', (root) => {
    tracer.startSpan('child 1').end();
    tracer.startSpan('child 2').end();
    root.end();
  });
  return ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
}

const chdbMappings = (pid: number) => readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => /chdb/i.test(l));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

describe('crowsnest gateway', () => {
  it('does not load chDB, idle or after forwarding a request', async ({ annotate }) => {
    expect(chdbMappings(gateway.pid)).toEqual([]);
    await annotate(`idle RSS ${rssMiB(gateway.pid).toFixed(0)} MiB`);

    const res = await fetch(`http://127.0.0.1:${otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: traceRequest() });
    expect(res.status).toBe(200);
    expect(chdbMappings(gateway.pid)).toEqual([]);
  });
});
