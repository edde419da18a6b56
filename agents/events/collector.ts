/**
 * The Kubernetes events source: one agent of the cluster (leader.ts: a Lease) lists and watches
 * `events.k8s.io/v1` Events and stores each occurrence update as an OTLP log record (event-record.ts), through
 * the `DurableQueue` (events cannot be read again once they expire, so they are queued on disk, not re-read).
 *
 * Never twice, never lost:
 * - a record is built only when the event's occurrence key (count, last time) differs from the last one stored
 *   for its uid, so a watch resumed after a break, a relist after 410 Gone and a restart skip what was stored;
 * - events are batched (`batchMaxEvents`, `batchMaxAgeMs`); a batch is enqueued (retried while the queue is
 *   full: the watch waits meanwhile, and the API server keeps the events) *with the state it advances to* (its
 *   keys and the resourceVersion up to which everything is stored: a queue commit, state.ts), so the batch and
 *   that state are durable in one write. The state file under the data dir is written after; at leadership the
 *   newer of the file and the queue's last commit wins. A crash before the enqueue re-reads those events from the
 *   older resourceVersion (or relists) and the keys decide again; a crash after it finds the keys in the commit;
 * - the leader also leaves its resourceVersion in the Lease's annotations at each renewal (and right after each
 *   batch is queued), so a successor on another node (another data dir) resumes from it instead of storing the
 *   last hour of events again;
 * - a successor has no occurrence keys of its own, so when it must relist (its resume point expired: 410 Gone)
 *   it also skips every event whose own resourceVersion is not past the checkpoint: that update was stored. This
 *   compares resourceVersions as numbers, which Kubernetes calls opaque but every etcd-backed API server issues
 *   as etcd's increasing revision; one that is not a decimal number turns the comparison off.
 *
 * The involved object's workload comes from owner references (the pod directory's OwnerResolver, cached):
 * a pod's event carries `k8s.deployment.name` like the pod's own logs do.
 */
import type { Logger } from '#core/log.ts';
import { toProtobuf } from '#otlp/to-protobuf.ts';
import type { Registry } from 'prom-client';
import type { CommittingQueue } from '../queue/disk-queue.ts';
import type { KubeApi } from '../kube/api.ts';
import { counter, watchRestarts } from '../kube/metrics.ts';
import { OwnerResolver, WORKLOAD_KINDS } from '../kube/owners.ts';
import { Reflector, sleep, type WatchType } from '../kube/reflector.ts';
import { type EventJson, eventResource, logsRequest, occurrenceKey, toLogRecord, type LogRecordJson } from './event-record.ts';
import { LeaderElector } from './leader.ts';
import { COMMIT_STREAM, type EventsState, applyCommit, decodeCommit, encodeCommit, loadState, remember, saveState } from './state.ts';

export const CHECKPOINT_RV = 'crowsnest.io/events-resource-version';
export const CHECKPOINT_TIME = 'crowsnest.io/events-checkpoint-time';

export interface EventsCollectorOptions {
  api: KubeApi;
  /** The agent's on-disk queue: batches go in with the state they advance to (a commit). */
  queue: CommittingQueue;
  registry: Registry;
  log: Logger;
  /** Where the state file goes (the agent's data dir, or a folder in it). */
  dataDir: string;
  /** This agent's pod name: the Lease holder identity. */
  identity: string;
  /** The Lease's namespace (the agent's own). */
  leaseNamespace: string;
  /** @default 'crowsnest-agent-events' */
  leaseName?: string;
  /** Shared with the pod directory when both run; made here otherwise. */
  owners?: OwnerResolver;
  /** Leader election timings (client-go's defaults: 15 s, 10 s, 2 s). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** @default 500 */
  batchMaxEvents?: number;
  /** @default 1000 */
  batchMaxAgeMs?: number;
  /** Events whose last stored occurrence is remembered. @default 20000 */
  maxTracked?: number;
  /** Added as `k8s.cluster.name` when set. */
  clusterName?: string | undefined;
  /** The agent's version, in the records' scope. @default '' */
  version?: string;
  watchTimeoutSeconds?: number;
  initialBackoffMs?: number;
  /**
   * Called once a batch (and its commit) is durable in the queue, before the state file is written: the point a
   * crash test kills the process at (test/e2e/agent-events-crash.int.test.ts). Not for anything else.
   */
  onBatchQueued?: (events: number) => void | Promise<void>;
}

interface Pending {
  event: EventJson;
  uid: string;
  key: string;
}

export class EventsCollector {
  readonly elector: LeaderElector;
  readonly owners: OwnerResolver;
  #state: EventsState | undefined;
  #pending: Pending[] = [];
  #pendingKeys = new Map<string, string>();
  #latestRv: string | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #leading: AbortSignal | undefined;
  /** The resourceVersion up to which everything was stored when leadership began (numeric; see the header). */
  #storedThrough: bigint | undefined;
  /** Occurrence keys stored since the state file was last written: each commit carries them. */
  readonly #unsaved = new Map<string, string>();
  readonly #events;
  readonly #retries;

  constructor(private readonly o: EventsCollectorOptions) {
    this.owners = o.owners ?? new OwnerResolver({ api: o.api, registry: o.registry, log: o.log });
    this.#events = counter(o.registry, 'crowsnest_agent_k8s_events_total', 'Kubernetes event updates seen by the leader: stored, or skipped as already stored', ['result']);
    this.#retries = counter(o.registry, 'crowsnest_agent_k8s_events_enqueue_retries_total', 'Event batches enqueued again after the durable queue refused them (full or failing)');
    this.elector = new LeaderElector({
      api: o.api,
      namespace: o.leaseNamespace,
      name: o.leaseName ?? 'crowsnest-agent-events',
      identity: o.identity,
      log: o.log,
      registry: o.registry,
      ...(o.leaseDurationMs !== undefined ? { leaseDurationMs: o.leaseDurationMs } : {}),
      ...(o.renewDeadlineMs !== undefined ? { renewDeadlineMs: o.renewDeadlineMs } : {}),
      ...(o.retryPeriodMs !== undefined ? { retryPeriodMs: o.retryPeriodMs } : {}),
      // Only a leader with its state loaded writes the checkpoint: a candidate must not overwrite its predecessor's.
      annotations: () => (this.#state && this.#leading && !this.#leading.aborted && this.#state.resourceVersion
        ? { [CHECKPOINT_RV]: this.#state.resourceVersion, [CHECKPOINT_TIME]: String(this.#state.savedAt) }
        : {}),
      onStartedLeading: (signal) => this.#lead(signal),
    });
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  start(): void {
    this.elector.start();
  }

  /** Stops collecting (what was read is flushed first) and releases the Lease unless `release` is false. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    await this.elector.stop(options);
  }

  async #lead(signal: AbortSignal): Promise<void> {
    const o = this.o;
    const state = loadState(o.dataDir);
    // The queue may hold a newer state than the file: a crash came between a batch's enqueue and the file's write.
    const committed = o.queue.lastCommit(COMMIT_STREAM);
    const commit = committed && decodeCommit(committed);
    this.#unsaved.clear();
    if (applyCommit(state, commit, o.maxTracked ?? 20_000)) {
      for (const [uid, key] of commit!.seen) this.#unsaved.set(uid, key);
      o.log.info({ seq: state.seq, keys: commit!.seen.length }, 'events state taken from the on-disk queue (newer than the state file)');
      await this.#save(state);
    }
    const annotations = this.elector.lease?.metadata.annotations ?? {};
    const leaseRv = annotations[CHECKPOINT_RV];
    const leaseAt = Number(annotations[CHECKPOINT_TIME] ?? 0);
    // The newer checkpoint wins: ours, or the one a predecessor on another node left in the Lease.
    if (leaseRv && (!state.resourceVersion || leaseAt > state.savedAt)) {
      state.resourceVersion = leaseRv;
      state.savedAt = leaseAt;
    }
    this.#state = state;
    this.#storedThrough = numericRv(state.resourceVersion);
    this.#leading = signal;
    this.#latestRv = state.resourceVersion;
    this.#pending = [];
    this.#pendingKeys.clear();
    o.log.info({ resumeFrom: state.resourceVersion ?? '(list)', tracked: state.seen.size }, 'collecting Kubernetes events');
    const reflector = new Reflector<EventJson>({
      api: o.api,
      path: '/apis/events.k8s.io/v1/events',
      resource: 'events',
      log: o.log,
      restarts: watchRestarts(o.registry),
      resumeFrom: state.resourceVersion,
      onList: async (items) => {
        for (const e of items) await this.#consider(e);
      },
      onEvent: async (type: WatchType, e: EventJson) => {
        if (type === 'DELETED') {
          // Expired (the API server's event TTL): it cannot be updated any more.
          if (e.metadata?.uid) state.seen.delete(e.metadata.uid);
          return;
        }
        await this.#consider(e);
      },
      onResourceVersion: (rv) => (this.#latestRv = rv),
      ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
      ...(o.initialBackoffMs !== undefined ? { initialBackoffMs: o.initialBackoffMs } : {}),
    });
    reflector.start();
    const maxAge = o.batchMaxAgeMs ?? 1000;
    const flush = () => this.#flush().catch((e: unknown) => o.log.error({ err: e }, 'could not send a batch of events'));
    while (!signal.aborted) {
      await sleep(maxAge, signal);
      await flush();
    }
    await reflector.stop();
    await flush();
    this.#leading = undefined;
  }

  async #consider(e: EventJson): Promise<void> {
    const uid = e.metadata?.uid;
    if (!uid || !this.#state) return;
    const key = occurrenceKey(e);
    const rv = numericRv(e.metadata?.resourceVersion);
    const storedBefore = this.#storedThrough !== undefined && rv !== undefined && rv <= this.#storedThrough;
    if (storedBefore || this.#state.seen.get(uid) === key || this.#pendingKeys.get(uid) === key) {
      this.#events.inc({ result: 'duplicate' });
      return;
    }
    this.#pending.push({ event: e, uid, key });
    this.#pendingKeys.set(uid, key);
    if (this.#pending.length >= (this.o.batchMaxEvents ?? 500)) await this.#flush();
  }

  /** Sends what is pending, one flush at a time. */
  #flush(): Promise<void> {
    // A failed flush (its caller sees the error) must not stop the ones after it.
    const next = this.#flushing.catch(() => undefined).then(() => this.#flushNow());
    this.#flushing = next;
    return next;
  }

  async #flushNow(): Promise<void> {
    const state = this.#state;
    if (!state) return;
    const batch = this.#pending;
    const rv = this.#latestRv;
    if (batch.length === 0) {
      // Bookmarks moved the resourceVersion on: keep the checkpoint recent, so a restart does not hit 410.
      if (rv !== undefined && rv !== state.resourceVersion) {
        state.resourceVersion = rv;
        state.seq++;
        state.savedAt = Date.now();
        await this.#save(state);
      }
      return;
    }
    this.#pending = [];
    const observed = (BigInt(Date.now()) * 1_000_000n).toString();
    const records: { resource: Record<string, string>; record: LogRecordJson }[] = [];
    for (const p of batch) records.push({ resource: await this.#resource(p.event), record: toLogRecord(p.event, observed) });
    const body = toProtobuf('logs', JSON.stringify(logsRequest(records, this.o.version ?? '')));
    // The state this batch advances to, committed with it: every key not yet in the state file, and the rv.
    const savedAt = Date.now();
    const seq = state.seq + 1;
    const seen = new Map(this.#unsaved);
    for (const p of batch) {
      seen.delete(p.uid);
      seen.set(p.uid, p.key);
    }
    const commit = encodeCommit({ seq, resourceVersion: rv ?? state.resourceVersion, savedAt, seen: [...seen] });
    let failures = 0;
    for (;;) {
      try {
        await this.o.queue.enqueue({ signal: 'logs', body, items: batch.length }, { stream: COMMIT_STREAM, data: commit });
        break;
      } catch (e) {
        this.#retries.inc();
        failures++;
        this.o.log.warn({ events: batch.length, err: (e as Error).message }, 'the durable queue refused a batch of events: retrying');
        // Leadership lost: leave these to the next leader (they are not checkpointed, so it reads them again).
        if (!this.#leading || this.#leading.aborted) {
          for (const p of batch) if (this.#pendingKeys.get(p.uid) === p.key) this.#pendingKeys.delete(p.uid);
          return;
        }
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)), this.#leading);
      }
    }
    const max = this.o.maxTracked ?? 20_000;
    for (const p of batch) {
      remember(state, p.uid, p.key, max);
      this.#unsaved.delete(p.uid);
      this.#unsaved.set(p.uid, p.key);
      if (this.#pendingKeys.get(p.uid) === p.key) this.#pendingKeys.delete(p.uid);
    }
    // Bounded like the state: older keys than these were dropped from it too.
    while (this.#unsaved.size > max) this.#unsaved.delete(this.#unsaved.keys().next().value as string);
    this.#events.inc({ result: 'stored' }, batch.length);
    if (rv !== undefined) state.resourceVersion = rv;
    state.seq = seq;
    state.savedAt = savedAt;
    await this.o.onBatchQueued?.(batch.length);
    await this.#save(state);
    // A successor on another node resumes from the Lease's checkpoint: bring it up to this batch now.
    this.elector.renewSoon();
  }

  async #save(state: EventsState): Promise<void> {
    try {
      await saveState(this.o.dataDir, state);
      this.#unsaved.clear();
    } catch (e) {
      this.o.log.error({ err: (e as Error).message, dir: this.o.dataDir }, 'could not write the events checkpoint');
    }
  }

  async #resource(e: EventJson): Promise<Record<string, string>> {
    const out = eventResource(e);
    if (this.o.clusterName) out['k8s.cluster.name'] = this.o.clusterName;
    const r = e.regarding;
    const ns = r?.namespace;
    if (!r?.kind || !r.name || !ns) return out;
    try {
      if (r.kind === 'Pod') {
        const owners = await this.owners.ownersOf('Pod', ns, r.name);
        Object.assign(out, (await this.owners.workload(ns, owners)).attributes);
      } else if (WORKLOAD_KINDS[r.kind]) {
        Object.assign(out, (await this.owners.workload(ns, [{ kind: r.kind, name: r.name, uid: r.uid ?? '', controller: true }])).attributes);
      }
    } catch {
      // The workload is left out; the event is stored all the same.
    }
    return out;
  }
}

/** A resourceVersion as a number, when it is one. */
function numericRv(rv: string | undefined): bigint | undefined {
  return rv !== undefined && /^\d{1,30}$/.test(rv) ? BigInt(rv) : undefined;
}

export function createEventsCollector(options: EventsCollectorOptions): EventsCollector {
  return new EventsCollector(options);
}
