/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's leaderelection semantics, so one agent
 * of the DaemonSet (or of a small Deployment) collects the cluster's events:
 *
 * - a candidate tries every `retryPeriodMs` (jittered up to ×2.2, client-go's JitterFactor 1.2): it creates
 *   the Lease if missing, or takes it when the holder is empty (released) or has not renewed for
 *   `leaseDurationMs`. "Not renewed" is judged by the candidate's own clock from when it last saw the record
 *   change, never from the timestamps in it, so clock skew between nodes does not matter;
 * - the leader renews every `retryPeriodMs`; when it has not managed to for `renewDeadlineMs` it stops leading
 *   (the signal given to `onStartedLeading` aborts) before anyone else may take over (`leaseDurationMs` >
 *   `renewDeadlineMs`), and becomes a candidate again;
 * - every write is an update with the resourceVersion it read (optimistic concurrency): of two candidates
 *   only one can win;
 * - `stop()` releases the Lease (empty holder, duration 1 s: the next candidate takes it at once), unless told
 *   not to, which is what a crash looks like: the others wait for it to expire.
 *
 * Holder identity = the pod name. The leader may also write annotations on each renewal (the events collector
 * leaves its checkpoint there for a successor on another node).
 */
import type { Logger } from '#core/log.ts';
import type { Registry } from 'prom-client';
import { KubeApiError, type KubeApi } from '../kube/api.ts';
import { counter, gauge } from '../kube/metrics.ts';
import { sleep } from '../kube/reflector.ts';

export interface LeaseJson {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number | null;
  };
}

export interface LeaderElectorOptions {
  api: KubeApi;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This candidate (the pod name). */
  identity: string;
  log: Logger;
  registry: Registry;
  /** How long a Lease not renewed stays its holder's. @default 15000 */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading. @default 10000 */
  renewDeadlineMs?: number;
  /** Between tries (candidates) and renewals (the leader). @default 2000 */
  retryPeriodMs?: number;
  /** Runs while leading; `signal` aborts when leadership ends (lost or stopped). Awaited before a release. */
  onStartedLeading(signal: AbortSignal): Promise<void>;
  /** Annotations written with every acquire and renewal. */
  annotations?: () => Record<string, string>;
  /** Called whenever a new holder is observed (this candidate included). */
  onNewLeader?(identity: string): void;
}

/** MicroTime: RFC 3339 with microseconds, as the API server wants it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly #o: Required<Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>> & LeaderElectorOptions;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #leading = false;
  #leadership: AbortController | undefined;
  #work: Promise<void> | undefined;
  /** The record last seen, and when (our clock) it last changed. */
  #observedRv: string | undefined;
  #observedAt = 0;
  #observedHolder = '';
  #lease: LeaseJson | undefined;
  #release = true;
  /** Wakes the leader's wait for its next renewal (`renewSoon`). */
  #wake: AbortController | undefined;
  readonly #isLeader;
  readonly #transitions;

  constructor(options: LeaderElectorOptions) {
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    if (this.#o.leaseDurationMs <= this.#o.renewDeadlineMs) throw new Error('leaseDurationMs must be greater than renewDeadlineMs');
    if (this.#o.renewDeadlineMs <= this.#o.retryPeriodMs * 1.2) throw new Error('renewDeadlineMs must be greater than 1.2 × retryPeriodMs');
    this.#isLeader = gauge(options.registry, 'crowsnest_agent_leader', '1 while this agent holds the lease', ['lease']);
    this.#transitions = counter(options.registry, 'crowsnest_agent_leader_transitions_total', 'Times this agent started or stopped leading', ['lease', 'change']);
    this.#isLeader.set({ lease: options.name }, 0);
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder last observed ('' when none). */
  get leader(): string {
    return this.#observedHolder;
  }

  /** The Lease as last read or written. */
  get lease(): LeaseJson | undefined {
    return this.#lease;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /**
   * The leader renews now rather than at the next period, writing the current `annotations()`: the events
   * collector calls it after queueing a batch, so the checkpoint a successor resumes from trails what was queued
   * by one API round trip instead of up to a retry period.
   */
  renewSoon(): void {
    this.#wake?.abort();
  }

  /** Stops leading or trying; releases the Lease unless `release` is false (a crash, for tests). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.#release = options.release ?? true;
    this.#stop.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    const o = this.#o;
    while (!stop.aborted) {
      // Candidate.
      while (!stop.aborted && !(await this.#tryAcquireOrRenew())) {
        await sleep(o.retryPeriodMs * (1 + Math.random() * 1.2), stop);
      }
      if (stop.aborted) break;
      this.#startLeading();
      // Leader: renew until a renewal has failed for renewDeadline, or stop.
      let lastRenew = Date.now();
      while (!stop.aborted) {
        const wake = new AbortController();
        this.#wake = wake;
        await sleep(o.retryPeriodMs, AbortSignal.any([stop, wake.signal]));
        this.#wake = undefined;
        if (stop.aborted) break;
        if (await this.#tryAcquireOrRenew(o.renewDeadlineMs - (Date.now() - lastRenew))) lastRenew = Date.now();
        else if (Date.now() - lastRenew >= o.renewDeadlineMs || !this.#leadingPossible()) {
          o.log.warn({ lease: o.name }, 'could not renew the lease in time: stopped leading');
          break;
        }
      }
      await this.#stopLeading();
    }
    if (this.#release && this.#lease?.spec?.holderIdentity === o.identity) await this.#releaseLease();
  }

  /** False when the lease was observed taken by someone else (a renewal found another holder). */
  #leadingPossible(): boolean {
    return this.#observedHolder === '' || this.#observedHolder === this.#o.identity;
  }

  #startLeading(): void {
    const o = this.#o;
    this.#leading = true;
    this.#leadership = new AbortController();
    this.#isLeader.set({ lease: o.name }, 1);
    this.#transitions.inc({ lease: o.name, change: 'started' });
    o.log.info({ lease: `${o.namespace}/${o.name}`, identity: o.identity }, 'started leading');
    const signal = this.#leadership.signal;
    this.#work = o.onStartedLeading(signal).catch((e: unknown) => {
      o.log.error({ err: e }, 'leader work failed');
    });
  }

  async #stopLeading(): Promise<void> {
    if (!this.#leading) return;
    const o = this.#o;
    this.#leadership?.abort();
    await this.#work;
    this.#leading = false;
    this.#isLeader.set({ lease: o.name }, 0);
    this.#transitions.inc({ lease: o.name, change: 'stopped' });
    o.log.info({ lease: `${o.namespace}/${o.name}`, identity: o.identity }, 'stopped leading');
  }

  #path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#o.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  #observe(lease: LeaseJson): void {
    this.#lease = lease;
    const rv = lease.metadata.resourceVersion;
    if (rv !== this.#observedRv) {
      this.#observedRv = rv;
      this.#observedAt = Date.now();
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      if (holder) this.#o.onNewLeader?.(holder);
    }
  }

  /** One try; true when this candidate holds the lease afterwards. */
  async #tryAcquireOrRenew(timeoutMs = this.#o.renewDeadlineMs): Promise<boolean> {
    const o = this.#o;
    const signal = AbortSignal.timeout(Math.max(500, timeoutMs));
    const now = Date.now();
    const annotations = o.annotations?.() ?? {};
    let current: LeaseJson;
    try {
      current = await o.api.get<LeaseJson>(this.#path(o.name), undefined, signal);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404)) {
        o.log.warn({ lease: o.name, err: (e as Error).message }, 'could not read the lease');
        return false;
      }
      const created: LeaseJson = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: o.name, namespace: o.namespace, annotations },
        spec: { holderIdentity: o.identity, leaseDurationSeconds: Math.ceil(o.leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        this.#observe(await o.api.send<LeaseJson>('POST', this.#path(), created, signal));
        return true;
      } catch (err) {
        o.log.debug({ lease: o.name, err: (err as Error).message }, 'could not create the lease');
        return false;
      }
    }
    this.#observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    // client-go: a held lease is valid until leaseDuration after we saw it change, by our clock.
    const heldByOther = holder !== '' && holder !== o.identity;
    if (heldByOther && this.#observedAt + o.leaseDurationMs > now) return false;
    const mine = holder === o.identity;
    const updated: LeaseJson = {
      ...current,
      metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, ...annotations } },
      spec: {
        ...spec,
        holderIdentity: o.identity,
        leaseDurationSeconds: Math.ceil(o.leaseDurationMs / 1000),
        renewTime: microTime(now),
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      this.#observe(await o.api.send<LeaseJson>('PUT', this.#path(o.name), updated, signal));
      return true;
    } catch (e) {
      // 409: someone else wrote it first; the next read shows who.
      o.log.debug({ lease: o.name, err: (e as Error).message }, 'could not update the lease');
      return false;
    }
  }

  async #releaseLease(): Promise<void> {
    const o = this.#o;
    const lease = this.#lease;
    if (!lease) return;
    const now = Date.now();
    const released: LeaseJson = {
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
    };
    try {
      this.#observe(await o.api.send<LeaseJson>('PUT', this.#path(o.name), released, AbortSignal.timeout(5000)));
      o.log.info({ lease: `${o.namespace}/${o.name}` }, 'released the lease');
    } catch (e) {
      o.log.warn({ lease: o.name, err: (e as Error).message }, 'could not release the lease (it expires on its own)');
    }
  }
}
