/**
 * The live tail's hub: one per query process. Viewers (GET /api/v1/logs/tail) subscribe with a compiled predicate
 * (predicate.ts); each new log record the process hears of is matched against every viewer in memory and queued
 * for those it matches. No viewer ever costs a ClickHouse query: 50 tails cost 50 predicate calls per record.
 *
 * Where records come from is a `TailSource` (sources.ts), started when the first viewer arrives and stopped
 * `lingerMs` after the last one left (a page reload does not restart a Kafka consumer):
 *   tap    the process's log tap (#core/log-tap.ts): its writer's inserts (all in one), or its Kafka tap (the
 *          query role apart behind Kafka), decoded once per process
 *   poll   neither: one shared query of the newest rows per process per second, whatever the number of viewers
 *
 * Per viewer, everything is bounded:
 *   queue      at most `bufferRecords` records waiting; beyond, the oldest are dropped and counted, with reason
 *              `slow-reader` when the viewer's connection is backpressured (it does not read) or `overflow` when
 *              records come faster than the viewer's event budget sends them
 *   events     one `records` event per viewer per `flushMs` (4 per second by default), at most
 *              `maxRecordsPerEvent` records and about `maxEventBytes` of JSON; nothing is written while the
 *              connection is backpressured, so a stuck client holds one frame and its socket buffers, no more
 *   dropped    reported to the viewer (`dropped` event: count since the last report, reason) before its next records
 *   viewers    at most `maxViewers`; the route answers 503 + Retry-After beyond
 * plus a `: keepalive` comment to every viewer every `keepaliveMs`, so proxies keep idle streams open.
 *
 * Metrics: crowsnest_tail_viewers, crowsnest_tail_records_sent_total, crowsnest_tail_dropped_total{reason}.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type Predicate, type TailFilters, compilePredicate } from './predicate.ts';
import type { TailRecord } from './record.ts';

export type DropReason = 'slow-reader' | 'overflow';

/** Where a viewer's events go (sse.ts; a plain object in unit tests). */
export interface TailSink {
  readonly ended: boolean;
  /** True while the client is not reading what was written: the hub then writes nothing more. */
  readonly backpressured: boolean;
  event(name: string, data: string): void;
  comment(text: string): void;
  end(): void;
}

/** Records of the process, pushed to the hub; see sources.ts. */
export interface TailSource {
  /** What the `ready` event names as the origin of lines: writer, kafka or poll. */
  readonly name: string;
  start(deliver: (records: readonly TailRecord[]) => void, dropped: (count: number) => void): void;
  /** Resolves once records flow (the Kafka consumer fetches; the first poll ran). */
  live(): Promise<void>;
  stop(): void;
}

export interface TailHubOptions {
  /** @default 100 */
  maxViewers: number;
  /** Records one viewer may have waiting. @default 1000 */
  bufferRecords: number;
  /** @default 500 */
  maxRecordsPerEvent?: number;
  /** A records event stops growing past this many bytes of JSON. @default 1 MiB */
  maxEventBytes?: number;
  /** How often each viewer's waiting records are sent. @default 250 */
  flushMs?: number;
  /** @default 15000 */
  keepaliveMs?: number;
  /** The source keeps running this long after the last viewer left. @default 5000 */
  lingerMs?: number;
  /** Longest wait for the source before `ready` is sent anyway. @default 10000 */
  readyTimeoutMs?: number;
}

interface TailMetrics {
  viewers: Gauge;
  sent: Counter;
  dropped: Counter<'reason'>;
}

function tailMetrics(registry: Registry): TailMetrics {
  // One set per registry: a process (or a test) that builds a second hub on the same registry reuses them.
  const existing = registry.getSingleMetric('crowsnest_tail_viewers');
  if (existing) {
    return {
      viewers: existing as Gauge,
      sent: registry.getSingleMetric('crowsnest_tail_records_sent_total') as Counter,
      dropped: registry.getSingleMetric('crowsnest_tail_dropped_total') as Counter<'reason'>,
    };
  }
  const registers = [registry];
  return {
    viewers: new Gauge({ name: 'crowsnest_tail_viewers', help: 'Live tails (GET /api/v1/logs/tail) open.', registers }),
    sent: new Counter({ name: 'crowsnest_tail_records_sent_total', help: 'Log records sent to live-tail viewers.', registers }),
    dropped: new Counter({
      name: 'crowsnest_tail_dropped_total',
      help: 'Log records a live-tail viewer matched but was not sent: slow-reader (its connection backpressured), overflow (faster than its events), source (the source skipped them).',
      labelNames: ['reason'],
      registers,
    }),
  };
}

export class TailViewer {
  /** Matched records not yet sent, oldest first, at most the hub's `bufferRecords`. */
  queue: TailRecord[] = [];
  readonly dropped: Record<DropReason | 'source', number> = { 'slow-reader': 0, overflow: 0, source: 0 };
  ready = false;

  constructor(
    readonly predicate: Predicate,
    readonly sink: TailSink,
  ) {}
}

export class TailHub {
  readonly #viewers = new Set<TailViewer>();
  readonly #metrics: TailMetrics;
  readonly #opts: Required<TailHubOptions>;
  #running = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly source: TailSource,
    opts: TailHubOptions,
    registry: Registry,
    private readonly log: Logger,
  ) {
    this.#opts = {
      maxRecordsPerEvent: 500,
      maxEventBytes: 1024 * 1024,
      flushMs: 250,
      keepaliveMs: 15_000,
      lingerMs: 5000,
      readyTimeoutMs: 10_000,
      ...opts,
    };
    this.#metrics = tailMetrics(registry);
  }

  get viewers(): number {
    return this.#viewers.size;
  }

  get maxViewers(): number {
    return this.#opts.maxViewers;
  }

  /** Whether another viewer would exceed the cap (the route answers 503 then). */
  get full(): boolean {
    return this.#viewers.size >= this.#opts.maxViewers;
  }

  /** Whether the source runs (between the first viewer and `lingerMs` after the last). */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Adds a viewer; its `ready` event goes out once the source is live. The caller checked `full` in the same
   * turn. The viewer stays until `leave` (the client went away) or `close`.
   */
  join(filters: TailFilters, sink: TailSink): TailViewer {
    if (this.#closed) throw new Error('the tail hub is closed');
    const viewer = new TailViewer(compilePredicate(filters), sink);
    this.#viewers.add(viewer);
    this.#metrics.viewers.set(this.#viewers.size);
    this.#ensureRunning();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, this.#opts.readyTimeoutMs)));
    void Promise.race([this.source.live(), timeout]).then(() => {
      clearTimeout(timer);
      if (!this.#viewers.has(viewer)) return;
      viewer.ready = true;
      sink.event('ready', JSON.stringify({ source: this.source.name }));
    });
    return viewer;
  }

  leave(viewer: TailViewer): void {
    if (!this.#viewers.delete(viewer)) return;
    viewer.queue = [];
    viewer.sink.end();
    this.#metrics.viewers.set(this.#viewers.size);
    if (this.#viewers.size === 0) this.#scheduleStop();
  }

  /** Ends every viewer's stream and stops the source (the process is shutting down). */
  close(): void {
    this.#closed = true;
    for (const v of [...this.#viewers]) this.leave(v);
    this.#stop();
  }

  /** Matches new records against every viewer and queues them; called by the source. */
  deliver(records: readonly TailRecord[]): void {
    if (this.#viewers.size === 0 || records.length === 0) return;
    const { bufferRecords } = this.#opts;
    for (const viewer of this.#viewers) {
      const { predicate, queue } = viewer;
      for (const r of records) if (predicate(r)) queue.push(r);
      const excess = queue.length - bufferRecords;
      if (excess > 0) {
        queue.splice(0, excess);
        this.#drop(viewer, viewer.sink.backpressured ? 'slow-reader' : 'overflow', excess);
      }
    }
  }

  #drop(viewer: TailViewer, reason: DropReason | 'source', count: number): void {
    viewer.dropped[reason] += count;
    this.#metrics.dropped.inc({ reason }, count);
  }

  #ensureRunning(): void {
    if (this.#lingerTimer) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = undefined;
    }
    if (!this.#flushTimer) {
      this.#flushTimer = setInterval(() => this.#flush(), this.#opts.flushMs);
      this.#keepaliveTimer = setInterval(() => this.#keepalive(), this.#opts.keepaliveMs);
    }
    if (this.#running) return;
    this.#running = true;
    this.log.info({ source: this.source.name }, 'live tail source started');
    this.source.start(
      (records) => this.deliver(records),
      // Records the source itself had to skip (a poll past its row limit) may have matched anyone: every viewer is told.
      (count) => {
        for (const v of this.#viewers) this.#drop(v, 'source', count);
      },
    );
  }

  #scheduleStop(): void {
    clearInterval(this.#flushTimer);
    clearInterval(this.#keepaliveTimer);
    this.#flushTimer = this.#keepaliveTimer = undefined;
    if (this.#lingerTimer || !this.#running) return;
    this.#lingerTimer = setTimeout(() => {
      this.#lingerTimer = undefined;
      if (this.#viewers.size === 0) this.#stop();
    }, this.#opts.lingerMs);
    this.#lingerTimer.unref();
  }

  #stop(): void {
    clearInterval(this.#flushTimer);
    clearInterval(this.#keepaliveTimer);
    clearTimeout(this.#lingerTimer);
    this.#flushTimer = this.#keepaliveTimer = this.#lingerTimer = undefined;
    if (!this.#running) return;
    this.#running = false;
    this.source.stop();
    this.log.info({ source: this.source.name }, 'live tail source stopped');
  }

  #keepalive(): void {
    for (const v of this.#viewers) if (!v.sink.backpressured) v.sink.comment('keepalive');
  }

  /** One turn: each ready, reading viewer gets its drop report and one records event. */
  #flush(): void {
    const { maxRecordsPerEvent, maxEventBytes } = this.#opts;
    for (const viewer of this.#viewers) {
      const { sink } = viewer;
      if (sink.ended) {
        this.leave(viewer);
        continue;
      }
      if (!viewer.ready || sink.backpressured) continue;
      for (const reason of ['slow-reader', 'overflow', 'source'] as const) {
        const count = viewer.dropped[reason];
        if (count === 0) continue;
        viewer.dropped[reason] = 0;
        sink.event('dropped', JSON.stringify({ count, reason }));
      }
      if (viewer.queue.length === 0) continue;
      let n = 0;
      let bytes = 0;
      const parts: string[] = [];
      for (const r of viewer.queue) {
        if (n === maxRecordsPerEvent || (n > 0 && bytes + r.json.length > maxEventBytes)) break;
        parts.push(r.json);
        bytes += r.json.length + 1;
        n++;
      }
      viewer.queue.splice(0, n);
      sink.event('records', `{"records":[${parts.join(',')}]}`);
      this.#metrics.sent.inc(n);
    }
  }
}
