/**
 * The metrics explorer (/explore) in a real browser (Debian's Chromium through playwright-core) against the real
 * platform, fed by the official OpenTelemetry SDK's OTLP metrics exporter: a monotonic counter, an up-down
 * counter, gauges, an explicit-bucket histogram and an exponential histogram, with labels, over four exports.
 * What the page shows is checked against the API's answer for the same query and range (the series table's
 * last/avg/min/max, formatted by the UI's own unit formatter) and against what was sent; the catalogue in the
 * picker (type, unit, description), keyboard picking, filters and group-by from the UI, several queries with a
 * legend that toggles series, URL state across reload and back/forward, drag-to-zoom, the cap on drawn series,
 * and the empty state. Screenshots go to test/e2e/screenshots/ (git-ignored).
 */
import { ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricSeriesResponse } from '../../query/contract.ts';
import { formatUnit } from '../../ui/src/shared/format/units.ts';
import { useUiFixture } from '../support/ui-browser.ts';
import { type TestPlatform, getJson } from '../support/platform.ts';

const SERVICE = 'shop-api';
const SHARDS = 30;

let platform: TestPlatform;
let page: Page;
/** The absolute range every page and API call of the test uses (epoch ms). */
const range = { from: 0, to: 0 };
/** When the SDK's exports began and ended (epoch ms). */
const sent = { from: 0, to: 0 };

const ui = useUiFixture();
beforeAll(() => {
  ({ platform, page } = ui());
});

const shot = (name: string) => ui().shot(name);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Four exports through the SDK's OTLP/HTTP protobuf exporter, a second apart (cumulative temporality, the default). */
async function sendMetrics() {
  sent.from = Date.now();
  const mp = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${platform.otlpHttpUrl}/v1/metrics` }),
        exportIntervalMillis: 3_600_000,
        exportTimeoutMillis: 30_000,
      }),
    ],
    views: [{ instrumentName: 'ui.payload', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = mp.getMeter('ui-explore-test');
  const requests = meter.createCounter('ui.requests', { unit: '{request}', description: 'Requests served by the shop', valueType: ValueType.INT });
  const inflight = meter.createUpDownCounter('ui.inflight', { unit: '{request}', description: 'Requests in flight' });
  const temperature = meter.createGauge('ui.temperature', { unit: 'Cel', description: 'Server room temperature' });
  const latency = meter.createHistogram('ui.latency', { unit: 'ms', description: 'Request latency', advice: { explicitBucketBoundaries: [5, 10, 25, 50, 100, 250] } });
  const payload = meter.createHistogram('ui.payload', { unit: 'By', description: 'Request payload size' });
  const lag = meter.createGauge('ui.shard.lag', { unit: 's', description: 'Replication lag per shard' });

  for (let round = 0; round < 4; round++) {
    requests.add(10 + round, { route: '/checkout', code: '200' });
    requests.add(2, { route: '/checkout', code: '500' });
    requests.add(5, { route: '/cart', code: '200' });
    inflight.add(round % 2 === 0 ? 3 : -1, { pool: 'a' });
    inflight.add(1, { pool: 'b' });
    temperature.record(20 + round * 0.5, { room: 'r1' });
    temperature.record(30, { room: 'r2' });
    for (const v of [3, 7, 12, 20, 40, 60, 90, 120, 200, 240]) latency.record(v + round, { route: '/checkout' });
    for (const v of [100, 2000, 64_000]) payload.record(v * (round + 1), { route: '/checkout' });
    for (let s = 0; s < SHARDS; s++) lag.record(s + round / 10, { shard: `s${String(s).padStart(2, '0')}` });
    // Shutdown collects and exports once more; a forceFlush before it would store the last points twice.
    if (round < 3) await mp.forceFlush();
    else await mp.shutdown();
    await wait(1100);
  }
  sent.to = Date.now();
  await platform.inserted();
}

const rangeParams = () => `from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}`;
const explore = (qs: string) => page.goto(`${platform.apiUrl}/explore?${rangeParams()}${qs ? `&${qs}` : ''}`);

/** The series table: { column id: text } per row, in display order, keyed by the row's series id. */
async function tableRows(): Promise<Record<string, string>[]> {
  await page.locator('[data-testid="series-table"] tbody tr[data-row]').first().waitFor();
  return page.$$eval('[data-testid="series-table"] tbody tr[data-row]', (trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-row') ?? '',
      ...Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.getAttribute('data-col'), td.textContent?.trim() ?? ''])),
    })),
  );
}

/** The API's answer for one query over the test's range. */
async function api(params: Record<string, string | string[]>): Promise<MetricSeriesResponse> {
  const u = new URL(`${platform.apiUrl}/api/v1/metrics/query`);
  u.searchParams.set('start', String(range.from));
  u.searchParams.set('end', String(range.to));
  u.searchParams.set('limit', '1000');
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) u.searchParams.append(k, one);
  const { status, body } = await getJson<MetricSeriesResponse>(u.toString());
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
}

/** What the table must show for an API series: last, avg, min, max of its points, formatted in `unit`. */
function expected(s: MetricSeriesResponse['series'][number], unit: string) {
  const v = s.points.map((p) => p[1]!);
  return {
    last: formatUnit(v.at(-1)!, unit),
    avg: formatUnit(v.reduce((a, b) => a + b, 0) / v.length, unit),
    min: formatUnit(Math.min(...v), unit),
    max: formatUnit(Math.max(...v), unit),
  };
}

const labelsText = (l: Record<string, string>) =>
  `{${Object.keys(l)
    .sort()
    .map((k) => `${k}=${JSON.stringify(l[k])}`)
    .join(',')}}`;

/** Every API series appears in the table, under its id, with the same figures. */
async function expectTableMatches(letter: string, answer: MetricSeriesResponse, unit: string) {
  const rows = await tableRows();
  expect(answer.series.length).toBeGreaterThan(0);
  for (const s of answer.series) {
    const row = rows.find((r) => r['id'] === `${letter}${labelsText(s.labels)}`);
    expect(row, `row ${letter}${labelsText(s.labels)} in ${JSON.stringify(rows.map((r) => r['id']))}`).toBeDefined();
    expect(row).toMatchObject(expected(s, unit));
  }
  return rows;
}

describe('the metrics explorer', () => {
  it('with no metrics yet, says so and how to send some', async () => {
    range.to = Date.now() + 60_000;
    range.from = range.to - 3_600_000;
    await explore('');
    await page.getByText('No metrics in this time range').waitFor();
    expect(await page.textContent('.state.empty')).toContain('/v1/metrics');
    await shot('explore-empty');
  });

  it('the picker lists the catalogue with type, unit and description, and picks with the keyboard', async () => {
    await sendMetrics();
    range.to = Date.now() + 60_000;
    range.from = range.to - 3_600_000;
    await explore('');
    await page.getByText('Pick a metric to start').waitFor();
    await page.getByRole('heading', { name: 'Metrics explorer' }).click();
    await page.keyboard.press('/');
    expect(await page.evaluate<string>("document.activeElement?.getAttribute('aria-label')")).toBe('Metric of query A');
    const options = page.locator('[role="listbox"] [role="option"]');
    await options.first().waitFor();
    const listed = await options.evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));
    expect(listed).toEqual(['ui.inflight', 'ui.latency', 'ui.payload', 'ui.requests', 'ui.shard.lag', 'ui.temperature']);
    const requestsOption = await page.locator('[role="option"][data-metric="ui.requests"]').textContent();
    expect(requestsOption).toContain('counter');
    expect(requestsOption).toContain('requests');
    expect(requestsOption).toContain('Requests served by the shop');
    expect(await page.locator('[role="option"][data-metric="ui.inflight"]').textContent()).toContain('up-down counter');
    expect(await page.locator('[role="option"][data-metric="ui.payload"]').textContent()).toContain('exp. histogram');
    expect(await page.locator('[role="option"][data-metric="ui.temperature"]').textContent()).toContain('°C');
    await shot('explore-picker');

    // Type to narrow, arrows to move, Enter to pick.
    await page.keyboard.type('la');
    await expect.poll(() => options.evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')))).toEqual(['ui.latency', 'ui.shard.lag']);
    const selected = () => page.locator('[role="option"][aria-selected="true"]').getAttribute('data-metric');
    expect(await selected()).toBe('ui.latency');
    await page.keyboard.press('ArrowDown');
    expect(await selected()).toBe('ui.shard.lag');
    await page.keyboard.press('ArrowUp');
    expect(await selected()).toBe('ui.latency');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=ui\.latency/);
    // A histogram starts at p95; only the aggregations valid for histograms are offered.
    const agg = page.getByTestId('agg');
    await expect.poll(() => agg.inputValue()).toBe('p95');
    expect(await agg.locator('option').evaluateAll((els) => els.map((e) => e.getAttribute('value')))).toEqual(['p50', 'p90', 'p95', 'p99', 'avg', 'count', 'sum', 'rate']);
    expect(await page.getByTestId('metric-info').textContent()).toContain('Request latency');
    await expectTableMatches('A', await api({ name: 'ui.latency', agg: 'p95' }), 'ms');
  });

  it('a counter as a rate, grouped and filtered from the UI, with the figures of the API', async () => {
    await explore(`q=${encodeURIComponent('rate(ui.requests)')}`);
    const all = await api({ name: 'ui.requests', agg: 'rate' });
    expect(all.series).toHaveLength(3);
    await expectTableMatches('A', all, '{request}/s');
    await page.locator('figure.chart .recharts-surface').first().waitFor();

    // Group by route from the popover.
    await page.getByTestId('group-by').click();
    await page.getByRole('dialog', { name: 'Group by' }).getByLabel('route').check();
    await page.waitForURL(/by\+%28route%29|by%20%28route%29|by\+\(route\)/);
    await page.getByRole('dialog', { name: 'Group by' }).getByRole('button', { name: 'Done' }).click();
    const byRoute = await api({ name: 'ui.requests', agg: 'rate', groupBy: 'route' });
    await page.locator('tr[data-row="A{route=\\"/cart\\"}"]').waitFor();
    expect((await expectTableMatches('A', byRoute, '{request}/s')).map((r) => r['id'])).toEqual(['A{route="/cart"}', 'A{route="/checkout"}']);

    // A filter from the form, its value offered by the label-values API.
    await page.getByTestId('add-filter').click();
    await page.getByTestId('filter-key').selectOption('code');
    await expect.poll(() => page.locator('datalist option').evaluateAll((els) => els.map((e) => e.getAttribute('value')))).toEqual(['200', '500']);
    await page.getByTestId('filter-value').fill('500');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('tr[data-row="A{route=\\"/cart\\"}"]').waitFor({ state: 'detached' });
    expect(decodeURIComponent(new URL(page.url()).searchParams.get('q') ?? '')).toBe('rate(ui.requests{code="500"}) by (route)');
    const errors = await api({ name: 'ui.requests', agg: 'rate', groupBy: 'route', filter: 'code=500' });
    await expectTableMatches('A', errors, '{request}/s');
    // And the increase over the range is what was sent after the first export: 2 per export, three more exports.
    const inc = await api({ name: 'ui.requests', agg: 'increase', groupBy: 'route', filter: 'code=500' });
    expect(inc.series[0]!.points.reduce((a, p) => a + p[1]!, 0)).toBe(6);
    await shot('explore-counter');

    // The URL state survives a reload and back/forward.
    await page.reload();
    await page.locator('[data-testid="filter-chip"]').waitFor();
    expect((await tableRows()).map((r) => r['id'])).toEqual(['A{route="/checkout"}']);
    await page.goBack(); // before the filter
    await page.locator('tr[data-row="A{route=\\"/cart\\"}"]').waitFor();
    expect(await page.locator('[data-testid="filter-chip"]').count()).toBe(0);
    await page.goBack(); // before the group-by
    await page.locator('tbody tr[data-row]').nth(2).waitFor();
    expect((await tableRows()).map((r) => r['id'])).toHaveLength(3);
    await page.goForward();
    await page.goForward();
    await page.locator('[data-testid="filter-chip"]').waitFor();
    expect((await tableRows()).map((r) => r['id'])).toEqual(['A{route="/checkout"}']);
  });

  it('several queries on one chart: legend toggles, sorting, units, all in the URL', async () => {
    const qs = [`q=${encodeURIComponent('avg(ui.temperature)')}`, `q=${encodeURIComponent('last(ui.inflight)')}`, `q=${encodeURIComponent('p95(ui.payload) by ()')}`].join('&');
    await explore(qs);
    await tableRows();
    await expectTableMatches('A', await api({ name: 'ui.temperature', agg: 'avg' }), 'Cel');
    const inflight = await api({ name: 'ui.inflight', agg: 'last' });
    await expectTableMatches('B', inflight, '{request}');
    // What was sent: pool a ends at 3 - 1 + 3 - 1 = 4, pool b at 4.
    expect(inflight.series.map((s) => s.points.at(-1)![1])).toEqual([4, 4]);
    await expectTableMatches('C', await api({ name: 'ui.payload', agg: 'p95', groupBy: '' }), 'By');
    // The room r2 thermometer read 30 every time.
    const r2 = (await tableRows()).find((r) => r['id'] === `A{ServiceName="${SERVICE}",room="r2"}`)!;
    expect(r2).toMatchObject({ last: '30 °C', max: '30 °C' });
    // The legend names series by what tells them apart, prefixed by their query.
    const legend = page.locator('.explore-legend .legend-item');
    expect(await legend.evaluateAll((els) => els.map((e) => e.textContent?.trim()))).toEqual(['A: room=r1', 'A: room=r2', 'B: pool=a', 'B: pool=b', 'C: p95(ui.payload) by ()']);
    const lines = () => page.locator('figure.chart .recharts-line').count();
    expect(await lines()).toBe(5);

    // Clicking a legend entry hides its line; the URL keeps it, through a reload.
    await page.locator(`.legend-item[data-series='A{ServiceName="${SERVICE}",room="r2"}']`).click();
    await page.waitForURL(/off=/);
    await expect.poll(lines).toBe(4);
    await page.reload();
    await page.locator('figure.chart .recharts-surface').first().waitFor();
    await expect.poll(lines).toBe(4);
    expect(await page.locator(`.legend-item[data-series='A{ServiceName="${SERVICE}",room="r2"}']`).getAttribute('aria-pressed')).toBe('false');
    // Hiding query B takes its two lines away.
    await page.getByRole('button', { name: 'B', exact: true }).click();
    await page.waitForURL(/hide=B/);
    await expect.poll(lines).toBe(2);
    await page.goBack();
    await expect.poll(lines).toBe(4);

    // Sorting the table by max, largest first, lives in the URL.
    await page.getByRole('button', { name: 'Max' }).click(); // numbers sort largest first
    await page.waitForURL(/sort=-max/);
    const sorted = await tableRows();
    const values = sorted.map((r) => Number(r['id'] === '' ? 0 : 1)); // every row present
    expect(values).toHaveLength(5);
    expect(sorted[0]!['id']).toBe('C{}'); // payload p95 in bytes is the largest number
    await shot('explore-queries');

    // Dark theme.
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate<string>('document.documentElement.dataset.theme')).toBe('dark');
    await shot('explore-queries-dark');
    await page.getByTestId('theme-toggle').click();
  });

  it('caps the chart at 20 series and says so; the table lists all', async () => {
    await explore(`q=${encodeURIComponent('max(ui.shard.lag)')}`);
    await page.locator('figure.chart .recharts-surface').first().waitFor();
    expect(await page.getByTestId('chart-note').textContent()).toContain(`draws 20 of ${SHARDS} series`);
    expect(await page.locator('figure.chart .recharts-line').count()).toBe(20);
    // The legend marks the ten left out; they are the smallest (shards s00…s09 have the lowest lag).
    expect(await page.locator('.legend-item.capped').evaluateAll((els) => els.map((e) => e.textContent?.trim()))).toEqual(
      Array.from({ length: 10 }, (_, i) => `shard=s0${i}`),
    );
    const answer = await api({ name: 'ui.shard.lag', agg: 'max' });
    expect(answer.series).toHaveLength(SHARDS);
    // The table is virtualized: check the figures of the rows in view, then that the count covers all.
    const rows = await tableRows();
    for (const r of rows) {
      const s = answer.series.find((x) => `A${labelsText(x.labels)}` === r['id'])!;
      expect(r).toMatchObject(expected(s, 's'));
    }
    expect(await page.locator('[data-testid="series-table"] table').getAttribute('aria-rowcount')).toBe(String(SHARDS + 1));
    // Keyboard: ↓ moves from a row's checkbox to the next row's.
    await page.locator('[data-testid="series-table"] tbody tr[data-row] input').first().focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate<string | null>("document.activeElement?.closest('tr')?.getAttribute('data-row') ?? null")).toBe(`A{ServiceName="${SERVICE}",shard="s01"}`);
    await shot('explore-many-series');
  });

  it('dragging across the chart zooms the shared range into the URL', async () => {
    // A window just around the exports, so the temperature's four samples spread across the chart.
    range.from = sent.from - 15_000;
    range.to = sent.to + 15_000;
    await explore(`q=${encodeURIComponent('avg(ui.temperature) by ()')}`);
    const surface = page.locator('figure.chart .recharts-surface').first();
    await surface.waitFor();
    const box = (await surface.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.1, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.97, y, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).not.toBe(new Date(range.from).toISOString());
    const from = Date.parse(new URL(page.url()).searchParams.get('from')!);
    const to = Date.parse(new URL(page.url()).searchParams.get('to')!);
    expect(from).toBeGreaterThan(range.from);
    expect(to).toBeLessThanOrEqual(range.to);
    expect(to - from).toBeLessThan(range.to - range.from);
    expect(new URL(page.url()).searchParams.get('q')).toBe('avg(ui.temperature) by ()');
    // The zoomed page asks the API for the new window: its table matches the API's answer for it.
    range.from = from;
    range.to = to;
    await expectTableMatches('A', await api({ name: 'ui.temperature', agg: 'avg', groupBy: '' }), 'Cel');
    await shot('explore-zoomed');
  });

  it('an unreadable query in a link is ignored with a message, and the page still opens', async () => {
    await explore('q=rate(ui.requests&q=avg(ui.temperature)');
    await page.getByText(/Ignored query "rate\(ui.requests" is not readable/).waitFor();
    await tableRows();
  });
});
