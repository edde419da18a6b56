/**
 * Query API benchmark: latency of each endpoint through the real HTTP listener, beside the same SQL text and
 * parameters run directly on the engine (`store.rows`), over ≥ 5M spans and ≥ 5M log records.
 *
 * 1. A temporary chDB data directory, migrated; the data is generated inside the engine with
 *    INSERT … SELECT FROM numbers(): 500k traces of 10 spans over the last 24 h (20 services, 200 operations,
 *    8 span and 5 resource attributes, events on a fifth of the spans), 5M log records (bodies of ~100
 *    characters drawn from a vocabulary plus a rare order token, 8 attributes), and 24 h of metrics (400
 *    counter series, 100 histogram series with 12 buckets, 100 gauges, every 30 s).
 * 2. The query app listens on 127.0.0.1:0; every endpoint is called with `fetch` (body read and parsed),
 *    and its SQL (built by the same builders from the same parameters) is run through `store.rows()` with the
 *    same settings. Runs alternate API / direct after warm-up, so cache state and drift hit both alike.
 * 3. Figures: p50 and p95 in ms; value = API, reference = direct SQL, ratio = value / reference.
 *    Target from the issue: ratio ≤ 1.3.
 *
 * Standalone: `node --import tsx test/bench/query.bench.ts` prints a table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import { type Store, createStore } from '#storage/client.ts';
import { migrate } from '#storage/migrate.ts';
import { ident, param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import { buildQueryApp } from '../../query/app.ts';
import { resolveRange, resolveStepMs } from '../../query/params/time.ts';
import { TARGET_BUCKETS, toLogFilters, toLogSearch } from '../../query/routes/logs.ts';
import { type KindRow, type MetricQueryParams, pickKind, toMetricQuery, toMetricWindow } from '../../query/routes/metrics.ts';
import { toServicesQuery } from '../../query/routes/services.ts';
import { toTraceSearch } from '../../query/routes/traces.ts';
import { QUERY_SETTINGS } from '../../query/sql/common.ts';
import { logHistogramSql, logSearchSql } from '../../query/sql/logs.ts';
import { metricKindSql, metricListSql } from '../../query/sql/metrics/catalogue.ts';
import { metricSeriesSql } from '../../query/sql/metrics/series.ts';
import { servicesSql } from '../../query/sql/services.ts';
import { traceByIdSql, traceSearchSql } from '../../query/sql/traces.ts';
import type { BenchResult } from './result.ts';

export interface QueryBenchOptions {
  /** Spans generated (traces of 10). @default 5_000_000 */
  spans?: number;
  /** Log records generated. @default 5_000_000 */
  logs?: number;
  /**
   * Measured runs per endpoint and side. @default 60: with 30, a p95 is the second-slowest run, and one slow spell
   * of the host moved a 35 ms endpoint's ratio from 1.12 to 1.32 between two runs of the same code.
   */
  runs?: number;
  /** Unmeasured runs per endpoint and side first. @default 3 */
  warmup?: number;
}

const DB = 'otel_bench';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SERVICES = 20;

/** Words of the generated log bodies (~7 characters on average: 14 of them make ~100 characters). */
const WORDS = [
  'request', 'handled', 'user', 'session', 'cache', 'miss', 'hit', 'timeout', 'connection', 'refused', 'upstream', 'payment',
  'order', 'checkout', 'cart', 'item', 'added', 'removed', 'retry', 'attempt', 'failed', 'succeeded', 'database', 'query',
  'slow', 'latency', 'exceeded', 'budget', 'token', 'expired', 'renewed', 'queue', 'message', 'consumed', 'produced', 'partition',
  'rebalance', 'worker', 'started', 'stopped', 'health', 'check', 'passed', 'kafka', 'broker', 'offset', 'commit', 'snapshot',
  'config', 'reloaded', 'feature', 'flag', 'enabled', 'disabled', 'inventory', 'reserved', 'released', 'shipping', 'quote', 'email',
];

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Generates the data set inside the engine. Text here is the benchmark's own (no user input). */
export async function generate(store: Store, nowMs: number, spans: number, logs: number): Promise<void> {
  const db = ident(DB);
  const startNs = BigInt(nowMs - DAY) * 1_000_000n;
  const traces = Math.floor(spans / 10);
  const traceGapNs = (BigInt(DAY) * 1_000_000n) / BigInt(traces);
  const hex16 = (e: string) => `leftPad(lower(hex(${e})), 16, '0')`;
  await store.command(sql`INSERT INTO ${db}.otel_traces
  (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName, ScopeVersion,
   SpanAttributes, Duration, StatusCode, StatusMessage, \`Events.Timestamp\`, \`Events.Name\`, \`Events.Attributes\`,
   \`Links.TraceId\`, \`Links.SpanId\`, \`Links.TraceState\`, \`Links.Attributes\`)
SELECT
  fromUnixTimestamp64Nano(toInt64(${param('Int64', startNs.toString())} + t * ${param('Int64', traceGapNs.toString())} + s * 5000000 + cityHash64(number, 'j') % 1000000)) AS ts,
  concat(${unsafeRaw(hex16("cityHash64(t, 'a')"))}, ${unsafeRaw(hex16("cityHash64(t, 'b')"))}),
  ${unsafeRaw(hex16("cityHash64(number, 's')"))},
  if(s = 0, '', ${unsafeRaw(hex16("cityHash64(t * 10 + intDiv(s - 1, 3), 's')"))}),
  '',
  concat('op-', toString(svc), '-', toString((t + s) % 10)),
  multiIf(s = 0, 'Server', s % 4 = 1, 'Client', s % 4 = 2, 'Server', s % 4 = 3, 'Internal', 'Consumer'),
  concat('svc-', toString(svc)),
  map('service.name', concat('svc-', toString(svc)), 'service.version', '1.4.2', 'host.name', concat('node-', toString(svc % 7)),
      'k8s.pod.name', concat('svc-', toString(svc), '-7d9f-', toString(t % 3)), 'k8s.namespace.name', 'shop'),
  '@opentelemetry/instrumentation-http', '0.45.1',
  map('http.method', ['GET', 'POST', 'PUT', 'DELETE'][1 + number % 4], 'http.route', concat('/api/v1/items/', toString(number % 50)),
      'http.status_code', if(err, '500', '200'), 'net.peer.name', concat('peer-', toString(number % 30)),
      'user.id', toString(cityHash64(number, 'u') % 100000), 'thread.id', toString(number % 64), 'component', 'http',
      'db.system', if(s % 4 = 2, 'postgresql', 'none')),
  toUInt64(100000 + cityHash64(number, 'd') % 300000000),
  if(err, 'Error', if(s = 0, 'Ok', 'Unset')),
  if(err, 'upstream failed', ''),
  if(s % 5 = 1, [ts + toIntervalMillisecond(1)], []),
  if(s % 5 = 1, ['cache miss'], []),
  if(s % 5 = 1, [map('cache.key', concat('item:', toString(number % 1000)))], []),
  [], [], [], []
FROM (SELECT number, intDiv(number, 10) AS t, number % 10 AS s, (t + s * 3) % ${unsafeRaw(String(SERVICES))} AS svc,
             cityHash64(number, 'e') % 50 = 0 AS err
      FROM numbers(${param('UInt64', traces * 10)}))`);

  const logGapNs = (BigInt(DAY) * 1_000_000n) / BigInt(logs);
  await store.command(sql`INSERT INTO ${db}.otel_logs
  (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, ResourceSchemaUrl, ResourceAttributes,
   ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes, EventName)
SELECT
  fromUnixTimestamp64Nano(toInt64(${param('Int64', startNs.toString())} + number * ${param('Int64', logGapNs.toString())})),
  if(number % 2 = 0, concat(${unsafeRaw(hex16("cityHash64(number, 'a')"))}, ${unsafeRaw(hex16("cityHash64(number, 'b')"))}), ''),
  if(number % 2 = 0, ${unsafeRaw(hex16("cityHash64(number, 's')"))}, ''),
  toUInt8(number % 2),
  ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][sev], [5, 9, 13, 17, 21][sev],
  concat('svc-', toString(number % ${unsafeRaw(String(SERVICES))})),
  concat(arrayStringConcat(arrayMap(i -> words[1 + cityHash64(number, i) % length(words)], range(13)), ' '),
         ' ord', toString(cityHash64(number, 'o') % 1000000)),
  'https://opentelemetry.io/schemas/1.21.0',
  map('service.name', concat('svc-', toString(number % ${unsafeRaw(String(SERVICES))})), 'host.name', concat('node-', toString(number % 7)),
      'k8s.pod.name', concat('pod-', toString(number % 60)), 'k8s.namespace.name', 'shop', 'service.version', '1.4.2'),
  '', 'pino', '8.1.0', map(),
  map('http.method', ['GET', 'POST'][1 + number % 2], 'http.route', concat('/api/v1/items/', toString(number % 50)),
      'user.id', toString(cityHash64(number, 'u') % 100000), 'thread.id', toString(number % 64), 'logger', 'app',
      'code.function', concat('handler', toString(number % 40)), 'retry.count', toString(number % 4), 'region', ['eu', 'us'][1 + number % 2]),
  ''
FROM (SELECT number, ${unsafeRaw(`[${WORDS.map(quote).join(', ')}]`)} AS words,
             multiIf(cityHash64(number, 'v') % 100 < 5, 1, cityHash64(number, 'v') % 100 < 80, 2, cityHash64(number, 'v') % 100 < 93, 3,
                     cityHash64(number, 'v') % 100 < 99, 4, 5) AS sev
      FROM numbers(${param('UInt64', logs)}))`);

  // Metrics: every 30 s for 24 h (2880 samples per series), and one sample before the range for look-back.
  const samples = DAY / 30_000 + 1;
  const metricStartNs = BigInt(nowMs - DAY - 30_000) * 1_000_000n;
  const common = (series: string, svc: string) => `map('service.name', concat('svc-', toString(${svc})), 'k8s.pod.name', concat('pod-', toString(${series}))),
  '', 'meter', '1', map(), 0, '', concat('svc-', toString(${svc}))`;
  const cols =
    'ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount, ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix';
  const time = `fromUnixTimestamp64Nano(toInt64(${metricStartNs} + k * 30000000000))`;
  const start = `fromUnixTimestamp64Nano(toInt64(${metricStartNs - 60_000_000_000n}))`;
  await store.command(sql`INSERT INTO ${db}.otel_metrics_sum (${unsafeRaw(cols)}, Value, Flags, AggregationTemporality, IsMonotonic)
SELECT ${unsafeRaw(common('series', 'series % 20'))}, 'http.server.request.count', 'Requests', '{request}',
  map('http.route', concat('/r', toString(intDiv(series, 20) % 10)), 'http.method', 'GET'), ${unsafeRaw(start)}, ${unsafeRaw(time)},
  toFloat64(k * (1 + series % 5)), 0, 2, true
FROM (SELECT number % 400 AS series, intDiv(number, 400) AS k FROM numbers(${param('UInt64', 400 * samples)}))`);
  await store.command(sql`INSERT INTO ${db}.otel_metrics_histogram (${unsafeRaw(cols)}, Count, Sum, BucketCounts, ExplicitBounds, Flags, Min, Max, AggregationTemporality)
SELECT ${unsafeRaw(common('series', 'series % 20'))}, 'http.server.duration', 'Request duration', 'ms',
  map('http.route', concat('/r', toString(intDiv(series, 20) % 5))), ${unsafeRaw(start)}, ${unsafeRaw(time)},
  arraySum(counts), toFloat64(k * 1234.5), counts, [5., 10., 25., 50., 75., 100., 250., 500., 750., 1000., 2500., 5000.], 0, 1, 4000, 2
FROM (SELECT number % 100 AS series, intDiv(number, 100) AS k,
             arrayMap(i -> toUInt64(k * ((i * 7 + series) % 13 + 1)), range(13)) AS counts
      FROM numbers(${param('UInt64', 100 * samples)}))`);
  await store.command(sql`INSERT INTO ${db}.otel_metrics_gauge (${unsafeRaw(cols)}, Value, Flags)
SELECT ${unsafeRaw(common('series', 'series % 20'))}, 'process.memory.usage', 'Resident memory', 'By',
  map('state', 'used'), ${unsafeRaw(start)}, ${unsafeRaw(time)}, toFloat64(1e8 + (cityHash64(series, k) % 1000) * 1e5), 0
FROM (SELECT number % 100 AS series, intDiv(number, 100) AS k FROM numbers(${param('UInt64', 100 * samples)}))`);
}

interface Endpoint {
  name: string;
  /** Path and query string of run i. */
  url(i: number): string;
  /** The same SQL the route runs for run i, through store.rows(). */
  direct(i: number): Promise<unknown>;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export async function run(opts: QueryBenchOptions = {}): Promise<BenchResult[]> {
  const spans = opts.spans ?? 5_000_000;
  const logs = opts.logs ?? 5_000_000;
  const runs = opts.runs ?? 60;
  const warmup = opts.warmup ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'crowsnest-query-bench-'));
  const store = createStore({ dataDir: dir, database: DB });
  const log = silentLogger();
  try {
    await migrate(store, { database: DB, ttlDays: { traces: 0, logs: 0, metrics: 0 } }, log);
    const now = Math.floor(Date.now() / 1000) * 1000;
    const genStart = performance.now();
    await generate(store, now, spans, logs);
    const genMs = performance.now() - genStart;
    const [counts] = await store.rows<{ spans: string; logs: string }>(
      sql`SELECT (SELECT count() FROM ${ident(DB)}.otel_traces) AS spans, (SELECT count() FROM ${ident(DB)}.otel_logs) AS logs`,
    );
    const app = await buildQueryApp({ store, log, metrics: createMetrics(), notReady: () => undefined });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      const endpoints = await endpointsFor(store, now);
      const results: BenchResult[] = [];
      for (const e of endpoints) {
        const api = async (i: number) => {
          const r = await fetch(base + e.url(i));
          if (r.status !== 200) throw new Error(`${e.name}: HTTP ${r.status} ${await r.text()}`);
          return r.json();
        };
        for (let i = 0; i < warmup; i++) {
          await api(i);
          await e.direct(i);
        }
        const a: number[] = [];
        const d: number[] = [];
        for (let i = 0; i < runs; i++) {
          // Alternate which side goes first, so neither always meets a cache the other warmed.
          if (i % 2 === 0) {
            a.push(await time(() => api(i)));
            d.push(await time(() => e.direct(i)));
          } else {
            d.push(await time(() => e.direct(i)));
            a.push(await time(() => api(i)));
          }
        }
        a.sort((x, y) => x - y);
        d.sort((x, y) => x - y);
        for (const [p, label] of [
          [0.5, 'p50'],
          [0.95, 'p95'],
        ] as const) {
          const value = percentile(a, p);
          const reference = percentile(d, p);
          results.push({
            name: `query.${e.name}.${label}`,
            value: round(value),
            unit: 'ms',
            reference: round(reference),
            ratio: round(value / reference),
            note: `${e.url(0).split('?')[0]}: API over HTTP (fetch, body parsed) vs the same SQL via store.rows(); ${runs} runs; ${counts?.spans} spans, ${counts?.logs} logs (generated in ${Math.round(genMs / 1000)} s); target ratio ≤ 1.3`,
          });
        }
      }
      return results;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The endpoints measured, each with its URL and the same SQL run directly. */
async function endpointsFor(store: Store, now: number): Promise<Endpoint[]> {
  const db = store.database;
  const rows = (q: Sql) => store.rows(q, QUERY_SETTINGS);
  const hour = { start: String(now - HOUR), end: String(now) };
  const sixHours = { start: String(now - 6 * HOUR), end: String(now) };
  const day = { start: String(now - DAY), end: String(now) };
  const qs = (o: Record<string, string | string[]>) =>
    new URLSearchParams(Object.entries(o).flatMap(([k, v]): [string, string][] => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString();

  // Root spans of the last hour: trace-by-id rotates through them (each id is read once or twice per side).
  const ids = (
    await store.rows<{ TraceId: string }>(
      sql`SELECT TraceId FROM ${ident(db)}.otel_traces WHERE Timestamp >= now64(9) - INTERVAL 1 HOUR AND ParentSpanId = '' ORDER BY Timestamp LIMIT 64`,
    )
  ).map((r) => r.TraceId);
  // A rare word of a recent log body: full-text search the tokenbf index can answer.
  const [rare] = await store.rows<{ w: string }>(
    sql`SELECT splitByChar(' ', Body)[-1] AS w FROM ${ident(db)}.otel_logs WHERE Timestamp >= now64(9) - INTERVAL 30 MINUTE LIMIT 1`,
  );

  const traceSearch = { ...hour, limit: '20' };
  const traceFiltered = { ...hour, service: 'svc-3', minDuration: '100ms', attr: ['http.method=POST'], limit: '20' };
  const logSearch = { ...hour, limit: '100' };
  const logText = { ...hour, q: 'connection refused', severity: 'warn', limit: '100' };
  const logRare = { ...day, q: rare?.w ?? 'ord1', limit: '100' };
  const histogram = { ...day, by: 'severity' as const };
  const rate = { ...sixHours, name: 'http.server.request.count', agg: 'rate' as const, groupBy: ['ServiceName'] };
  const p95 = { ...sixHours, name: 'http.server.duration', agg: 'p95' as const, groupBy: [''] };
  const services = { ...hour };

  const metricDirect = async (q: Omit<MetricQueryParams, 'limit'>) => {
    const w = toMetricWindow(q, now);
    const kind = pickKind(q.name, await rows(metricKindSql(db, q.name, w.kindRange)) as KindRow[], q.type);
    if (!kind) throw new Error(`no metric ${q.name}`);
    return rows(metricSeriesSql(db, toMetricQuery({ ...q, limit: 100 }, w, kind)));
  };

  return [
    {
      name: 'trace_by_id',
      url: (i) => `/api/v1/traces/${ids[i % ids.length]}`,
      direct: (i) => rows(traceByIdSql(db, ids[i % ids.length]!, 10_000)),
    },
    {
      name: 'trace_search',
      url: () => `/api/v1/traces?${qs(traceSearch)}`,
      direct: () => rows(traceSearchSql(db, toTraceSearch({ ...traceSearch, limit: 20 }, now))),
    },
    {
      name: 'trace_search_filtered',
      url: () => `/api/v1/traces?${qs(traceFiltered)}`,
      direct: () => rows(traceSearchSql(db, toTraceSearch({ ...traceFiltered, limit: 20 }, now))),
    },
    {
      name: 'logs_search',
      url: () => `/api/v1/logs?${qs(logSearch)}`,
      direct: () => rows(logSearchSql(db, toLogSearch({ ...logSearch, limit: 100 }, now))),
    },
    {
      name: 'logs_search_text',
      url: () => `/api/v1/logs?${qs(logText)}`,
      direct: () => rows(logSearchSql(db, toLogSearch({ ...logText, limit: 100 }, now))),
    },
    {
      name: 'logs_search_rare_token_24h',
      url: () => `/api/v1/logs?${qs(logRare)}`,
      direct: () => rows(logSearchSql(db, toLogSearch({ ...logRare, limit: 100 }, now))),
    },
    {
      name: 'logs_histogram_24h',
      url: () => `/api/v1/logs/histogram?${qs(histogram)}`,
      direct: () => {
        const f = toLogFilters(histogram, now);
        return rows(logHistogramSql(db, f, resolveStepMs('bucket', undefined, f.range, TARGET_BUCKETS), true));
      },
    },
    {
      name: 'metrics_list',
      url: () => `/api/v1/metrics?${qs(hour)}`,
      direct: () => rows(metricListSql(db, { range: resolveRange(hour, now), limit: 1000 })),
    },
    {
      name: 'metrics_query_rate_6h',
      url: () => `/api/v1/metrics/query?${qs(rate)}`,
      direct: () => metricDirect(rate),
    },
    {
      name: 'metrics_query_p95_6h',
      url: () => `/api/v1/metrics/query?${qs(p95)}`,
      direct: () => metricDirect(p95),
    },
    {
      name: 'services',
      url: () => `/api/v1/services?${qs(services)}`,
      direct: () => rows(servicesSql(db, toServicesQuery({ ...services, limit: 100 }, now))),
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const results = await run();
  const table = results.map((r) => ({ name: r.name, 'API ms': r.value, 'direct SQL ms': r.reference, ratio: r.ratio }));
  console.table(table);
  console.log(`total ${Math.round((performance.now() - started) / 1000)} s; ${results[0]?.note ?? ''}`);
}
