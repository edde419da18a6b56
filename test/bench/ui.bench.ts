/**
 * UI benchmark, measured in Debian's Chromium (playwright-core, test/support/chromium.ts) against the real
 * platform (`crowsnest start` in this process, embedded chDB) over the query benchmark's data set (query.bench.ts
 * `generate`: 5M spans and 5M log records over the last 24 h, built inside the engine).
 *
 * 1. Bundle: every JS and CSS file of ui/dist/assets with its raw and gzip size (zlib level 9, as a server or CDN
 *    would send it), and the initial route's JavaScript: /services loaded with the cache off, the gzip sizes of
 *    every script the browser fetched until the table showed, summed. Target ≤ 400 KB.
 * 2. Services table: navigation → first table row in the DOM and painted (recorded in the page: a mutation
 *    observer, then the next animation frame, against performance.now(), whose origin is the navigation), cache
 *    off, beside the same /api/v1/services request the page made, sent alone with fetch (body read and parsed).
 *    Runs alternate, each on an idle server (a page is closed once its network is idle); medians. Target ratio
 *    ≤ 1.5.
 * 3. Trace view: a 10,000-span trace (a root, 99 children, 100 grandchildren each) sent through the OTel SDK's
 *    OTLP exporter; /traces/<id> opened: navigation → first span row painted, and → the last span's row
 *    (`final-span`, scrolled to in the virtualized list) in the DOM. Target ≤ 1 s. Reference: the target.
 * 4. Live tail: the logs page with live tail on; a log line with a unique token is emitted through the SDK's
 *    OTLP log exporter; latency = the page seeing a log row with the token (Date.now() in the page, same
 *    machine clock) minus the time just before the emit. Median of 5. Target ≤ 2 s. Reference: the target.
 *
 * Cores: in use the browser and the platform run on different machines. Here they share 2 cores, and Chromium's
 * start-up (parse, compile, layout) took CPU from the engine while the page's request ran: that request took
 * 330-530 ms in the page against ~156 ms alone. For the measured runs (2-4, after the data is generated on both
 * cores) the browser's processes are pinned to core 0 and this process (the platform, and the reference calls)
 * to core 1 with taskset; the services figure's note says whether they were.
 *
 * Span rows are `[data-span-row]` and log rows `[data-log-row]`, tail on by `tail=1`, as agreed for this
 * benchmark; the pages as built today are matched too (SPAN_ROWS, LOG_ROWS, TAIL_URL).
 *
 * Pages that are not built yet (3 and 4 depend on the trace view and the logs page with its tail) are skipped
 * with the reason printed on stderr, and give no figure.
 *
 * Standalone: `node --import tsx test/bench/ui.bench.ts [--spans N] [--logs N]` prints a table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, type Span, SpanKind, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Page } from 'playwright-core';
import { type TestBrowser, launchChromium } from '../support/chromium.ts';
import { type TestPlatform, startTestPlatform } from '../support/platform.ts';
import { generate } from './query.bench.ts';
import type { BenchResult } from './result.ts';

export interface UiBenchOptions {
  /** Spans of the data set (traces of 10). @default 5_000_000 */
  spans?: number;
  /** Log records of the data set. @default 5_000_000 */
  logs?: number;
  /** Measured runs of the services table and of the trace view. @default 9 */
  runs?: number;
  /** Live-tail lines measured. @default 5 */
  tailLines?: number;
}

const ROOT = join(import.meta.dirname, '..', '..');
const ASSETS = join(ROOT, 'ui', 'dist', 'assets');
const KB = 1000;
const INITIAL_JS_TARGET_KB = 400;
const SERVICES_RATIO_TARGET = 1.5;
const TRACE_VIEW_TARGET_MS = 1000;
const TAIL_TARGET_MS = 2000;
/** The generated data set's database (query.bench.ts `generate` writes there). */
const DATABASE = 'otel_bench';

const round = (x: number) => Math.round(x * 100) / 100;
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const gzipBytes = (b: Buffer) => gzipSync(b, { level: 9 }).length;
const skip = (what: string, why: string) => process.stderr.write(`bench: ui: ${what} skipped: ${why}\n`);

/** `index-DpQTwwX5.js` → `index.js`: a stable name across builds. */
const stableName = (file: string) => file.replace(/-[A-Za-z0-9_-]{8}(\.[a-z]+)$/, '$1');

/** 1a. Every chunk of the build, raw and gzip. */
function chunks(): BenchResult[] {
  const files = readdirSync(ASSETS).filter((f) => f.endsWith('.js') || f.endsWith('.css')).sort();
  const seen = new Map<string, number>();
  return files.map((f) => {
    const raw = readFileSync(join(ASSETS, f));
    const base = stableName(f);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const name = `ui.chunk.${(n > 1 ? `${base}#${n}` : base).replace(/\./g, '_')}.gzip`;
    return { name, value: round(gzipBytes(raw) / KB), unit: 'KB', reference: null, ratio: null, note: `${f}: ${round(raw.length / KB)} KB raw, gzip level 9` };
  });
}

// Code run in the page is written as strings: this file is type-checked without the DOM library.

/** Init script: `window.__firstPaint` = performance.now() (ms since navigation) once `sel` is in the DOM and a frame has passed. */
const FIRST_PAINT_RECORDER = (sel: string) => `(() => {
  const sel = ${JSON.stringify(sel)};
  const check = () => {
    if (window.__firstPaint !== undefined || !document.querySelector(sel)) return false;
    requestAnimationFrame(() => { if (window.__firstPaint === undefined) window.__firstPaint = performance.now(); });
    return true;
  };
  new MutationObserver((_, obs) => { if (check()) obs.disconnect(); }).observe(document, { childList: true, subtree: true });
})();`;

/** Scrolls the scroll container of the first `sel` to its end until a `sel` containing `text` is in the DOM: performance.now() then, or null. */
const SCROLL_TO_LAST = (sel: string, text: string) => `(async () => {
  const sel = ${JSON.stringify(sel)};
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  let el = document.querySelector(sel).parentElement;
  while (el && !(el.scrollHeight > el.clientHeight + 1 && /auto|scroll/.test(getComputedStyle(el).overflowY))) el = el.parentElement;
  const scroller = el || document.scrollingElement;
  for (let i = 0; i < 300; i++) {
    scroller.scrollTop = scroller.scrollHeight;
    await frame();
    if ([...document.querySelectorAll(sel)].some((r) => (r.textContent || '').includes(${JSON.stringify(text)}))) {
      await frame();
      return performance.now();
    }
  }
  return null;
})()`;

/** Init script: `window.__seen[token]` = Date.now() when a `sel` whose text holds `tail-bench-…` first appears. */
const TOKEN_RECORDER = (sel: string) => `(() => {
  window.__seen = {};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll(${JSON.stringify(sel)})) {
      const m = /tail-bench-[0-9a-z]+/.exec(row.textContent || '');
      if (m && window.__seen[m[0]] === undefined) window.__seen[m[0]] = Date.now();
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
})();`;

/** A page (HTTP cache off unless `cached`) with a recorder of when the first element matching `selector` was painted. */
async function freshPage(browser: TestBrowser, selector: string, cached = false): Promise<Page> {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !cached });
  await page.addInitScript({ content: FIRST_PAINT_RECORDER(selector) });
  return page;
}

async function firstPaint(page: Page, selector: string, timeoutMs: number): Promise<number> {
  await page.locator(selector).first().waitFor({ timeout: timeoutMs });
  await page.waitForFunction('window.__firstPaint !== undefined', undefined, { timeout: timeoutMs });
  return page.evaluate<number>('window.__firstPaint');
}

const ROWS = '[data-testid="services-table"] tbody tr[data-row]';
/**
 * Rows of the trace view and of the logs list: the attributes agreed for the benchmark (`data-span-row`,
 * `data-log-row`) and, until the pages carry them, what they render today (`.wf-row[data-span]`, `.log-row`).
 */
const SPAN_ROWS = '[data-span-row], .wf-row[data-span]';
const LOG_ROWS = '[data-log-row], .log-row';
/** Live tail on: `tail=1` as agreed, `live=1` as the logs page reads it today (ui/src/logs/view.ts). */
const TAIL_URL = '/logs?tail=1&live=1';

/** 1b and 2: the initial route's JavaScript, and navigation → services table with data beside the API call alone. */
async function servicesTable(platform: TestPlatform, browser: TestBrowser, runs: number, dataNote: string): Promise<BenchResult[]> {
  const url = `${platform.apiUrl}/services`;
  const results: BenchResult[] = [];

  // First load: what the browser fetches for the route, and the API request the table waits for.
  const page = await freshPage(browser, ROWS);
  const scripts = new Map<string, number>();
  const bodies: Promise<void>[] = [];
  let apiPath: string | undefined;
  page.on('response', (res) => {
    const req = res.request();
    if (req.resourceType() === 'script') {
      bodies.push(res.body().then((b) => void scripts.set(new URL(res.url()).pathname, gzipBytes(b))));
    }
    // Scripts inlined in the page (the early script) are initial JavaScript too.
    if (req.resourceType() === 'document') {
      bodies.push(
        res.body().then((b) => {
          const inline = [...b.toString('utf8').matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!).join('\n');
          if (inline.trim() !== '') scripts.set('index.html (inline)', gzipBytes(Buffer.from(inline)));
        }),
      );
    }
    const u = new URL(res.url());
    if (apiPath === undefined && u.pathname === '/api/v1/services') apiPath = u.pathname + u.search;
  });
  await page.goto(url);
  await firstPaint(page, ROWS, 120_000);
  await page.waitForLoadState('networkidle');
  await Promise.all(bodies);
  await page.close();
  if (apiPath === undefined) throw new Error('the services page made no /api/v1/services request');
  const totalKb = [...scripts.values()].reduce((a, b) => a + b, 0) / KB;
  results.push({
    name: 'ui.initial_route.js_gzip',
    value: round(totalKb),
    unit: 'KB',
    reference: INITIAL_JS_TARGET_KB,
    ratio: round(totalKb / INITIAL_JS_TARGET_KB),
    note: `/services with the cache off: ${scripts.size} scripts, fetched or inlined in the page (${[...scripts].map(([p, b]) => `${stableName(p.split('/').pop()!)} ${round(b / KB)}`).join(', ')} KB gzip level 9); reference: the target (≤ ${INITIAL_JS_TARGET_KB} KB)`,
  });

  // Alternate page and API-alone runs; one unmeasured run of each first.
  const apiUrl = platform.apiUrl + apiPath;
  const apiAlone = async () => {
    const t = performance.now();
    const r = await fetch(apiUrl);
    if (r.status !== 200) throw new Error(`${apiPath}: HTTP ${r.status}`);
    await r.json();
    return performance.now() - t;
  };
  /** In the page: when its /api/v1/services request started and ended (ms since navigation). */
  const inPage: { start: number; end: number }[] = [];
  const pageLoad = async (cached = false) => {
    const p = await freshPage(browser, ROWS, cached);
    try {
      await p.goto(url);
      const painted = await firstPaint(p, ROWS, 120_000);
      const req = await p.evaluate<{ start: number; end: number } | null>(`(() => {
        const e = performance.getEntriesByType('resource').find((r) => new URL(r.name).pathname === '/api/v1/services');
        return e ? { start: e.startTime, end: e.responseEnd } : null;
      })()`);
      if (req && !cached) inPage.push(req);
      // Close only once the page's other requests (the sparklines) have answered: the embedded engine runs one
      // query at a time, so a page closed at its first paint left a query running, and the next run (a page or
      // the API alone) waited behind it.
      await p.waitForLoadState('networkidle');
      return painted;
    } finally {
      await p.close();
    }
  };
  await pageLoad();
  await pageLoad(true);
  await apiAlone();
  const pages: number[] = [];
  const cachedPages: number[] = [];
  const apis: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      pages.push(await pageLoad());
      cachedPages.push(await pageLoad(true));
      apis.push(await apiAlone());
    } else {
      apis.push(await apiAlone());
      cachedPages.push(await pageLoad(true));
      pages.push(await pageLoad());
    }
  }
  const value = median(pages);
  const reference = median(apis);
  const measured = inPage.slice(-runs);
  results.push({
    name: 'ui.services_table.first_data',
    value: round(value),
    unit: 'ms',
    reference: round(reference),
    ratio: round(value / reference),
    note: `navigation to /services → first row with data painted (cache off), median of ${runs} (${pages.map(Math.round).join(', ')}); reference: the page's own request ${apiPath.split('?')[0]} alone with fetch, body parsed (${apis.map(Math.round).join(', ')}); in the page that request started at a median ${Math.round(median(measured.map((m) => m.start)))} ms and ended at ${Math.round(median(measured.map((m) => m.end)))} ms after navigation; ${dataNote}; target ratio ≤ ${SERVICES_RATIO_TARGET}`,
  });
  const cachedValue = median(cachedPages);
  results.push({
    name: 'ui.services_table.first_data_cached',
    value: round(cachedValue),
    unit: 'ms',
    reference: round(reference),
    ratio: round(cachedValue / reference),
    note: `the same with the HTTP cache on (a returning user: the hashed bundle files are cached for a year), median of ${runs} (${cachedPages.map(Math.round).join(', ')}); reference: the API request alone as above`,
  });
  return results;
}

/** A 10,000-span trace through the SDK: a root, 99 children, 100 grandchildren each; the last is `final-span`. */
async function sendBigTrace(platform: TestPlatform): Promise<string> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-big-trace', 'k8s.namespace.name': 'bench' }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${platform.otlpHttpUrl}/v1/traces` }),
        maxQueueSize: 20_000,
        maxExportBatchSize: 1000,
        scheduledDelayMillis: 50,
      }),
    ],
  });
  const tracer = provider.getTracer('ui-bench');
  const services = ['frontend', 'checkout', 'cart', 'payment', 'catalog'];
  const t0 = Date.now() - 60_000;
  const root = tracer.startSpan('GET /big', { kind: SpanKind.SERVER, startTime: t0 }, ROOT_CONTEXT);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const ends: [Span, number][] = [];
  for (let c = 0; c < 99; c++) {
    const cStart = t0 + c * 100;
    const child = tracer.startSpan(`step ${c} (${services[c % services.length]})`, { kind: SpanKind.INTERNAL, startTime: cStart, attributes: { 'step.index': c } }, rootCtx);
    const childCtx = trace.setSpan(ROOT_CONTEXT, child);
    for (let g = 0; g < 100; g++) {
      const last = c === 98 && g === 99;
      const gStart = cStart + 1 + g * 0.98;
      const gs = tracer.startSpan(last ? 'final-span' : `SELECT items ${c}.${g}`, { kind: SpanKind.CLIENT, startTime: gStart, attributes: { 'db.system': 'postgresql' } }, childCtx);
      ends.push([gs, gStart + 0.8]);
    }
    ends.push([child, cStart + 99.5]);
  }
  for (const [s, end] of ends) s.end(end);
  root.end(t0 + 10_000);
  await provider.forceFlush();
  await provider.shutdown();
  await platform.inserted(120_000);
  return root.spanContext().traceId;
}

/** 3: the trace view of a 10,000-span trace. */
async function traceView(platform: TestPlatform, browser: TestBrowser, runs: number): Promise<BenchResult[]> {
  const traceId = await sendBigTrace(platform);
  const stored = (await (await fetch(`${platform.apiUrl}/api/v1/traces/${traceId}?limit=50000`)).json()) as { spans?: unknown[] };
  const url = `${platform.apiUrl}/traces/${traceId}`;
  const SPAN_ROW = SPAN_ROWS;
  /** The trace's own request in the page: started and ended (ms since navigation), bytes on the wire and of JSON. */
  type TraceRequest = { start: number; end: number; wire: number; json: number };
  const requests: TraceRequest[] = [];
  const once = async (): Promise<{ first: number; last: number | null }> => {
    const page = await freshPage(browser, SPAN_ROW);
    try {
      await page.goto(url);
      const first = await firstPaint(page, SPAN_ROW, 20_000);
      const req = await page.evaluate<TraceRequest | null>(`(() => {
        const path = (r) => new URL(r.name).pathname;
        const e = performance.getEntriesByType('resource').find((r) => path(r).startsWith('/api/v1/traces/') && path(r).length === '/api/v1/traces/'.length + 32);
        return e ? { start: e.startTime, end: e.responseEnd, wire: e.encodedBodySize, json: e.decodedBodySize } : null;
      })()`);
      if (req) requests.push(req);
      // Scroll the list's scroll container to the end until the last span's row is in the DOM.
      const last = await page.evaluate<number | null>(SCROLL_TO_LAST(SPAN_ROW, 'final-span'));
      return { first, last };
    } finally {
      await page.close();
    }
  };
  let warm;
  try {
    warm = await once();
  } catch (e) {
    skip('trace view', `no ${SPAN_ROW} row on ${url.replace(platform.apiUrl, '')} within 20 s: the trace view is not built yet (${(e as Error).message.split('\n')[0]})`);
    return [];
  }
  const firsts: number[] = [];
  const lasts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once();
    firsts.push(r.first);
    if (r.last !== null) lasts.push(r.last);
  }
  const spans = stored.spans?.length ?? 0;
  const measured = requests.slice(-runs);
  const traceRequest =
    measured.length === 0
      ? 'the page made no /api/v1/traces/<id> request'
      : `in the page the trace's request started at a median ${Math.round(median(measured.map((r) => r.start)))} ms and ended at ${Math.round(median(measured.map((r) => r.end)))} ms after navigation, ${round(measured[0]!.wire / KB)} KB on the wire for ${round(measured[0]!.json / KB)} KB of JSON`;
  const results: BenchResult[] = [
    {
      name: 'ui.trace_view.first_rows',
      value: round(median(firsts)),
      unit: 'ms',
      reference: TRACE_VIEW_TARGET_MS,
      ratio: round(median(firsts) / TRACE_VIEW_TARGET_MS),
      note: `/traces/<id> of a ${spans}-span trace (root, 99 children, 100 grandchildren each): navigation → first span row painted (cache off), median of ${runs} (${firsts.map(Math.round).join(', ')}); ${traceRequest}; reference: the target (≤ ${TRACE_VIEW_TARGET_MS} ms)`,
    },
  ];
  if (warm.last === null || lasts.length < runs) {
    skip('trace view, last row', `the last span's row (final-span) never appeared after scrolling to the end (collapsed subtrees or a different layout); first rows measured only`);
  } else {
    results.push({
      name: 'ui.trace_view.last_row',
      value: round(median(lasts)),
      unit: 'ms',
      reference: TRACE_VIEW_TARGET_MS,
      ratio: round(median(lasts) / TRACE_VIEW_TARGET_MS),
      note: `the same: navigation → the last span's row in the DOM after scrolling the virtualized list to the end, median of ${runs} (${lasts.map(Math.round).join(', ')}); reference: the target (≤ ${TRACE_VIEW_TARGET_MS} ms)`,
    });
  }
  return results;
}

/** 4: a log line's way from the SDK to a visible row of the live tail. */
async function liveTail(platform: TestPlatform, browser: TestBrowser, lines: number): Promise<BenchResult[]> {
  const LOG_ROW = LOG_ROWS;
  const page = await browser.context.newPage();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench-tail', 'k8s.namespace.name': 'bench' }),
    processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${platform.otlpHttpUrl}/v1/logs` }) })],
  });
  const logger = provider.getLogger('ui-bench');
  try {
    // The page notes when a row with each token appears (Date.now(): the same clock as this process).
    await page.addInitScript({ content: TOKEN_RECORDER(LOG_ROW) });
    await page.goto(`${platform.apiUrl}${TAIL_URL}`);
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000)); // the tail is running
    const latencies: number[] = [];
    for (let i = 0; i < lines + 1; i++) {
      const tokenText = `tail-bench-${Date.now().toString(36)}${i}`;
      const sent = Date.now();
      logger.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: `live tail benchmark line ${tokenText}` });
      await provider.forceFlush();
      try {
        await page.waitForFunction(`window.__seen[${JSON.stringify(tokenText)}] !== undefined`, undefined, { timeout: 20_000 });
      } catch {
        skip('live tail', `no ${LOG_ROW} row with the emitted line on ${TAIL_URL} within 20 s: the logs page's live tail is not built yet`);
        return [];
      }
      const seen = await page.evaluate<number>(`window.__seen[${JSON.stringify(tokenText)}]`);
      if (i > 0) latencies.push(seen - sent); // the first line is a warm-up
      await new Promise((r) => setTimeout(r, 500));
    }
    const value = median(latencies);
    return [
      {
        name: 'ui.live_tail.latency',
        value: round(value),
        unit: 'ms',
        reference: TAIL_TARGET_MS,
        ratio: round(value / TAIL_TARGET_MS),
        note: `a log line emitted through the SDK (OTLP/HTTP protobuf, simple processor) → its row on ${TAIL_URL} (live tail), median of ${lines} (${latencies.map(Math.round).join(', ')}); reference: the target (≤ ${TAIL_TARGET_MS} ms)`,
      },
    ];
  } finally {
    await page.close();
    await provider.shutdown();
  }
}

/** Every process whose ancestor (or itself) carries `--user-data-dir=<profile>`: the browser and its children. */
function browserPids(profile: string): number[] {
  const parent = new Map<number, number>();
  const roots: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--user-data-dir=${profile}`)) roots.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  const found = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** Browser on core 0, this process on core 1 (see the header); a note for the figures saying what was done. */
function pinApart(browser: TestBrowser): string {
  if (cpus().length < 2) return 'browser and platform on the same core (one core here)';
  try {
    const pids = browserPids(browser.profile);
    if (pids.length === 0) return 'not pinned (no browser process found)';
    for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return `browser (${pids.length} processes) pinned to core 0, platform and reference calls to core 1`;
  } catch (err) {
    return `not pinned (${(err as Error).message.split('\n')[0]})`;
  }
}

export async function run(opts: UiBenchOptions = {}): Promise<BenchResult[]> {
  const spans = opts.spans ?? 5_000_000;
  const logs = opts.logs ?? 5_000_000;
  const runs = opts.runs ?? 9;
  // The platform serves ui/dist: build it when the sources are newer (as `npm start` does).
  execFileSync(process.execPath, [join(ROOT, 'ui', 'scripts', 'ensure-built.mjs')], { stdio: 'inherit' });
  const results: BenchResult[] = chunks();
  const browser = await launchChromium();
  const platform = await startTestPlatform(['--clickhouse-database', DATABASE]);
  try {
    const genStart = performance.now();
    await generate(platform.store!, Math.floor(Date.now() / 1000) * 1000, spans, logs);
    const pinned = pinApart(browser);
    const dataNote = `${spans} spans, ${logs} logs (generated in ${Math.round((performance.now() - genStart) / 1000)} s); ${pinned}`;
    results.push(...(await servicesTable(platform, browser, runs, dataNote)));
    results.push(...(await traceView(platform, browser, runs)));
    results.push(...(await liveTail(platform, browser, opts.tailLines ?? 5)));
    return results;
  } finally {
    await browser.close();
    await platform.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : Number(process.argv[i + 1]);
  };
  const spans = arg('spans');
  const logs = arg('logs');
  const results = await run({ ...(spans !== undefined ? { spans } : {}), ...(logs !== undefined ? { logs } : {}) });
  console.table(results.map((r) => ({ name: r.name, value: r.value, unit: r.unit, reference: r.reference, ratio: r.ratio })));
  for (const r of results) console.log(`${r.name}: ${r.note ?? ''}`);
}
