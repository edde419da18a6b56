/**
 * This node's pods (`PodDirectory` of agents/core/contracts.ts), kept current by a list + watch with the field
 * selector `spec.nodeName=<node>`: the API server sends each agent only its own node's pods, so the cost per
 * agent does not grow with the cluster. The reflector (reflector.ts) keeps the resourceVersion, resumes a broken
 * watch from it with a backoff and lists again only on 410 Gone.
 *
 * Each pod's resource attributes include its workload, found lazily through owner references (owners.ts). A
 * pod is in the directory as soon as it is seen; its workload attributes follow once the owner lookups answer
 * (a listener is told both times). The first list waits for them, so `synced` means complete metadata. An
 * update that leaves the owner references unchanged reuses what was found; a failed lookup is tried again.
 *
 * Bounded: at most `maxPods` pods (a node runs ~110 by default; extras are counted in
 * `crowsnest_agent_pods_dropped_total`), labels only from the allow-list, and kubectl's
 * last-applied-configuration annotation is not kept.
 *
 * `byIp` answers only for pods whose IPs are their own: not host-network pods (they share the node's IP) and not
 * finished ones (their IP may already belong to a new pod); when two pods claim an IP, the newest wins.
 */
import type { Logger } from '#core/log.ts';
import type { Registry } from 'prom-client';
import type { PodDirectory, PodInfo } from '../core/contracts.ts';
import type { KubeApi } from './api.ts';
import { counter, gauge, watchRestarts } from './metrics.ts';
import { OwnerResolver } from './owners.ts';
import { type PodJson, labelMatcher, ownerKey, ownsIps, podIps, toPodInfo } from './pod-info.ts';
import { Reflector, type WatchType } from './reflector.ts';

export interface PodDirectoryOptions {
  api: KubeApi;
  /** This node (the downward API's `spec.nodeName`). */
  nodeName: string;
  registry: Registry;
  log: Logger;
  /** Pod labels to add as `k8s.pod.label.<key>`: exact keys or prefixes ending in `*`. @default [] */
  podLabels?: readonly string[];
  /** Shared with other components (the events collector); made here when absent. */
  owners?: OwnerResolver;
  /** @default 1024 */
  maxPods?: number;
  /** Delay before a failed owner lookup is tried again. @default 10000 */
  ownerRetryMs?: number;
  /** Passed to the reflector (tests shorten them). */
  watchTimeoutSeconds?: number;
  initialBackoffMs?: number;
}

interface Entry {
  pod: PodJson;
  info: PodInfo;
  ownerKey: string;
  /** Workload attributes found for `ownerKey`; undefined until the lookup answered. */
  workload: Record<string, string> | undefined;
  ownsIps: boolean;
  created: string;
}

export class KubePodDirectory implements PodDirectory {
  readonly owners: OwnerResolver;
  readonly #pods = new Map<string, Entry>();
  readonly #byIp = new Map<string, Set<string>>();
  readonly #listeners = new Set<() => void>();
  readonly #reflector: Reflector<PodJson>;
  readonly #labelAllowed: (key: string) => boolean;
  readonly #dropped;
  readonly #gauge;
  readonly #retries = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(private readonly o: PodDirectoryOptions) {
    if (!o.nodeName) throw new Error('the pod directory needs this node\'s name (spec.nodeName through the downward API)');
    this.owners = o.owners ?? new OwnerResolver({ api: o.api, registry: o.registry, log: o.log });
    this.#labelAllowed = labelMatcher(o.podLabels ?? []);
    this.#dropped = counter(o.registry, 'crowsnest_agent_pods_dropped_total', 'Pods of this node not tracked because the directory was full (maxPods)');
    this.#gauge = gauge(o.registry, 'crowsnest_agent_pods', 'Pods of this node in the pod directory');
    this.#reflector = new Reflector<PodJson>({
      api: o.api,
      path: '/api/v1/pods',
      resource: 'pods',
      fieldSelector: `spec.nodeName=${o.nodeName}`,
      log: o.log,
      restarts: watchRestarts(o.registry),
      onList: (items) => this.#replaceAll(items),
      onEvent: (type, pod) => this.#apply(type, pod),
      ...(o.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: o.watchTimeoutSeconds } : {}),
      ...(o.initialBackoffMs !== undefined ? { initialBackoffMs: o.initialBackoffMs } : {}),
    });
  }

  /** Resolves once the first list is in, with every pod's workload looked up. */
  get synced(): Promise<void> {
    return this.#reflector.synced;
  }

  get isSynced(): boolean {
    return this.#reflector.isSynced;
  }

  start(): void {
    this.#reflector.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#retries) clearTimeout(t);
    this.#retries.clear();
    await this.#reflector.stop();
  }

  byUid(uid: string): PodInfo | undefined {
    return this.#pods.get(uid)?.info;
  }

  byIp(ip: string): PodInfo | undefined {
    const uids = this.#byIp.get(ip);
    if (!uids) return undefined;
    let best: Entry | undefined;
    for (const uid of uids) {
      const e = this.#pods.get(uid);
      if (e && (!best || e.created > best.created)) best = e;
    }
    return best?.info;
  }

  list(): PodInfo[] {
    return [...this.#pods.values()].map((e) => e.info);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    this.#gauge.set(this.#pods.size);
    for (const l of this.#listeners) {
      try {
        l();
      } catch (e) {
        this.o.log.error({ err: e }, 'pod directory listener failed');
      }
    }
  }

  async #replaceAll(items: PodJson[]): Promise<void> {
    const seen = new Set<string>();
    const pending: Promise<void>[] = [];
    for (const pod of items) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      seen.add(uid);
      const p = this.#upsert(pod, false);
      if (p) pending.push(p);
    }
    for (const uid of [...this.#pods.keys()]) if (!seen.has(uid)) this.#remove(uid);
    this.#notify();
    await Promise.all(pending);
  }

  #apply(type: WatchType, pod: PodJson): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    if (type === 'DELETED') this.#remove(uid);
    else void this.#upsert(pod, false);
    this.#notify();
  }

  /** Puts the pod in; returns the owner lookup when one was started. */
  #upsert(pod: PodJson, notify: boolean): Promise<void> | undefined {
    const uid = pod.metadata!.uid!;
    const previous = this.#pods.get(uid);
    if (!previous && this.#pods.size >= (this.o.maxPods ?? 1024)) {
      this.#dropped.inc();
      return undefined;
    }
    const key = ownerKey(pod);
    const workload = previous && previous.ownerKey === key ? previous.workload : undefined;
    const entry: Entry = {
      pod,
      info: toPodInfo(pod, workload ?? {}, this.#labelAllowed),
      ownerKey: key,
      workload,
      ownsIps: ownsIps(pod),
      created: pod.metadata?.creationTimestamp ?? '',
    };
    if (previous) this.#unindex(uid, previous);
    this.#pods.set(uid, entry);
    if (entry.ownsIps) for (const ip of entry.info.ips) this.#index(ip, uid);
    if (notify) this.#notify();
    return workload === undefined ? this.#resolve(uid, key) : undefined;
  }

  async #resolve(uid: string, key: string): Promise<void> {
    const entry = this.#pods.get(uid);
    if (!entry) return;
    const { attributes, complete } = await this.owners.workload(entry.pod.metadata?.namespace ?? '', entry.pod.metadata?.ownerReferences);
    const now = this.#pods.get(uid);
    // The pod was deleted or its owners changed meanwhile: this answer is stale.
    if (this.#stopped || !now || now.ownerKey !== key) return;
    now.info = toPodInfo(now.pod, attributes, this.#labelAllowed);
    if (complete) now.workload = attributes;
    else {
      const t = setTimeout(() => {
        this.#retries.delete(t);
        if (this.#pods.get(uid)?.ownerKey === key && this.#pods.get(uid)?.workload === undefined) void this.#resolve(uid, key);
      }, this.o.ownerRetryMs ?? 10_000);
      t.unref();
      this.#retries.add(t);
    }
    this.#notify();
  }

  #remove(uid: string): void {
    const e = this.#pods.get(uid);
    if (!e) return;
    this.#unindex(uid, e);
    this.#pods.delete(uid);
  }

  #index(ip: string, uid: string): void {
    let set = this.#byIp.get(ip);
    if (!set) this.#byIp.set(ip, (set = new Set()));
    set.add(uid);
  }

  #unindex(uid: string, e: Entry): void {
    for (const ip of podIps(e.pod)) {
      const set = this.#byIp.get(ip);
      if (!set) continue;
      set.delete(uid);
      if (set.size === 0) this.#byIp.delete(ip);
    }
  }
}

export function createPodDirectory(options: PodDirectoryOptions): KubePodDirectory {
  return new KubePodDirectory(options);
}
