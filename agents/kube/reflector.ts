/**
 * List + watch of one kind of object, kept current the way client-go's reflector does it:
 *
 * - list (paged, `limit`/`continue`), hand the whole set to `onList`, then watch from the list's
 *   resourceVersion with bookmarks, so the version the reflector holds stays recent even when nothing changes;
 * - every event and bookmark advances the resourceVersion; a watch the server ended (its `timeoutSeconds`) or a
 *   connection that broke resumes from it, after a backoff when it failed: nothing is listed again, so nothing is
 *   seen twice;
 * - a `410 Gone` (the version was compacted away, as an ERROR event or as the watch's status) is the one case
 *   that lists again: `onList` gets the complete current set and the consumer reconciles against what it has.
 *
 * A consumer that persisted a resourceVersion (the events collector) starts with `resumeFrom` and no list; a
 * 410 on that first watch lists as above. Restarts are counted by reason in
 * `crowsnest_agent_kube_watch_restarts_total{resource,reason}`.
 */
import type { Logger } from '#core/log.ts';
import type { Counter } from 'prom-client';
import { KubeApiError, type KubeApi, type Query, type WatchEvent } from './api.ts';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ReflectorOptions<T extends KubeObject> {
  api: KubeApi;
  /** The collection's path, e.g. `/api/v1/pods` or `/apis/events.k8s.io/v1/events`. */
  path: string;
  /** A name for logs and metrics: `pods`, `events`. */
  resource: string;
  fieldSelector?: string | undefined;
  log: Logger;
  restarts: Counter<'resource' | 'reason'>;
  /** The complete current set, after the first list and after every relist (410 Gone). */
  onList(items: T[], resourceVersion: string): void | Promise<void>;
  onEvent(type: WatchType, object: T): void | Promise<void>;
  /** The resourceVersion after each event, bookmark and list: for consumers that persist it. */
  onResourceVersion?(resourceVersion: string): void;
  /** Watch from this resourceVersion first, without listing (a persisted one). */
  resumeFrom?: string | undefined;
  /** Objects per list page. @default 500 */
  pageSize?: number;
  /** Asked of the server per watch; each watch gets this to twice this, so replicas do not reconnect together. @default 300 */
  watchTimeoutSeconds?: number;
  /** First delay after a failure, doubled per consecutive failure up to `maxBackoffMs`, ±20% jitter. @default 500 */
  initialBackoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
}

/** A watch that delivered events or lasted this long was healthy: the next failure starts the backoff anew. */
const HEALTHY_WATCH_MS = 30_000;

export class Reflector<T extends KubeObject> {
  #rv: string | undefined;
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  #synced!: () => void;
  /** Resolves after the first list (or the first watch started from `resumeFrom`). */
  readonly synced: Promise<void> = new Promise((r) => (this.#synced = r));
  #isSynced = false;

  constructor(private readonly o: ReflectorOptions<T>) {
    this.#rv = o.resumeFrom;
  }

  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  get isSynced(): boolean {
    return this.#isSynced;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  #markSynced(): void {
    if (this.#isSynced) return;
    this.#isSynced = true;
    this.#synced();
  }

  #setRv(rv: string | undefined): void {
    if (rv === undefined || rv === '' || rv === this.#rv) return;
    this.#rv = rv;
    this.o.onResourceVersion?.(rv);
  }

  async #list(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.o.api.get<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        this.o.path,
        { fieldSelector: this.o.fieldSelector, limit: this.o.pageSize ?? 500, continue: cont },
        signal,
      );
      for (const item of page.items ?? []) items.push(item);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont !== undefined && !signal.aborted);
    if (signal.aborted) return;
    await this.o.onList(items, rv);
    this.#setRv(rv);
    this.#markSynced();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const log = this.o.log;
    let failures = 0;
    let mustList = this.#rv === undefined;
    while (!signal.aborted) {
      let reason: string | undefined;
      const started = Date.now();
      let delivered = false;
      try {
        if (mustList) {
          await this.#list(signal);
          mustList = false;
        }
        const base = this.o.watchTimeoutSeconds ?? 300;
        const query: Query = {
          fieldSelector: this.o.fieldSelector,
          resourceVersion: this.#rv,
          allowWatchBookmarks: true,
          timeoutSeconds: base + Math.floor(Math.random() * base),
        };
        let gone = false;
        await this.o.api.watch(
          this.o.path,
          query,
          async (event: WatchEvent) => {
            if (event.type === 'ERROR') {
              const status = event.object as { code?: number; reason?: string; message?: string };
              const code = Number(status.code);
              if (code === 410) gone = true;
              throw new KubeApiError(code || 500, status.reason ?? '', `watch ${this.o.path}: ${status.message ?? 'error event'}`);
            }
            const object = event.object as unknown as T;
            if (event.type !== 'BOOKMARK') {
              delivered = true;
              await this.o.onEvent(event.type, object);
            }
            this.#setRv(object.metadata?.resourceVersion);
          },
          signal,
        ).catch((e: unknown) => {
          if (e instanceof KubeApiError && e.status === 410) gone = true;
          if (!gone) throw e;
        });
        this.#markSynced();
        if (gone) {
          reason = 'expired';
          mustList = true;
          log.info({ resource: this.o.resource, resourceVersion: this.#rv }, 'resourceVersion expired (410 Gone): listing again');
        } else reason = 'closed';
      } catch (e) {
        if (signal.aborted) break;
        reason = 'error';
        if (delivered || Date.now() - started > HEALTHY_WATCH_MS) failures = 0;
        failures++;
        const max = this.o.maxBackoffMs ?? 30_000;
        const delay = Math.min(max, (this.o.initialBackoffMs ?? 500) * 2 ** Math.min(failures - 1, 16)) * (0.8 + Math.random() * 0.4);
        log.warn({ resource: this.o.resource, err: (e as Error).message, retryInMs: Math.round(delay) }, 'list/watch failed: retrying');
        this.o.restarts.inc({ resource: this.o.resource, reason });
        await sleep(delay, signal);
        continue;
      }
      if (signal.aborted) break;
      this.o.restarts.inc({ resource: this.o.resource, reason });
      // A watch the server (or something between) closes at once, again and again, must not spin.
      if (!delivered && reason === 'closed' && Date.now() - started < 1000) await sleep(this.o.initialBackoffMs ?? 500, signal);
      else failures = 0;
    }
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
