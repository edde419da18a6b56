/**
 * Micro-benchmark of the OTLP trace decoders: spans/s for a realistic ~1 MB ExportTraceServiceRequest, protobuf and
 * OTLP/JSON, produced by the official serializers from real SDK spans.
 *
 *   node --import tsx ingest/otlp/decode.bench.ts [targetBytes]
 *
 * Spans carry 10 attributes (HTTP server conventions; some values repeat, some are unique per request, as in real
 * traffic), a parent, and every 10th span an exception event; the resource carries 8 attributes. Figures are the best
 * and the median of several timed rounds after warm-up, in wall-clock time (the machine may be shared).
 *
 * Decoding allocates the rows it returns (~1 MB per MB of protobuf), so with V8's default young generation most of
 * them survive a scavenge and get promoted: garbage collection can take as much time as decoding. The run is repeated
 * in a child process with `--max-semi-space-size=64`, the setting an ingest process should run with.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeJson, decodeProtobuf } from './decode.ts';

const targetBytes = Number(process.argv[2] ?? 1_000_000);
const child = process.argv[3] === '--child';

async function makeSpans(count: number): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'checkout',
      'service.version': '1.4.2',
      'service.namespace': 'shop',
      'deployment.environment.name': 'production',
      'host.name': 'ip-10-0-12-34.eu-west-1.compute.internal',
      'k8s.pod.name': 'checkout-7d9f8b6c5-x2k4p',
      'k8s.namespace.name': 'shop',
      'cloud.region': 'eu-west-1',
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-http', '0.57.1');
  const routes = ['/api/cart/:id', '/api/checkout', '/api/products/:sku', '/api/user/session', '/healthz'];
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
  });
  const t0 = 1_700_000_000;
  for (let i = 0; i < count; i++) {
    const route = routes[i % routes.length]!;
    const status = i % 17 === 0 ? 500 : 200;
    const span = tracer.startSpan(
      `GET ${route}`,
      {
        kind: SpanKind.SERVER,
        startTime: [t0 + Math.floor(i / 100), (i * 7_919_993) % 1_000_000_000],
        attributes: {
          'http.request.method': 'GET',
          'http.route': route,
          'url.path': route.replace(':id', String(i % 997)).replace(':sku', `SKU-${i % 211}`),
          'url.scheme': 'https',
          'http.response.status_code': status,
          'server.address': 'checkout.shop.svc.cluster.local',
          'server.port': 8080,
          'client.address': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          'user_agent.original': i % 3 === 0 ? 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' : 'okhttp/4.12.0',
          'app.request.id': `req-${(i * 2_654_435_761) >>> 0}`,
        },
      },
      i % 4 === 0 ? ROOT_CONTEXT : parent,
    );
    if (i % 10 === 0) {
      span.addEvent('exception', { 'exception.type': 'TimeoutError', 'exception.message': 'upstream timed out after 2000 ms' });
    }
    span.setStatus({ code: status === 500 ? SpanStatusCode.ERROR : SpanStatusCode.UNSET });
    span.end([t0 + Math.floor(i / 100), ((i * 7_919_993) % 1_000_000_000) + 1_500_000]);
  }
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

/** Spans per second over `rounds` timed rounds of at least ~200 ms each. */
function measure(decode: () => number, rounds: number): { best: number; median: number } {
  for (let i = 0; i < 20; i++) decode(); // warm-up: let the JIT settle
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let spans = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < 0.2) {
      spans += decode();
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    }
    rates.push(spans / elapsed);
  }
  rates.sort((a, b) => a - b);
  return { best: rates[rates.length - 1]!, median: rates[Math.floor(rates.length / 2)]! };
}

const probe = ProtobufTraceSerializer.serializeRequest(await makeSpans(200))!;
const spans = await makeSpans(Math.max(1, Math.round((200 * targetBytes) / probe.length)));
const proto = ProtobufTraceSerializer.serializeRequest(spans)!;
const json = JsonTraceSerializer.serializeRequest(spans)!;
const jsonText = new TextDecoder().decode(json);

const check = decodeProtobuf('traces', proto);
if (check.accepted !== spans.length) throw new Error(`decoded ${check.accepted} of ${spans.length} spans`);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const report = (name: string, bytes: number, m: { best: number; median: number }) =>
  console.log(
    `${name.padEnd(16)} ${fmt(m.best).padStart(10)} spans/s best, ${fmt(m.median).padStart(10)} median ` +
      `(${((m.best * bytes) / spans.length / 1e6).toFixed(0)} MB/s best)`,
  );

if (!child) {
  console.log(`${spans.length} spans; protobuf ${fmt(proto.length)} bytes, JSON ${fmt(json.length)} bytes`);
  console.log('default V8 heap settings:');
}
report('protobuf', proto.length, measure(() => decodeProtobuf('traces', proto).accepted, 15));
report('JSON (bytes)', json.length, measure(() => decodeJson('traces', json).accepted, 7));
report('JSON (string)', json.length, measure(() => decodeJson('traces', jsonText).accepted, 7));

if (!child) {
  console.log('node --max-semi-space-size=64:');
  const run = spawnSync(
    process.execPath,
    ['--max-semi-space-size=64', '--import', 'tsx', fileURLToPath(import.meta.url), String(targetBytes), '--child'],
    { stdio: 'inherit' },
  );
  if (run.status !== 0) process.exitCode = run.status ?? 1;
}
