/**
 * `crowsnest demo` and `crowsnest start --demo`: a simulated shop (topology.ts) whose 14 pods each run the
 * OpenTelemetry SDK (sdk.ts) and send their traces, logs and metrics over OTLP/HTTP, with requests arriving as a
 * Poisson process at `rate` × the scenario's load (scenario.ts), planned (plan.ts) and emitted (traffic.ts).
 *
 * Loaded by dynamic import only (the CLI imports options.ts statically), so the SDK is never in the memory of a
 * process that does not run the demo. `stop()` stops arrivals, emits the requests still in flight, and shuts
 * every pod's SDK down, which exports what its processors hold; a process exits after it.
 *
 * Progress goes to the log: incidents as they start and end (so a user can match what the UI shows to its
 * cause), a summary every minute, and export failures (an unreachable endpoint, a refused token), at most once a
 * minute.
 */
import type { Logger } from '#core/log.ts';
import { gapMs, seeded } from './random.ts';
import { type Incident, conditionsAt } from './scenario.ts';
import { type ExportStats, createPodSdk, newExportStats } from './sdk.ts';
import { placePods } from './topology.ts';
import { Traffic, type TrafficStats } from './traffic.ts';

export interface DemoOptions {
  /** OTLP/HTTP base URL. */
  endpoint: string;
  /** Requests per second, on average. */
  rate: number;
  /** Bearer token for the exports. */
  token?: string | undefined;
  log: Logger;
  /** Seeds pod names, incident order and every draw. @default random */
  seed?: number;
  /** @default 10 s (sdk.ts) */
  metricIntervalMs?: number;
}

export interface Demo {
  seed: number;
  services: readonly string[];
  pods: number;
  stats(): { traffic: TrafficStats; exports: ExportStats };
  stop(): Promise<void>;
}

const REPORT_MS = 60_000;
const SHUTDOWN_MS = 15_000;

export function startDemo(opts: DemoOptions): Demo {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const r = seeded(seed);
  const log = opts.log;
  const startedMs = Date.now();
  const exports = newExportStats();
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const pods = placePods(r);
  const sdks = pods.map((pod) =>
    createPodSdk(pod, { endpoint: opts.endpoint, headers, stats: exports, ...(opts.metricIntervalMs !== undefined ? { metricIntervalMs: opts.metricIntervalMs } : {}) }),
  );
  const traffic = new Traffic(sdks, r, seed, startedMs);
  const services = [...new Set(pods.map((p) => p.service))];

  let stopped = false;
  let arrival: NodeJS.Timeout | undefined;
  let incident: Incident | undefined;
  const next = () => {
    if (stopped) return;
    const now = Date.now();
    const c = conditionsAt(seed, now - startedMs);
    if (c.incident?.startMs !== incident?.startMs) {
      if (incident) log.info({ incident: incident.kind, incidentService: incident.service }, `demo: incident over: ${incident.kind}`);
      if (c.incident) log.info({ incident: c.incident.kind, incidentService: c.incident.service }, `demo: incident started on ${c.incident.service}: ${c.incident.kind} (for ${(c.incident.endMs - c.incident.startMs) / 1000} s)`);
      incident = c.incident;
    }
    traffic.arrive(now);
    arrival = setTimeout(next, gapMs(r, opts.rate * c.load));
  };

  let last = { ...traffic.stats };
  let lastFailed = 0;
  const report = setInterval(() => {
    const s = traffic.stats;
    log.info(
      { requests: s.requests - last.requests, failed: s.failed - last.failed, spans: s.spans - last.spans, logs: s.logs - last.logs, dropped: s.dropped - last.dropped },
      `demo: ${s.requests - last.requests} requests (${s.failed - last.failed} failed) in the last minute`,
    );
    last = { ...s };
    const failed = exports.failed.traces + exports.failed.logs + exports.failed.metrics;
    if (failed > lastFailed) log.warn({ failedExports: failed - lastFailed, endpoint: opts.endpoint, lastError: exports.lastError }, 'demo: exports failed');
    lastFailed = failed;
  }, REPORT_MS);
  report.unref();

  log.info(
    { endpoint: opts.endpoint, rate: opts.rate, seed, services, pods: pods.length },
    `demo: a shop of ${services.length} services (${pods.length} pods) sends ~${opts.rate} requests/s to ${opts.endpoint}`,
  );
  next();

  return {
    seed,
    services,
    pods: pods.length,
    stats: () => ({ traffic: { ...traffic.stats }, exports: structuredClone(exports) }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(arrival);
      clearInterval(report);
      traffic.flushPending();
      // Bounded: an endpoint that went away must not hold the process's exit for the exporters' retries.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(sdks.map((s) => s.shutdown())),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_MS);
        }),
      ]);
      clearTimeout(timer);
      const s = traffic.stats;
      log.info({ requests: s.requests, failed: s.failed, spans: s.spans, logs: s.logs, exports }, 'demo: stopped');
    },
  };
}
