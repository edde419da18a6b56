/**
 * The logs page in a real browser (Debian's Chromium through playwright-core) against the real platform with a
 * bearer token, fed by the official OpenTelemetry SDK logs exporter with Kubernetes resource attributes (two
 * namespaces, four pods, several containers), every severity, JSON and map bodies, trace and span ids. Asserts
 * what the page shows against the API for the same range: the list's first line, the record count, the facet
 * counts, a pretty-printed JSON body, the surrounding lines of a record; the URL state through reload and
 * back/forward; the trace view's link (traceId + spanId); older pages loaded on scroll; live tail showing a line
 * sent during the test, with pause and resume. Screenshots go to test/e2e/screenshots/ (git-ignored).
 */
import { TraceFlags, context, trace } from '@opentelemetry/api';
import { type AnyValue, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LogContextResponse, LogFacetsResponse, LogHistogramResponse, LogSearchResponse } from '../../query/contract.ts';
import { formatCount } from '../../ui/src/shared/format/format.ts';
import { useUiFixture } from '../support/ui-browser.ts';
import { eventually } from '../support/eventually.ts';
import { type TestPlatform, getJson } from '../support/platform.ts';

const TOKEN = 'ui-logs-secret';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const BULK = 450;
/** How long a poll of the page waits (nothing here is timed: generous). */
const WAIT = { timeout: 20_000 };

let platform: TestPlatform;
let page: Page;
/** The window every check uses: the data is sent inside it. */
let from: number;
let to: number;

const ui = useUiFixture(['--auth-token', TOKEN]);
beforeAll(() => {
  ({ platform, page } = ui());
  to = Date.now() + 10 * 60_000;
  from = to - 60 * 60_000;
});

const shot = (name: string) => ui().shot(name);
const api = <T>(path: string, params: Record<string, string | string[]> = {}, ranged = true) => {
  const u = new URL(`${platform.apiUrl}/api/v1${path}`);
  for (const [k, v] of Object.entries({ ...(ranged ? { start: String(from), end: String(to) } : {}), ...params })) for (const one of [v].flat()) u.searchParams.append(k, one);
  return getJson<T>(u.toString(), AUTH);
};
const range = () => `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;

interface Line {
  body: AnyValue;
  severity: SeverityNumber;
  text: string;
  attrs?: Record<string, string | number>;
  span?: boolean;
}

/** Sends lines of one pod through the SDK's OTLP/HTTP protobuf logs exporter, `stepMs` apart, ending `endAgoMs` ago. */
async function sendPod(resource: Record<string, string>, lines: Line[], { stepMs = 2000, endAgoMs = 60_000 } = {}) {
  const lp = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${platform.otlpHttpUrl}/v1/logs`, headers: AUTH }), maxExportBatchSize: 512, maxQueueSize: 4096 })],
  });
  const logger = lp.getLogger('ui-logs-test', '1.0.0');
  const start = Date.now() - endAgoMs - lines.length * stepMs;
  lines.forEach((l, i) => {
    const ctx = l.span ? trace.setSpanContext(context.active(), { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true }) : context.active();
    logger.emit({ timestamp: start + i * stepMs, severityNumber: l.severity, severityText: l.text, body: l.body, attributes: l.attrs ?? {}, context: ctx });
  });
  await lp.forceFlush();
  await lp.shutdown();
}

const info = (body: string): Line => ({ body, severity: SeverityNumber.INFO, text: 'INFO' });
const pod = (service: string, ns: string, name: string, container: string) => ({ 'service.name': service, 'k8s.namespace.name': ns, 'k8s.pod.name': name, 'k8s.container.name': container });
const PAY_FAILED = { event: 'payment.failed', order: 'A-1001', amount: 12.5, card: { brand: 'visa', last4: '4242' } };

/** The rows the list shows, top to bottom (only those rendered: it is virtualized). */
async function listBodies(): Promise<string[]> {
  await page.locator('[data-testid="log-list"] [role="listitem"]').first().waitFor();
  return page.$$eval('[data-testid="log-list"] [role="listitem"]', (rows) =>
    rows.sort((a, b) => Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index'))).map((r) => r.querySelector('.log-body')?.textContent ?? ''),
  );
}

describe('the logs page', () => {
  it('asks for the bearer token, and the new routes answer 401 without it', async () => {
    for (const path of ['/logs/facets', `/logs/context?time=1&pod=x`, '/logs', '/logs/histogram']) {
      const r = await getJson(`${platform.apiUrl}/api/v1${path}`);
      expect(r.status, path).toBe(401);
    }
    await page.goto(`${platform.apiUrl}/logs?${range()}`);
    await page.getByText('Could not load log records').waitFor();
    // One place asks for it, not every panel of the page.
    expect(await page.getByLabel('Bearer token').count()).toBe(1);
    await page.getByLabel('Bearer token').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('No log records in this time range').waitFor();
    await shot('logs-empty');
  });

  it('shows the records, counts and facets the API computes for the same range', async () => {
    await sendPod(pod('checkout', 'shop', 'checkout-7d9f-abc', 'app'), [
      ...Array.from({ length: 20 }, (_, i) => info(`order ${i} placed`)),
      { body: 'payment provider slow: 2300 ms', severity: SeverityNumber.WARN, text: 'WARN' },
      { body: JSON.stringify(PAY_FAILED), severity: SeverityNumber.ERROR, text: 'ERROR', attrs: { 'order.id': 'A-1001', 'http.route': '/pay' }, span: true },
      ...Array.from({ length: 5 }, (_, i) => info(`order ${20 + i} placed`)),
    ]);
    await sendPod(pod('checkout', 'shop', 'checkout-7d9f-def', 'app'), [
      ...Array.from({ length: 8 }, (_, i) => info(`replica two order ${i}`)),
      { body: { user: 'ann', amount: 99, items: ['a', 'b'] }, severity: SeverityNumber.ERROR, text: 'ERROR' },
    ]);
    await sendPod(pod('cart', 'shop', 'cart-55b', 'cart'), Array.from({ length: 12 }, (_, i) => ({ body: `cart cache hit ${i}`, severity: SeverityNumber.DEBUG, text: 'DEBUG' })));
    await sendPod(pod('ingress', 'edge', 'ingress-1', 'nginx'), [
      ...Array.from({ length: 6 }, (_, i) => info(`GET /api/${i} 200`)),
      { body: 'upstream timed out', severity: SeverityNumber.FATAL, text: 'FATAL' },
    ]);
    const expected = 27 + 9 + 12 + 7;
    await eventually(async () => expect((await api<LogFacetsResponse>('/logs/facets')).body.total).toBe(expected), 30_000, 100);

    await page.reload();
    const facets = (await api<LogFacetsResponse>('/logs/facets')).body;
    const hist = (await api<LogHistogramResponse>('/logs/histogram', { by: 'severity' })).body;
    const search = (await api<LogSearchResponse>('/logs', { limit: '200' })).body;
    expect(hist.buckets.reduce((n, b) => n + b.count, 0)).toBe(expected);
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain(`${formatCount(facets.total)} records in range`);
    const shown = await listBodies();
    expect(shown[0]).toBe(search.logs[0]!.body);
    expect(shown.length).toBeGreaterThan(10);
    // Every facet value and count on the page is the API's.
    for (const f of facets.facets) {
      const rows = await page.$$eval(`[data-field="${f.field}"] .facet-value`, (bs) => bs.map((b) => [b.querySelector('.facet-name')?.textContent, b.querySelector('.facet-count')?.textContent]));
      expect(rows, f.field).toEqual(f.values.map((v) => [v.value === '' ? '(none)' : v.value, formatCount(v.count)]));
    }
    expect(facets.facets.find((f) => f.field === 'k8s.pod.name')!.values.map((v) => v.value)).toEqual(['checkout-7d9f-abc', 'cart-55b', 'checkout-7d9f-def', 'ingress-1']);
    await page.locator('[data-testid="logs-histogram"] .recharts-bar-rectangle').first().waitFor();
    await shot('logs');
  });

  it('full text, a facet and severity narrow the list; the URL keeps them through reload and back/forward', async () => {
    await page.getByLabel('Search log bodies').fill('placed');
    await expect.poll(() => page.evaluate<string>('location.search'), WAIT).toMatch(/q=placed/);
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('25 records in range');
    expect((await listBodies()).every((b) => b.includes('placed'))).toBe(true);

    await page.getByLabel('Search log bodies').fill('');
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain(`${formatCount(55)} records`);
    await page.locator('[data-field="k8s.pod.name"] button[data-value="cart-55b"]').click();
    await page.waitForURL(/pod=cart-55b/);
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('12 records in range');
    expect(new Set(await listBodies()).size).toBe(12);
    await page.getByTestId('severity-filter').selectOption('INFO');
    await page.waitForURL(/severity=INFO/);
    await page.getByText('No record matches these filters').waitFor();
    await page.reload();
    await page.getByText('No record matches these filters').waitFor();
    expect(await page.getByTestId('severity-filter').inputValue()).toBe('INFO');

    await page.goBack(); // severity off, pod still on
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('12 records in range');
    expect(page.url()).toMatch(/pod=cart-55b/);
    await page.goBack(); // pod off
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('55 records in range');
    await page.goForward();
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('12 records in range');
    await page.locator('[data-field="k8s.pod.name"] button[data-value="cart-55b"]').click(); // clicking the selected value clears it
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('55 records in range');
  });

  it('the trace view link (traceId and spanId) lists that span\'s records; a record opens with its JSON body pretty-printed', async () => {
    await page.goto(`${platform.apiUrl}/logs?traceId=${TRACE}&spanId=${SPAN}&${range()}`);
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain('1 record in range');
    expect(await listBodies()).toEqual([JSON.stringify(PAY_FAILED)]);
    // Keyboard: j selects the first record, Enter opens it.
    await page.locator('h1').click();
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForURL(/open=/);
    const body = page.getByTestId('record-body');
    expect(await body.textContent()).toBe(JSON.stringify(PAY_FAILED, null, 2));
    expect(await page.getByTestId('record-attributes').textContent()).toContain('http.route/pay');
    expect(await page.getByTestId('record-resource').textContent()).toContain('k8s.pod.namecheckout-7d9f-abc');
    expect(await page.getByRole('link', { name: /^Trace 4bf92f35/ }).getAttribute('href')).toMatch(new RegExp(`^/traces/${TRACE}\\?.*span=${SPAN}`));
    await shot('logs-record');
    await page.reload(); // the open record is in the URL
    expect(await page.getByTestId('record-body').textContent()).toBe(JSON.stringify(PAY_FAILED, null, 2));
    await page.keyboard.press('Escape');
    await page.getByTestId('record-panel').waitFor({ state: 'detached' });
    expect(page.url()).not.toMatch(/open=/);
  });

  it('a record stored as a map shows as indented JSON', async () => {
    await page.goto(`${platform.apiUrl}/logs?q=ann&${range()}`);
    await page.locator('[data-testid="log-list"] [role="listitem"]').first().click();
    const text = await page.getByTestId('record-body').textContent();
    expect(JSON.parse(text!)).toEqual({ user: 'ann', amount: 99, items: ['a', 'b'] });
    expect(text).toContain('\n  "amount": 99');
  });

  it('surrounding lines come from the same pod and container, as the API returns them', async () => {
    await page.goto(`${platform.apiUrl}/logs?attr=http.route=/pay&${range()}`);
    await page.locator('[data-testid="log-list"] [role="listitem"]').first().click();
    await page.getByRole('tab', { name: 'Surrounding lines' }).click();
    await page.waitForURL(/tab=context/);
    const rec = (await api<LogSearchResponse>('/logs', { attr: 'http.route=/pay' })).body.logs[0]!;
    const ctx = (await api<LogContextResponse>('/logs/context', { time: rec.timeUnixNano, pod: 'checkout-7d9f-abc', container: 'app', namespace: 'shop' }, false)).body;
    // 21 lines before it in that pod, 5 after; nothing of the other checkout pod.
    expect(ctx.logs).toHaveLength(27);
    const lines = page.locator('[data-testid="context"] .context-lines li');
    await expect.poll(() => lines.count(), WAIT).toBe(27);
    const shown = await page.$$eval('[data-testid="context"] .context-lines li .log-body', (els) => els.map((e) => e.textContent));
    expect(shown[0]).toBe('order 0 placed');
    expect(shown.some((b) => b?.startsWith('replica two'))).toBe(false);
    expect(await page.locator('[data-testid="context"] li.anchor .log-body').textContent()).toBe(JSON.stringify(PAY_FAILED));
    await shot('logs-context');
    await page.reload();
    await expect.poll(() => lines.count(), WAIT).toBe(27);
  });

  it('loads older pages as the list scrolls', async () => {
    await sendPod(pod('bulk', 'jobs', 'bulk-0', 'worker'), Array.from({ length: BULK }, (_, i) => info(`bulk line ${i}`)), { stepMs: 100, endAgoMs: 30_000 });
    await eventually(async () => expect((await api<LogFacetsResponse>('/logs/facets', { service: 'bulk' })).body.total).toBe(BULK), 30_000, 100);
    await page.goto(`${platform.apiUrl}/logs?service=bulk&${range()}`);
    await expect.poll(() => page.getByTestId('logs-total').textContent(), WAIT).toContain(`${BULK} records in range · 200 loaded`);
    for (let i = 0; i < 20; i++) {
      const done = await page.getByText(`all ${BULK} matching records are listed`).isVisible();
      if (done) break;
      await page.locator('[data-testid="log-list"]').evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.waitForTimeout(300);
    }
    await page.getByText(`all ${BULK} matching records are listed`).waitFor();
    expect(await page.getByTestId('logs-total').textContent()).toContain(`${BULK} loaded`);
    await page.locator('[data-testid="log-list"]').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForTimeout(200);
    expect((await listBodies()).at(-1)).toBe('bulk line 0');
  });

  it('live tail shows a line sent during the test, holds lines while paused and shows them on resume', async () => {
    await page.goto(`${platform.apiUrl}/logs?service=tail-test&live=1&${range()}`);
    await expect.poll(() => page.getByTestId('tail-status').getAttribute('data-kind'), { timeout: 15_000 }).toBe('live');
    const marker = `tail marker ${Date.now()}`;
    await sendPod(pod('tail-test', 'shop', 'tail-0', 'app'), [info(marker)], { endAgoMs: 0 });
    await page.locator('[data-testid="log-list"] .log-body', { hasText: marker }).waitFor({ timeout: 10_000 });
    await shot('logs-live');
    await page.getByTestId('tail-pause').click();
    const held = `held line ${Date.now()}`;
    await sendPod(pod('tail-test', 'shop', 'tail-0', 'app'), [info(held)], { endAgoMs: 0 });
    await expect.poll(() => page.getByTestId('tail-status').textContent(), { timeout: 10_000 }).toContain('Paused · 1 new line waiting');
    expect(await page.locator('[data-testid="log-list"] .log-body', { hasText: held }).count()).toBe(0);
    await page.getByTestId('tail-resume').click();
    await page.locator('[data-testid="log-list"] .log-body', { hasText: held }).waitFor();
    expect(await listBodies()).toEqual([held, marker]);
    await page.reload(); // live is in the URL
    await expect.poll(() => page.getByTestId('tail-status').getAttribute('data-kind'), { timeout: 15_000 }).toBe('live');
    await page.getByTestId('live-toggle').click();
    await page.waitForURL((u) => !u.search.includes('live=1'));
  });

  it('dark theme, and dragging across the histogram zooms the range', async () => {
    await page.goto(`${platform.apiUrl}/logs?${range()}`);
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate<string>('document.documentElement.dataset.theme')).toBe('dark');
    const chart = page.locator('[data-testid="logs-histogram"] .recharts-surface');
    await chart.waitFor();
    const box = (await chart.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForURL((u) => u.searchParams.get('from') !== new Date(from).toISOString());
    const u = new URL(page.url());
    const zf = Date.parse(u.searchParams.get('from')!);
    const zt = Date.parse(u.searchParams.get('to')!);
    expect(zf).toBeGreaterThan(from);
    expect(zt).toBeLessThan(to);
    await shot('logs-dark');
    await page.getByTestId('theme-toggle').click();
  });
});
