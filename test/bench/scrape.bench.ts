/**
 * Scrape benchmark (issue 13): the agent's CPU to parse, convert and encode one scrape interval of 1,000 targets,
 * in process (no HTTP: the figure is the agent's own work per interval, what grows with targets and series).
 *
 * Each target exposes the same mix as a typical Go service with a Prometheus client: ~40 runtime gauges and
 * counters, a GC summary, an HTTP request counter and latency histogram over 20 routes × 3 codes (12 buckets),
 * about 1,000 samples in all, with its own instance. Two intervals run back to back; the second is the figure
 * (series state exists then, as in a running agent). CPU is the process's (process.cpuUsage), not wall time.
 *
 * Reference: one core for a 30 s scrape interval (30,000 ms of CPU); the ratio is the share of a core the agent
 * spends scraping 1,000 targets every 30 s.
 *
 *   npm run bench -- scrape
 *   node --import tsx test/bench/scrape.bench.ts
 */
import { encodeMetricsRequest, splitByPoints } from '../../agents/metrics/otlp-encode.ts';
import { SeriesTracker, toOtlp } from '../../agents/metrics/otlp.ts';
import { parseExposition } from '../../agents/metrics/parse.ts';
import type { BenchResult } from './result.ts';

const TARGETS = 1000;
const INTERVAL_MS = 30_000;

/** One target's exposition at scrape `round` (counters grow between rounds). */
export function exposition(round: number): string {
  const lines: string[] = [];
  lines.push('# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.', '# TYPE go_gc_duration_seconds summary');
  for (const q of ['0', '0.25', '0.5', '0.75', '1']) lines.push(`go_gc_duration_seconds{quantile="${q}"} ${(Number(q) + 1) * 1.2e-5}`);
  lines.push(`go_gc_duration_seconds_sum ${0.5 + round}`, `go_gc_duration_seconds_count ${1000 + round * 10}`);
  for (let i = 0; i < 20; i++) lines.push(`# HELP go_memstats_g${i}_bytes Runtime gauge ${i}.`, `# TYPE go_memstats_g${i}_bytes gauge`, `go_memstats_g${i}_bytes ${1e6 + i * 4096}`);
  for (let i = 0; i < 20; i++) lines.push(`# HELP go_memstats_c${i}_total Runtime counter ${i}.`, `# TYPE go_memstats_c${i}_total counter`, `go_memstats_c${i}_total ${1e5 + i + round * 100}`);
  const bounds = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
  lines.push('# HELP http_requests_total Requests served.', '# TYPE http_requests_total counter');
  for (let r = 0; r < 20; r++) for (const code of ['200', '404', '500']) lines.push(`http_requests_total{route="/api/v1/items/${r}",code="${code}",method="GET"} ${r * 100 + round * 7}`);
  lines.push('# HELP http_request_duration_seconds Request latency.', '# TYPE http_request_duration_seconds histogram');
  for (let r = 0; r < 20; r++) {
    for (const code of ['200', '404', '500']) {
      const l = `route="/api/v1/items/${r}",code="${code}",method="GET"`;
      bounds.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{${l},le="${le}"} ${(i + 1) * 10 + round}`));
      lines.push(`http_request_duration_seconds_sum{${l}} ${12.5 + round}`, `http_request_duration_seconds_count{${l}} ${120 + round}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Parses, converts and encodes one interval of `TARGETS` targets; returns CPU ms, samples and bytes. */
function interval(round: number, trackers: SeriesTracker[], body: string): { cpuMs: number; samples: number; bytes: number; points: number } {
  const before = process.cpuUsage();
  let samples = 0;
  let bytes = 0;
  let points = 0;
  for (let t = 0; t < TARGETS; t++) {
    const instance = `10.0.${t >> 8}.${t & 255}:8080`;
    const target = { job: `shop/svc-${t % 50}`, instance, url: new URL(`http://${instance}/metrics`), resource: { 'k8s.node.name': 'node-1' } };
    const exp = parseExposition(body, 'prometheus');
    samples += exp.samples;
    const tracker = trackers[t]!;
    tracker.begin();
    const { resourceMetrics, stats } = toOtlp(exp, target, 1_700_000_000_000 + round * INTERVAL_MS, tracker);
    tracker.end();
    points += stats.points;
    for (const part of splitByPoints(resourceMetrics, 5000)) bytes += encodeMetricsRequest([part.resources]).length;
  }
  const cpu = process.cpuUsage(before);
  return { cpuMs: (cpu.user + cpu.system) / 1000, samples, bytes, points };
}

export async function run(): Promise<BenchResult[]> {
  const trackers = Array.from({ length: TARGETS }, () => new SeriesTracker());
  interval(0, trackers, exposition(0));
  const m = interval(1, trackers, exposition(1));
  const note = `1,000 targets × ${m.samples / TARGETS} samples (${m.points / TARGETS} OTLP points, ${(m.bytes / TARGETS / 1024).toFixed(1)} KiB protobuf each): parse + convert + encode CPU per interval; reference one core for a 30 s interval`;
  return Promise.resolve([
    { name: 'agent.scrape_1000_targets.cpu_per_interval', value: Math.round(m.cpuMs), unit: 'ms', reference: INTERVAL_MS, ratio: m.cpuMs / INTERVAL_MS, note },
    { name: 'agent.scrape.cpu_per_sample', value: (m.cpuMs * 1000) / m.samples, unit: 'µs', reference: null, ratio: null, note: 'same run, per exposition sample' },
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) process.stdout.write(`${JSON.stringify(r)}\n`);
}
