/**
 * The web UI in a real browser (Debian's Chromium through playwright-core) against the real platform, fed by
 * the official OpenTelemetry SDK exporter: the empty state, the services table and its numbers against the
 * API for the same range, sorting and filters in the URL (reload, back), navigation to a service's page, the
 * dark theme and keyboard navigation. Screenshots of each page go to test/e2e/screenshots/ (git-ignored).
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ServicesResponse } from '../../query/contract.ts';
import { formatDurationNs, formatPercent, formatRate } from '../../ui/src/shared/format/format.ts';
import { useUiFixture } from '../support/ui-browser.ts';
import { type TestPlatform, getJson } from '../support/platform.ts';


let platform: TestPlatform;
let page: Page;

const ui = useUiFixture();
beforeAll(() => {
  ({ platform, page } = ui());
});

const shot = (name: string) => ui().shot(name);

/** Sends `count` Server spans of one service through the SDK's OTLP/HTTP JSON exporter, ending now-ish. */
async function send(service: string, resource: Record<string, string>, spans: { name: string; ms: number; error?: boolean; kind?: SpanKind }[]) {
  const tp = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, ...resource }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${platform.otlpHttpUrl}/v1/traces` }) })],
  });
  const tracer = tp.getTracer('ui-test');
  const base = Date.now() - 120_000;
  spans.forEach((s, i) => {
    const start = base + i * 1000;
    const span = tracer.startSpan(s.name, { kind: s.kind ?? SpanKind.SERVER, startTime: start });
    if (s.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.end(start + s.ms);
  });
  await tp.forceFlush();
  await tp.shutdown();
}

/** The table's rows as { column id: text }, in display order. */
async function tableRows(): Promise<Record<string, string>[]> {
  await page.locator('[data-testid="services-table"] tbody tr[data-row]').first().waitFor();
  return page.$$eval('[data-testid="services-table"] tbody tr[data-row]', (trs) =>
    trs.map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.dataset['col'], td.textContent?.trim() ?? '']))),
  );
}

describe('the web UI', () => {
  it('an empty platform says how to send data, with the OTLP endpoint', async () => {
    await page.goto(`${platform.apiUrl}/`);
    await page.waitForURL(/\/services$/);
    await page.getByText('No telemetry has arrived yet').waitFor();
    expect(await page.getByTestId('otlp-endpoint').textContent()).toBe('http://127.0.0.1:4318');
    await shot('services-empty');
  });

  it('the services table shows what the API computes for the same range', async () => {
    const durations = Array.from({ length: 20 }, (_, i) => 10 + i * 10); // 10…200 ms
    await send('checkout', { 'k8s.namespace.name': 'shop', 'deployment.environment.name': 'prod' }, [
      ...durations.map((ms, i) => ({ name: i % 2 ? 'GET /checkout' : 'POST /checkout', ms, error: i < 2 })),
    ]);
    await send('cart', { 'k8s.namespace.name': 'shop', 'deployment.environment': 'staging' }, Array.from({ length: 10 }, () => ({ name: 'GET /cart', ms: 5 })));
    await send('nightly-batch', { 'k8s.namespace.name': 'jobs' }, Array.from({ length: 3 }, () => ({ name: 'run', ms: 1500, kind: SpanKind.INTERNAL })));
    await platform.inserted();

    const to = Date.now() + 60_000;
    const from = to - 3_600_000;
    const url = `${platform.apiUrl}/services?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    await page.goto(url);
    const rows = await tableRows();
    const api = (await getJson<ServicesResponse>(`${platform.apiUrl}/api/v1/services?start=${from}&end=${to}&limit=1000`)).body.services;
    // Default order: busiest first.
    expect(rows.map((r) => r['serviceName'])).toEqual(['checkout', 'cart', 'nightly-batch']);
    for (const row of rows) {
      const s = api.find((x) => x.serviceName === row['serviceName'])!;
      expect(row).toMatchObject({
        requestRate: formatRate(s.requestRate),
        errorRate: formatPercent(s.errorRate),
        p50: formatDurationNs(s.latencyNano.p50),
        p95: formatDurationNs(s.latencyNano.p95),
        p99: formatDurationNs(s.latencyNano.p99),
      });
    }
    // And what was sent: 20 requests, 2 failed, over a 61-minute window; durations 10…200 ms.
    const checkout = api.find((s) => s.serviceName === 'checkout')!;
    expect(checkout).toMatchObject({ requests: 20, errors: 2, errorRate: 0.1 });
    expect(rows[0]).toMatchObject({ errorRate: '10.0%', requestRate: formatRate(20 / 3600), p50: '105ms', namespace: 'shop' });
    expect(rows[2]).toMatchObject({ serviceName: 'nightly-batch', p50: '1.5s', errorRate: '0%' });
    expect(await page.locator('tr[data-row="checkout"] svg.sparkline path.spark-requests').getAttribute('d')).toMatch(/^M/);
    await shot('services');
  });

  it('a first load asks for the table once, before the page has even rendered, and gets the code compressed', async () => {
    // index.html's early script (ui/src/shell/early.ts) starts the page's rows while the HTML is still being
    // parsed, before the entry has run; the entry's prefetch and the page must adopt that request (the same URL,
    // the same resolved window), so each is asked for exactly once.
    const fresh = await ui().chrome.context.newPage();
    try {
      await fresh.addInitScript({
        content: `(() => {
          window.__apiCalls = [];
          const f = window.fetch;
          window.fetch = function (input, init) {
            const u = new URL(typeof input === 'string' ? input : input.url, location.href);
            if (u.pathname.startsWith('/api/v1/services')) window.__apiCalls.push({ path: u.pathname, filtered: u.searchParams.has('namespace'), pageRendered: document.querySelector('section.page') !== null, parsing: document.readyState === 'loading' });
            return f.apply(this, arguments);
          };
        })();`,
      });
      // The UI's own files as sent: [path, Content-Encoding, decoded size].
      const files: Promise<[string, string, number]>[] = [];
      fresh.on('response', (r) => {
        if (!['script', 'stylesheet', 'document'].includes(r.request().resourceType())) return;
        files.push(r.body().then((b) => [new URL(r.url()).pathname, r.headers()['content-encoding'] ?? 'none', b.length]));
      });
      for (const search of ['', '?namespace=shop']) {
        await fresh.goto(`${platform.apiUrl}/services${search}`);
        await fresh.locator('tr[data-row="checkout"] svg.sparkline').waitFor();
        const calls = await fresh.evaluate<{ path: string; filtered: boolean; pageRendered: boolean; parsing: boolean }[]>('window.__apiCalls');
        const rows = calls.filter((c) => c.path === '/api/v1/services');
        // The rows, while the HTML was parsed (the entry, a module script, runs only after); with a filter on, the
        // filters' choices (every service) after them.
        expect(rows[0]).toEqual({ path: '/api/v1/services', filtered: search !== '', pageRendered: false, parsing: true });
        expect(rows.length).toBe(search === '' ? 1 : 2);
        // The sparklines follow the rows (whoever asks first, the page or the prefetch, the other finds it).
        expect(calls.filter((c) => c.path === '/api/v1/services/series').length).toBe(1);
      }
      // Brotli, as Chromium accepts it, for every file the build found worth compressing (over 1 KB).
      const sent = await Promise.all(files);
      expect(sent.filter(([p]) => /^\/assets\/index-.*\.js$/.test(p)).length).toBeGreaterThan(0);
      expect(sent.filter(([, enc, size]) => size > 1024 && enc !== 'br')).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('sorting and filters live in the URL: reload and back/forward restore them', async () => {
    await page.getByRole('button', { name: 'p99' }).click(); // numbers sort largest first
    await page.waitForURL(/sort=-p99/);
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['nightly-batch', 'checkout', 'cart']);
    await page.getByRole('button', { name: 'p99' }).click();
    await page.waitForURL(/sort=p99/);
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['cart', 'checkout', 'nightly-batch']);
    await page.reload();
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['cart', 'checkout', 'nightly-batch']);
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('p99');

    await page.getByTestId('namespace-filter').selectOption('shop');
    await page.waitForURL(/namespace=shop/);
    await page.locator('tr[data-row="nightly-batch"]').waitFor({ state: 'detached' });
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['cart', 'checkout']);
    await page.getByTestId('environment-filter').selectOption('staging');
    await page.locator('tr[data-row="checkout"]').waitFor({ state: 'detached' });
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['cart']);
    await page.reload();
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['cart']);

    await page.goBack(); // environment filter off again
    await page.locator('tr[data-row="checkout"]').waitFor();
    expect((await tableRows()).map((r) => r['serviceName'])).toEqual(['cart', 'checkout']);
    await page.goBack(); // namespace filter off
    await page.locator('tr[data-row="nightly-batch"]').waitFor();
    await page.goForward();
    await page.locator('tr[data-row="nightly-batch"]').waitFor({ state: 'detached' });
    expect(page.url()).toMatch(/namespace=shop/);
    expect(page.url()).toMatch(/sort=p99/);
  });

  it("a service's page: its figures, RED charts, operations and failing traces, over the same range", async () => {
    await page.getByTestId('namespace-filter').selectOption('');
    await page.getByRole('link', { name: 'checkout' }).click();
    await page.waitForURL(/\/services\/checkout\?/);
    expect(page.url()).toMatch(/from=/); // the range came along
    const stats = page.getByTestId('service-stats');
    await stats.waitFor();
    expect(await stats.textContent()).toContain('Requests20');
    expect(await stats.textContent()).toContain('Error %10.0%');
    await page.locator('[data-testid="operations-table"] tr[data-row="GET /checkout"]').waitFor();
    expect(await page.locator('[data-testid="operations-table"] tbody tr[data-row]').count()).toBe(2);
    await page.locator('figure.chart .recharts-surface').first().waitFor();
    expect(await page.locator('figure.chart').count()).toBe(3);
    // Two requests failed: both traces are listed.
    await page.getByRole('heading', { name: 'Recent error traces' }).waitFor();
    await page.locator('section[aria-labelledby="err-title"] li').nth(1).waitFor();
    expect(await page.locator('section[aria-labelledby="err-title"] li').count()).toBe(2);
    await shot('service-checkout');
    await page.goBack();
    await page.locator('tr[data-row="nightly-batch"]').waitFor();
  });

  it('dark theme, kept across reloads', async () => {
    const bg = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const light = await bg();
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate<string>('document.documentElement.dataset.theme')).toBe('dark');
    const dark = await bg();
    expect(dark).not.toBe(light);
    expect(dark).toBe('rgb(15, 18, 23)');
    await page.reload();
    expect(await bg()).toBe('rgb(15, 18, 23)');
    await tableRows();
    await shot('services-dark');
  });

  it('keyboard: g l goes to logs, g s back, / focuses the filter', async () => {
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('g');
    await page.keyboard.press('l');
    await page.waitForURL(/\/logs/);
    await page.getByRole('heading', { name: 'Logs' }).waitFor();
    expect(page.url()).toMatch(/from=/);
    await page.keyboard.press('g');
    await page.keyboard.press('s');
    await page.waitForURL(/\/services/);
    await tableRows();
    await page.keyboard.press('/');
    expect(await page.evaluate<string>("document.activeElement?.getAttribute('aria-label')")).toBe('Filter services by name');
    await page.keyboard.type('cart');
    await page.locator('tr[data-row="checkout"]').waitFor({ state: 'detached' });
    // Typing replaces the history entry (no navigation event to wait for), so poll the address.
    await expect.poll(() => page.evaluate<string>('location.search'), { timeout: 5000 }).toMatch(/q=cart/);
  });

  it('the header shows ingest health from the write-ahead log', async () => {
    const h = page.getByTestId('ingest-health');
    await expect.poll(async () => h.textContent(), { timeout: 15_000 }).toMatch(/req\/s · 0 pending/);
  });
});
