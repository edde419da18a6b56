/**
 * The agent's Prometheus scraper: discovers targets (static, this node's annotated pods, the kubelet), scrapes
 * each on its own interval, converts the result to OTLP and puts it in the `DurableQueue` (scrapes cannot be read
 * again, so they wait on disk while the gateway is down).
 *
 * - Each target starts at a stable offset within the interval (a hash of its key, as Prometheus spreads its
 *   targets), then keeps that phase, so a thousand targets do not fire together.
 * - At most `concurrency` scrapes run at once; a scrape that cannot start before its next tick is skipped and
 *   counted rather than piling up.
 * - Per target, every scrape emits `up`, `scrape_duration_seconds` and `scrape_samples_scraped` (also when it
 *   failed, with `up` 0): the target's health is data, as in Prometheus.
 * - A malformed exposition fails the scrape whole (`up` 0), logged with the line, counted under result
 *   `parse_error`.
 * - What the queue refuses (full) is counted in `crowsnest_agent_metrics_lost_points_total`.
 */
import { readFile } from 'node:fs/promises';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '#core/log.ts';
import { type DurableQueue, type PodDirectory, QueueFullError } from '../core/contracts.ts';
import { type OtlpResourceMetrics, encodeMetricsRequest, splitByPoints } from './otlp-encode.ts';
import { AGENT_SCOPE, SeriesTracker, scrapeHealth, targetResource, toOtlp } from './otlp.ts';
import { ExpositionError, formatOf, parseExposition } from './parse.ts';
import { ScrapeError, closeScrapeAgents, scrapeHttp } from './scrape-http.ts';
import { type KubeletOptions, type ScrapeTarget, kubeletTargets, podTargets, staticTarget } from './scrape-targets.ts';

export interface MetricsSourceOptions {
  queue: DurableQueue;
  log: Logger;
  registry: Registry;
  /** `--scrape` values: `url` or `job=url`, repeatable. */
  staticTargets?: readonly string[];
  /** This node's pods (agent-kube); annotated pods become targets. */
  pods?: PodDirectory | undefined;
  /** The node's kubelet, for `/metrics/resource` and `/metrics/cadvisor`. */
  kubelet?: KubeletOptions | undefined;
  /** Resource attributes added to static targets (the node name in Kubernetes, the host name in host mode). */
  nodeResource?: Record<string, string>;
  /** @default 30000 */
  intervalMs?: number;
  /** @default 10000 (capped at the interval) */
  timeoutMs?: number;
  /** Largest decompressed scrape body. @default 64 MiB */
  maxBodyBytes?: number;
  /** A scrape with more samples fails (Prometheus's sample_limit). @default 500000 */
  sampleLimit?: number;
  /** Scrapes in flight at once. @default 8 */
  concurrency?: number;
  /** Data points per queued request. @default 5000 */
  maxPointsPerBatch?: number;
  /** Clock (tests). */
  now?: () => number;
}

type Result = 'ok' | 'parse_error' | 'timeout' | 'http_status' | 'too_large' | 'connect' | 'encoding' | 'error';

interface ScrapeMetrics {
  targets: Gauge<'source'>;
  scrapes: Counter<'source' | 'result'>;
  skipped: Counter<'source'>;
  duration: Histogram<'source'>;
  samples: Counter<'source'>;
  dropped: Counter<'reason'>;
  lost: Counter<'reason'>;
  series: Gauge;
}

function createMetrics(registry: Registry): ScrapeMetrics {
  const registers = [registry];
  return {
    targets: new Gauge({ name: 'crowsnest_agent_scrape_targets', help: 'Scrape targets, by source (static, pod, kubelet).', labelNames: ['source'], registers }),
    scrapes: new Counter({
      name: 'crowsnest_agent_scrapes_total',
      help: 'Scrapes by source and result (ok, parse_error, timeout, http_status, too_large, connect, encoding, error).',
      labelNames: ['source', 'result'],
      registers,
    }),
    skipped: new Counter({ name: 'crowsnest_agent_scrapes_skipped_total', help: 'Scrapes skipped because the previous one of the target, or the concurrency limit, held them past their next tick.', labelNames: ['source'], registers }),
    duration: new Histogram({ name: 'crowsnest_agent_scrape_duration_seconds', help: 'Scrape duration (fetch, parse, convert, queue).', labelNames: ['source'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
    samples: new Counter({ name: 'crowsnest_agent_scrape_samples_total', help: 'Samples read from targets.', labelNames: ['source'], registers }),
    dropped: new Counter({
      name: 'crowsnest_agent_scrape_points_dropped_total',
      help: 'Points not converted, by reason: gaugehistogram (OTLP has no such type), no_count (a histogram or summary without _count), bad_buckets, series_limit.',
      labelNames: ['reason'],
      registers,
    }),
    lost: new Counter({ name: 'crowsnest_agent_metrics_lost_points_total', help: 'Converted data points lost because the on-disk queue refused them (queue_full) or failed (queue_error).', labelNames: ['reason'], registers }),
    series: new Gauge({ name: 'crowsnest_agent_scrape_series', help: 'Cumulative series whose start time the agent tracks.', registers }),
  };
}

interface Running {
  target: ScrapeTarget;
  tracker: SeriesTracker;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  stopped: boolean;
}

/** FNV-1a of a string, for a target's stable phase in the interval. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class MetricsSource {
  readonly #o: Required<Pick<MetricsSourceOptions, 'intervalMs' | 'timeoutMs' | 'maxBodyBytes' | 'sampleLimit' | 'concurrency' | 'maxPointsPerBatch'>> & MetricsSourceOptions;
  readonly #log: Logger;
  readonly #m: ScrapeMetrics;
  readonly #now: () => number;
  readonly #running = new Map<string, Running>();
  readonly #static: ScrapeTarget[];
  #slots: number;
  readonly #waiting: (() => void)[] = [];
  #unsubscribe: (() => void) | undefined;
  #started = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(opts: MetricsSourceOptions) {
    const intervalMs = opts.intervalMs ?? 30_000;
    this.#o = {
      ...opts,
      intervalMs,
      timeoutMs: Math.min(opts.timeoutMs ?? 10_000, intervalMs),
      maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024 * 1024,
      sampleLimit: opts.sampleLimit ?? 500_000,
      concurrency: opts.concurrency ?? 8,
      maxPointsPerBatch: opts.maxPointsPerBatch ?? 5000,
    };
    this.#log = opts.log;
    this.#m = createMetrics(opts.registry);
    this.#now = opts.now ?? Date.now;
    this.#slots = this.#o.concurrency;
    // Parsed now, so a bad --scrape value fails at startup with its reason.
    this.#static = (opts.staticTargets ?? []).map((s) => staticTarget(s, opts.nodeResource));
  }

  /** The targets scraped now. */
  targets(): ScrapeTarget[] {
    return [...this.#running.values()].map((r) => r.target);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#o.pods) this.#unsubscribe = this.#o.pods.onChange(() => this.#sync());
    this.#sync();
  }

  /** Stops every loop and waits for scrapes in flight to finish queueing. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#unsubscribe?.();
    for (const r of this.#running.values()) this.#stopTarget(r);
    this.#running.clear();
    await Promise.allSettled([...this.#inFlight]);
    closeScrapeAgents();
  }

  /** Scrapes one target now (tests, and the loop's tick). */
  async scrapeOnce(target: ScrapeTarget, tracker: SeriesTracker = new SeriesTracker()): Promise<void> {
    const o = this.#o;
    const started = this.#now();
    const t0 = performance.now();
    let result: Result = 'ok';
    let samples = 0;
    let rm: OtlpResourceMetrics;
    try {
      const token = target.bearerTokenFile ? (await readFile(target.bearerTokenFile, 'utf8')).trim() : undefined;
      const interval = target.intervalMs ?? o.intervalMs;
      const timeoutMs = Math.min(target.timeoutMs ?? o.timeoutMs, interval);
      const res = await scrapeHttp({ url: target.url, timeoutMs, maxBodyBytes: o.maxBodyBytes, bearerToken: token, ca: target.ca, insecureSkipVerify: target.insecureSkipVerify });
      const exposition = parseExposition(res.body, formatOf(res.contentType), { sampleLimit: o.sampleLimit });
      samples = exposition.samples;
      tracker.begin();
      const { resourceMetrics, stats } = toOtlp(exposition, target, started, tracker);
      tracker.end();
      for (const [reason, n] of Object.entries(stats.dropped)) if (n > 0) this.#m.dropped.inc({ reason }, n);
      rm = resourceMetrics;
    } catch (e) {
      result = e instanceof ExpositionError ? 'parse_error' : e instanceof ScrapeError ? e.kind : 'error';
      this.#log.warn({ target: target.url.href, job: target.job, result, err: e instanceof Error ? e.message : String(e) }, 'scrape failed');
      rm = { resource: Object.entries(targetResource(target)), scopes: [] };
    }
    const seconds = (performance.now() - t0) / 1000;
    let scope = rm.scopes.find((s) => s.name === AGENT_SCOPE && s.version === '');
    if (!scope) {
      scope = { name: AGENT_SCOPE, version: '', metrics: [] };
      rm.scopes.push(scope);
    }
    scope.metrics.push(...scrapeHealth(started, result === 'ok', seconds, samples));
    this.#m.scrapes.inc({ source: target.source, result });
    this.#m.samples.inc({ source: target.source }, samples);
    this.#m.duration.observe({ source: target.source }, seconds);
    await this.#enqueue(rm);
  }

  async #enqueue(rm: OtlpResourceMetrics): Promise<void> {
    for (const part of splitByPoints(rm, this.#o.maxPointsPerBatch)) {
      try {
        await this.#o.queue.enqueue({ signal: 'metrics', body: encodeMetricsRequest([part.resources]), items: part.points });
      } catch (e) {
        const full = e instanceof QueueFullError;
        this.#m.lost.inc({ reason: full ? 'queue_full' : 'queue_error' }, part.points);
        if (!full) this.#log.error({ err: e }, 'could not queue scraped metrics');
      }
    }
  }

  #sync(): void {
    if (!this.#started) return;
    const want = new Map<string, ScrapeTarget>();
    for (const t of this.#static) want.set(t.key, t);
    if (this.#o.kubelet) for (const t of kubeletTargets(this.#o.kubelet)) want.set(t.key, t);
    if (this.#o.pods) {
      const { targets, problems } = podTargets(this.#o.pods.list());
      for (const t of targets) want.set(t.key, t);
      for (const p of problems) this.#log.debug(p, 'pod asks to be scraped but cannot be');
    }
    for (const [key, r] of this.#running) {
      if (!want.has(key)) {
        this.#stopTarget(r);
        this.#running.delete(key);
      }
    }
    for (const [key, target] of want) {
      const r = this.#running.get(key);
      if (r) r.target = target; // resource attributes may have changed (owner resolved later)
      else this.#startTarget(target);
    }
    const bySource = { static: 0, pod: 0, kubelet: 0 };
    for (const r of this.#running.values()) bySource[r.target.source]++;
    for (const [source, n] of Object.entries(bySource)) this.#m.targets.set({ source }, n);
  }

  #startTarget(target: ScrapeTarget): void {
    const interval = target.intervalMs ?? this.#o.intervalMs;
    const r: Running = { target, tracker: new SeriesTracker(), timer: undefined, busy: false, stopped: false };
    this.#running.set(target.key, r);
    const offset = hash(target.key) % interval;
    const now = this.#now();
    // The first tick at the target's phase in the current interval (or the next); each tick arms the following one.
    let due = Math.floor(now / interval) * interval + offset;
    if (due < now) due += interval;
    const tick = () => {
      if (r.stopped) return;
      due += interval;
      const at = this.#now();
      if (due <= at) due += Math.ceil((at - due + 1) / interval) * interval; // the process was suspended: skip missed ticks
      r.timer = setTimeout(tick, due - at);
      if (r.busy) {
        this.#m.skipped.inc({ source: r.target.source });
        return;
      }
      r.busy = true;
      const p = this.#withSlot(due, () => this.scrapeOnce(r.target, r.tracker))
        .catch((e: unknown) => this.#log.error({ err: e, target: r.target.url.href }, 'scrape loop failed'))
        .finally(() => {
          r.busy = false;
          this.#m.series.set([...this.#running.values()].reduce((n, x) => n + x.tracker.size, 0));
          this.#inFlight.delete(p);
        });
      this.#inFlight.add(p);
    };
    r.timer = setTimeout(tick, due - now);
  }

  #stopTarget(r: Running): void {
    r.stopped = true;
    clearTimeout(r.timer);
  }

  /** Runs `fn` when a concurrency slot is free; gives up (counted) if none frees before `deadline`. */
  async #withSlot(deadline: number, fn: () => Promise<void>): Promise<void> {
    if (this.#slots === 0) {
      const got = await new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(t);
          resolve(true);
        };
        const t = setTimeout(
          () => {
            const i = this.#waiting.indexOf(wake);
            if (i >= 0) this.#waiting.splice(i, 1);
            resolve(false);
          },
          Math.max(0, deadline - this.#now()),
        );
        this.#waiting.push(wake);
      });
      if (!got) {
        this.#m.skipped.inc({ source: 'any' });
        return;
      }
    } else this.#slots--;
    try {
      await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#slots++;
    }
  }
}

/** The factory the agent role composes (agents/core/contracts.ts sources take what they need). */
export function createMetricsSource(opts: MetricsSourceOptions): MetricsSource {
  return new MetricsSource(opts);
}
