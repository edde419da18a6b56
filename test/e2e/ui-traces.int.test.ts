/**
 * The traces surface in a real browser (Debian's Chromium through playwright-core) against the real platform,
 * fed through the official OpenTelemetry SDK (tracer, OTLP exporters, the logs SDK): the search page (its list
 * and scatter count equal the API's, filters and pages in the URL across reload and back/forward, a scatter
 * click and brush), the trace view (span details with attributes, events, links and status, the critical path,
 * the trace's log records on the timeline, the link to a span's logs, search in the trace, keyboard), an orphan
 * span shown with its missing parent, and a 10,000-span trace scrolled to its last span (the time to render it
 * is logged, not asserted). Screenshots of each page go to test/e2e/screenshots/.
 */
import { type Context, SpanKind, SpanStatusCode, TraceFlags, context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TraceResponse, TraceScatterResponse, TraceSearchResponse } from '../../query/contract.ts';
import { formatCount } from '../../ui/src/shared/format/format.ts';
import { useUiFixture } from '../support/ui-browser.ts';
import { type TestPlatform, getJson } from '../support/platform.ts';


let platform: TestPlatform;
let page: Page;

const ui = useUiFixture();
beforeAll(() => {
  ({ platform, page } = ui());
});

const shot = (name: string) => ui().shot(name, false);

function provider(service: string) {
  return new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'k8s.namespace.name': 'shop' }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${platform.otlpHttpUrl}/v1/traces` }), maxQueueSize: 20_000, maxExportBatchSize: 1000, scheduledDelayMillis: 50 }),
    ],
  });
}

const BASE = Date.now() - 10 * 60_000;
const ids = { checkout: '', charge: '', orphanTrace: '', big: '', bigLast: '', bigLastName: '' };
const ORPHAN_PARENT = 'deadbeefdeadbeef';
const SMALL = 55;

/** What the test sends: a checkout trace over two services (an error span with events and links), an orphan, 55 small traces, a 10,000-span trace, and logs of the checkout trace. */
async function sendAll() {
  const front = provider('frontend');
  const cart = provider('cart');
  const ft = front.getTracer('ui-traces-test', '1.0.0');
  const ct = cart.getTracer('ui-traces-test', '1.0.0');
  const at = (ms: number) => BASE + ms;

  // checkout: frontend GET /checkout → cart POST /cart → charge (error) and a DB call.
  const root = ft.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(0), attributes: { 'http.request.method': 'GET', 'http.route': '/checkout' } });
  const rootCtx = trace.setSpan(context.active(), root);
  const cartSpan = ct.startSpan('POST /cart', { kind: SpanKind.SERVER, startTime: at(20) }, rootCtx);
  const cartCtx = trace.setSpan(context.active(), cartSpan);
  const db = ct.startSpan('SELECT cart', { kind: SpanKind.CLIENT, startTime: at(25), attributes: { 'db.system': 'postgresql' } }, cartCtx);
  db.end(at(60));
  const charge = ct.startSpan(
    'charge',
    {
      kind: SpanKind.CLIENT,
      startTime: at(70),
      attributes: { 'payment.card': 'visa', 'payment.amount': 42.5 },
      links: [{ context: { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 }, attributes: { 'link.reason': 'retry-of' } }],
    },
    cartCtx,
  );
  charge.addEvent('card declined', { 'decline.code': 'insufficient_funds' }, at(150));
  charge.addEvent('retry scheduled', {}, at(160));
  charge.setStatus({ code: SpanStatusCode.ERROR, message: 'payment declined' });
  charge.end(at(180));
  cartSpan.end(at(200));
  root.end(at(230));
  ids.checkout = root.spanContext().traceId;
  ids.charge = charge.spanContext().spanId;

  // An orphan: its parent span id names no span of its trace.
  const orphanParent: Context = trace.setSpanContext(context.active(), { traceId: 'f0'.repeat(16), spanId: ORPHAN_PARENT, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const o = ct.startSpan('reconcile', { kind: SpanKind.CONSUMER, startTime: at(1000) }, orphanParent);
  ct.startSpan('reconcile.step', { startTime: at(1010) }, trace.setSpan(context.active(), o)).end(at(1020));
  o.end(at(1050));
  ids.orphanTrace = o.spanContext().traceId;

  // Small traces, to page through.
  for (let i = 0; i < SMALL; i++) ft.startSpan('GET /ping', { kind: SpanKind.SERVER, startTime: at(2000 + i * 100) }).end(at(2000 + i * 100 + 2 + (i % 7)));

  // 10,000 spans: a root, 99 groups of 100 leaves, 0.1 ms apart.
  const bigRoot = ft.startSpan('batch import', { kind: SpanKind.SERVER, startTime: at(20_000) });
  const bigCtx = trace.setSpan(context.active(), bigRoot);
  let t = 20_000;
  for (let g = 0; g < 99; g++) {
    const gs = ft.startSpan(`group-${g}`, { startTime: at(t) }, bigCtx);
    const gctx = trace.setSpan(context.active(), gs);
    for (let l = 0; l < 100; l++) {
      const leaf = ft.startSpan(`leaf-${g}-${l}`, { startTime: at(t), attributes: { 'item.index': g * 100 + l } }, gctx);
      t += 0.1;
      leaf.end(at(t));
      if (g === 98 && l === 99) {
        ids.bigLast = leaf.spanContext().spanId;
        ids.bigLastName = `leaf-${g}-${l}`;
      }
    }
    gs.end(at(t));
  }
  bigRoot.end(at(t + 1));
  ids.big = bigRoot.spanContext().traceId;

  await Promise.all([front.forceFlush(), cart.forceFlush()]);
  await Promise.all([front.shutdown(), cart.shutdown()]);

  // Log records: two on the charge span, one on a span id that is not in the trace (trace level).
  const lp = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'cart' }),
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${platform.otlpHttpUrl}/v1/logs` }) })],
  });
  const logger = lp.getLogger('ui-traces-test');
  const onCharge = trace.setSpanContext(context.active(), { traceId: ids.checkout, spanId: ids.charge, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const elsewhere = trace.setSpanContext(context.active(), { traceId: ids.checkout, spanId: 'feedfacefeedface', traceFlags: TraceFlags.SAMPLED, isRemote: true });
  logger.emit({ timestamp: at(100), severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'charging card ending 4242', context: onCharge });
  logger.emit({ timestamp: at(155), severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'card declined: insufficient funds', context: onCharge });
  logger.emit({ timestamp: at(210), severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'audit hook slow', context: elsewhere });
  await lp.forceFlush();
  await lp.shutdown();
  await platform.inserted();
}

const range = () => {
  const to = Date.now() + 60_000;
  return { from: to - 3_600_000, to };
};
const qs = (r: { from: number; to: number }) => `from=${new Date(r.from).toISOString()}&to=${new Date(r.to).toISOString()}`;

/** The trace ids of the list's rendered rows (the table is virtualized: the first ~30 of a page are in the DOM). */
async function listIds(): Promise<string[]> {
  await page.locator('[data-testid="traces-table"] tbody tr[data-row]').first().waitFor();
  return page.$$eval('[data-testid="traces-table"] tbody tr[data-row]', (trs) => trs.map((tr) => tr.getAttribute('data-row')!));
}

describe('the traces UI', () => {
  let r: { from: number; to: number };

  it('an empty search says what to do next', async () => {
    await page.goto(`${platform.apiUrl}/traces`);
    await page.getByText('No traces in this time range').waitFor();
    await shot('traces-empty');
  });

  it('the search page lists what the API finds, and the scatter counts what it counts', async () => {
    await sendAll();
    r = range();
    await page.goto(`${platform.apiUrl}/traces?${qs(r)}`);
    const api = (await getJson<TraceSearchResponse>(`${platform.apiUrl}/api/v1/traces?start=${r.from}&end=${r.to}&limit=50`)).body;
    expect(api.traces).toHaveLength(50);
    const shown = await listIds();
    expect(shown.length).toBeGreaterThan(10);
    expect(shown).toEqual(api.traces.slice(0, shown.length).map((t) => t.traceId));
    // The table holds the whole page (rows beyond the view are virtualized).
    expect(await page.locator('[data-testid="traces-table"] table').getAttribute('aria-rowcount')).toBe('51');
    const scatter = (await getJson<TraceScatterResponse>(`${platform.apiUrl}/api/v1/traces/scatter?start=${r.from}&end=${r.to}`)).body;
    // Roots: checkout, 55 pings, the big trace (the orphan has no root).
    expect(scatter.total).toBe(SMALL + 2);
    await expect.poll(() => page.getByTestId('scatter-count').textContent()).toContain(`${formatCount(scatter.total)} traces (root spans)`);
    expect(await page.locator('[data-testid="traces-scatter"] circle.pt').count()).toBe(scatter.points.length);
    expect(await page.locator('[data-testid="traces-scatter"] circle.pt.error').count()).toBe(0); // no root failed
    expect(await page.getByTestId('page-range').textContent()).toContain('1–50 · more');
    await shot('traces');
  });

  it('pages: Older shows the rest; the page survives reload and Back returns to the first', async () => {
    await page.getByTestId('next-page').click();
    await page.waitForURL(/cursors=/);
    const api = (await getJson<TraceSearchResponse>(`${platform.apiUrl}/api/v1/traces?start=${r.from}&end=${r.to}&limit=1000`)).body;
    const rest = api.traces.slice(50).map((t) => t.traceId);
    expect(rest).toHaveLength(SMALL + 3 - 50);
    await expect.poll(listIds).toEqual(rest);
    expect(await page.getByTestId('page-range').textContent()).toContain(`51–${50 + rest.length} · newest first`);
    const second = await listIds();
    await page.reload();
    expect(await listIds()).toEqual(second);
    await page.goBack();
    await expect.poll(() => page.getByTestId('page-range').textContent()).toContain('1–50');
  });

  it('filters live in the URL: service, status, duration, attribute; reload and back/forward restore them', async () => {
    await page.getByTestId('service-filter').selectOption('cart');
    await page.waitForURL(/service=cart/);
    await expect.poll(listIds).toEqual([ids.orphanTrace, ids.checkout]);
    await page.getByTestId('status-filter').selectOption('Error');
    await page.waitForURL(/status=Error/);
    await expect.poll(listIds).toEqual([ids.checkout]);
    // With a service, the scatter plots that service's matching spans: the failing charge.
    await expect.poll(() => page.locator('[data-testid="traces-scatter"] circle.pt.error').count()).toBe(1);
    await page.reload();
    expect(await listIds()).toEqual([ids.checkout]);
    expect(await page.getByTestId('status-filter').inputValue()).toBe('Error');
    await page.goBack();
    await expect.poll(listIds).toEqual([ids.orphanTrace, ids.checkout]);
    await page.goForward();
    await expect.poll(listIds).toEqual([ids.checkout]);
    await page.getByTestId('status-filter').selectOption('');
    await page.getByTestId('attr-input').fill('db.system=postgresql');
    await page.getByTestId('attr-input').press('Enter');
    await page.waitForURL(/attr=db.system%3Dpostgresql/);
    await expect.poll(listIds).toEqual([ids.checkout]);
    await page.getByRole('button', { name: 'Remove filter db.system=postgresql' }).click();
    await page.getByTestId('min-duration').fill('100ms');
    await expect.poll(() => page.evaluate<string>('location.search')).toMatch(/minDuration=100ms/);
    // cart spans of 100 ms or more: POST /cart (180 ms) only.
    await expect.poll(listIds).toEqual([ids.checkout]);
    await page.goto(`${platform.apiUrl}/traces?${qs(r)}`);
  });

  it('a click on the scatter opens the trace; a dragged rectangle narrows time and duration', async () => {
    await listIds();
    const box = (await page.locator('[data-testid="traces-scatter"] svg').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.05, box.y + 10);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.98, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/minDuration=/);
    expect(page.url()).toMatch(/maxDuration=/);
    expect(page.url()).toMatch(/from=/);
    await page.goBack();
    await listIds();
    const point = page.locator(`[data-testid="traces-scatter"] circle[data-id^="${ids.big}"]`);
    await point.click({ force: true });
    await page.waitForURL(new RegExp(`/traces/${ids.big}`));
    await page.goBack();
  });

  it('the trace view: span details, critical path, log records on the timeline, the link to a span’s logs', async () => {
    await page.goto(`${platform.apiUrl}/traces/${ids.checkout}?${qs(r)}`);
    await page.getByTestId('waterfall').waitFor();
    expect(await page.getByTestId('span-count').textContent()).toBe('4');
    // Critical path: marked on the root and through cart to charge.
    await page.locator('.wf-row .cp').first().waitFor();
    for (const name of ['GET /checkout', 'POST /cart', 'charge']) {
      expect(await page.locator('.wf-row', { hasText: name }).locator('.cp').count(), name).toBeGreaterThan(0);
    }
    // Log records: two marks on charge, one trace-level (its span is not in the trace).
    await page.getByTestId('trace-level-logs').waitFor();
    expect(await page.locator(`.wf-row[data-span="${ids.charge}"] .log-mark`).count()).toBe(2);
    expect(await page.getByTestId('trace-level-logs').locator('.log-mark').count()).toBe(1);

    await page.locator(`.wf-row[data-span="${ids.charge}"]`).click();
    await page.waitForURL(new RegExp(`span=${ids.charge}`));
    const d = page.getByTestId('span-details');
    expect(await d.getByTestId('detail-status').textContent()).toBe('Error: payment declined');
    const attrs = await d.getByTestId('detail-attributes').textContent();
    expect(attrs).toContain('payment.cardvisa');
    expect(attrs).toContain('payment.amount42.5');
    expect(await d.getByTestId('detail-events').textContent()).toContain('card declined');
    expect(await d.getByTestId('detail-events').textContent()).toContain('insufficient_funds');
    expect(await d.getByTestId('detail-links').textContent()).toContain('cd'.repeat(8));
    expect(await d.getByTestId('detail-logs').textContent()).toContain('card declined: insufficient funds');
    expect(await d.getByTestId('detail-resource').textContent()).toContain('service.namecart');
    expect(await d.getByTestId('detail-resource').textContent()).toContain('k8s.namespace.nameshop');
    expect(await d.getByTestId('detail-scope').textContent()).toBe('ui-traces-test 1.0.0');
    const href = new URL((await d.getByTestId('span-logs-link').getAttribute('href'))!, platform.apiUrl);
    expect(href.pathname).toBe('/logs');
    expect(href.searchParams.get('traceId')).toBe(ids.checkout);
    expect(href.searchParams.get('spanId')).toBe(ids.charge);
    expect(Date.parse(href.searchParams.get('from')!)).toBeLessThan(BASE + 70);
    expect(Date.parse(href.searchParams.get('to')!)).toBeGreaterThan(BASE + 180);
    await shot('trace');

    // The open span survives a reload; Back closes it.
    await page.reload();
    await page.getByTestId('span-details').waitFor();
    await page.goBack();
    await page.getByTestId('span-details').waitFor({ state: 'detached' });
  });

  it('keyboard and search in the trace', async () => {
    await page.locator('h1').click();
    await page.keyboard.press('Home');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForURL(/span=/);
    // Home, then j: the root's first child, POST /cart.
    expect(await page.getByTestId('span-details').locator('h2').textContent()).toBe('POST /cart');
    await page.keyboard.press('Escape');
    await page.getByTestId('span-details').waitFor({ state: 'detached' });
    await page.keyboard.press('/');
    await page.keyboard.type('visa');
    await expect.poll(() => page.getByTestId('match-count').textContent()).toContain('1 of 1');
    expect(await page.locator('.wf-row.match').getAttribute('data-span')).toBe(ids.charge);
    await expect.poll(() => page.evaluate<string>('location.search')).toMatch(/q=visa/);
    // Collapse the cart subtree from the keyboard: its two children leave the DOM.
    await page.locator('h1').click();
    await page.keyboard.press('Home');
    await page.keyboard.press('j');
    await page.keyboard.press('ArrowLeft');
    await page.waitForURL(/collapsed=/);
    await page.locator(`.wf-row[data-span="${ids.charge}"]`).waitFor({ state: 'detached' });
    await page.reload();
    await page.getByTestId('waterfall').waitFor();
    expect(await page.locator('.wf-row[data-span]').count()).toBe(2);
  });

  it('an orphan span is shown under its missing parent id, not dropped', async () => {
    await page.goto(`${platform.apiUrl}/traces/${ids.orphanTrace}?${qs(r)}`);
    await page.getByTestId('orphans').waitFor();
    expect(await page.locator('.wf-row', { hasText: 'reconcile' }).first().textContent()).toContain(`missing parent ${ORPHAN_PARENT}`);
    expect(await page.locator('.wf-row[data-span]').count()).toBe(2);
    await shot('trace-orphan');
  });

  it('a 10,000-span trace opens and scrolls to its last span', async () => {
    const api = (await getJson<TraceResponse>(`${platform.apiUrl}/api/v1/traces/${ids.big}`)).body;
    expect(api.spans).toHaveLength(10_000);
    expect(api.truncated).toBe(false);
    const t0 = Date.now();
    await page.goto(`${platform.apiUrl}/traces/${ids.big}?${qs(r)}`);
    await page.locator('.wf-row[data-span]').first().waitFor();
    const rendered = Date.now() - t0;
    expect(await page.getByTestId('span-count').textContent()).toBe('10,000');
    // Only the rows in view are in the DOM.
    expect(await page.locator('.wf-row[data-span]').count()).toBeLessThan(200);
    const t1 = Date.now();
    await page.locator('h1').click();
    await page.keyboard.press('End');
    const last = page.locator(`.wf-row[data-span="${ids.bigLast}"]`);
    await last.waitFor();
    const scrolled = Date.now() - t1;
    expect(await last.textContent()).toContain(ids.bigLastName);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('span-details').locator('h2').textContent()).toBe(ids.bigLastName);
    console.log(`[ui-traces] 10,000-span trace: navigation to first rows ${rendered} ms (API, tree, critical path, first paint), End to the last span ${scrolled} ms`);
    const perf = await page.evaluate<{ url: string; api: number; bytes: number; decoded: number }>(`(() => {
      const res = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/traces/'));
      return res ? { url: res.name, api: Math.round(res.responseEnd - res.requestStart), bytes: res.encodedBodySize, decoded: res.decodedBodySize } : { url: '', api: -1, bytes: -1, decoded: -1 };
    })()`);
    console.log(`[ui-traces] 10,000-span trace: API ${perf.api} ms for ${perf.bytes} bytes (${perf.decoded} bytes of JSON)`);
    // The page reads the compact form, gzipped on the wire (a 10,000-span trace: ~2.1 MB of JSON, ~0.2 MB sent).
    expect(new URL(perf.url).searchParams.get('shape')).toBe('compact');
    expect(perf.bytes).toBeLessThan(perf.decoded / 4);
    await shot('trace-10k');
  });

  it('the dark theme draws the waterfall', async () => {
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate<string>('document.documentElement.dataset.theme')).toBe('dark');
    await page.goto(`${platform.apiUrl}/traces/${ids.checkout}?${qs(r)}&span=${ids.charge}`);
    await page.getByTestId('span-details').waitFor();
    await shot('trace-dark');
    await page.goto(`${platform.apiUrl}/traces?${qs(r)}`);
    await listIds();
    await shot('traces-dark');
  });
});
