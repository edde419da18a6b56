/**
 * The first page's API answers start as the page is served (query/early.ts), over HTTP against a real platform
 * (embedded chDB) with spans sent by the OpenTelemetry SDK: the page carries `now`, the request the page's early
 * script makes at that `now` is answered from the run its page started (said by a header), with the same body a
 * fresh request gets, once; with auth on, pages start nothing.
 */
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../test/support/eventually.ts';
import { type TestPlatform, startTestPlatform } from '../test/support/platform.ts';
import { earlyUrls } from '../ui/src/shell/early-requests.ts';
import { EARLY_ANSWER_HEADER, EarlyAnswers, KEEP_MS, MAX_ENTRIES, normalize } from './early.ts';

let platform: TestPlatform;

/** `count` Server spans of `service`, in the last minutes, through the SDK's OTLP/HTTP exporter. */
async function sendSpans(url: string, service: string, count: number): Promise<void> {
  const tp = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'k8s.namespace.name': 'shop' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${url}/v1/traces` }) })],
  });
  const tracer = tp.getTracer('early-test');
  const base = Date.now() - 120_000;
  for (let i = 0; i < count; i++) tracer.startSpan(`GET /item/${i % 3}`, { kind: SpanKind.SERVER, startTime: base + i * 1000 }).end(base + i * 1000 + 5);
  await tp.forceFlush();
  await tp.shutdown();
}

/** GET a page; its `now` from the meta tag. */
async function page(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; html: string; now: number | undefined }> {
  const res = await fetch(`${platform.apiUrl}${path}`, { headers });
  const html = await res.text();
  const m = /<meta name="crowsnest-now" content="(\d+)">/.exec(html);
  return { res, html, now: m ? Number(m[1]) : undefined };
}

describe('a page starts its first API requests as it is served', () => {
  beforeAll(async () => {
    platform = await startTestPlatform();
    await sendSpans(platform.otlpHttpUrl, 'early-shop', 20);
    await platform.inserted();
    await eventually(async () => {
      const r = await fetch(`${platform.apiUrl}/api/v1/services?start=now-1h`);
      expect(((await r.json()) as { services: unknown[] }).services.length).toBeGreaterThan(0);
    }, 30_000);
  }, 120_000);

  afterAll(() => platform?.stop());

  it('the page carries its now; the rows at that now are answered from the page’s run, once, as a fresh request would be', async () => {
    const { res, html, now } = await page('/services?from=now-1h');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain('<div id="root">');
    expect(now).toBeGreaterThan(Date.now() - 60_000);
    const [url] = earlyUrls('/services', '?from=now-1h', now!);
    expect(url).toMatch(/^\/api\/v1\/services\?start=\d+&end=\d+&limit=1000$/);

    const early = await fetch(`${platform.apiUrl}${url}`);
    expect(early.status).toBe(200);
    expect(early.headers.get(EARLY_ANSWER_HEADER)).toBe('started-with-page');
    const body = (await early.json()) as { services: { serviceName: string }[] };
    expect(body.services.map((s) => s.serviceName)).toContain('early-shop');

    // Handed out once: the same URL again runs the query itself, and finds the same.
    const again = await fetch(`${platform.apiUrl}${url}`);
    expect(again.headers.get(EARLY_ANSWER_HEADER)).toBeNull();
    expect(await again.json()).toEqual(body);
  });

  it('a service page starts its four requests; each is answered from its run', async () => {
    const { now } = await page('/services/early-shop');
    const urls = earlyUrls('/services/early-shop', '', now!);
    expect(urls).toHaveLength(4);
    for (const url of urls) {
      const r = await fetch(`${platform.apiUrl}${url}`);
      expect(r.status, url).toBe(200);
      expect(r.headers.get(EARLY_ANSWER_HEADER), url).toBe('started-with-page');
    }
  });

  it('a request at another now, or with other parameters, is not given the page’s answer', async () => {
    const { now } = await page('/services');
    const [other] = earlyUrls('/services', '', now! - 5_000);
    const r = await fetch(`${platform.apiUrl}${other}`);
    expect(r.status).toBe(200);
    expect(r.headers.get(EARLY_ANSWER_HEADER)).toBeNull();
  });

  it('an error answer (a trace that is not there) is handed over as the route gave it', async () => {
    const id = 'feedfacefeedfacefeedfacefeedface';
    const { now } = await page(`/traces/${id}`);
    const [url] = earlyUrls(`/traces/${id}`, '', now!);
    const r = await fetch(`${platform.apiUrl}${url}`);
    const fresh = await fetch(`${platform.apiUrl}${url}`);
    expect(r.headers.get(EARLY_ANSWER_HEADER)).toBe('started-with-page');
    expect(r.status).toBe(404);
    expect(r.status).toBe(fresh.status);
    expect(await r.json()).toEqual(await fresh.json());
  });

  it('pages without first requests (logs) still carry now and start nothing', async () => {
    const { res, now } = await page('/logs');
    expect(res.status).toBe(200);
    expect(now).toBeDefined();
  });
});

describe('with auth on', () => {
  let secured: TestPlatform;
  beforeAll(async () => {
    secured = await startTestPlatform(['--auth-token', 'early-secret']);
  }, 60_000);
  afterAll(() => secured?.stop());

  it('a page is the built index.html (no now) and its API requests still need the token', async () => {
    const res = await fetch(`${secured.apiUrl}/services`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toMatch(/<meta name="crowsnest-now"/);
    expect(html).toContain('<div id="root">');
    expect((await fetch(`${secured.apiUrl}/api/v1/services`)).status).toBe(401);
  });
});

describe('EarlyAnswers bounds', () => {
  it('keeps an answer KEEP_MS, and starts nothing past MAX_ENTRIES runs', () => {
    let t = Date.UTC(2024, 2, 1, 14, 0, 0);
    const answers = new EarlyAnswers(() => t);
    const started: string[] = [];
    // A stand-in for the app's inject (a unit-level check of the bookkeeping; the real runs are tested above).
    const app = { inject: ({ url }: { url: string }) => (started.push(url), Promise.resolve({ statusCode: 200, headers: {}, rawPayload: Buffer.from('{}') })) };
    const asApp = app as unknown as Parameters<EarlyAnswers['startPage']>[0];
    expect(answers.startPage(asApp, '/services/x', '', undefined).started).toBe(4);
    const first = earlyUrls('/services/x', '', t).map(normalize);
    t += KEEP_MS + 1;
    expect(answers.take(first[0]!, undefined)).toBeUndefined();
    expect(answers.size).toBe(0);
    for (let i = 0; i < MAX_ENTRIES / 4; i++) answers.startPage(asApp, `/services/s${i}`, '', undefined);
    expect(answers.size).toBe(MAX_ENTRIES);
    expect(answers.startPage(asApp, '/services', '', undefined).started).toBe(0);
    expect(started).toHaveLength(4 + MAX_ENTRIES);
  });
});
