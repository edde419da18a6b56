/**
 * The workload that owns a pod, found through owner references and looked up lazily: Pod → ReplicaSet →
 * Deployment, Pod → Job → CronJob, Pod → StatefulSet / DaemonSet. A ReplicaSet or a Job is read (metadata only:
 * `PartialObjectMetadata`, not the pod template) the first time a pod of it is seen, and its owners are kept in
 * a bounded LRU cache with a TTL. Every node watches only its own pods, so an informer over every ReplicaSet of
 * the cluster on every node (what the OpenTelemetry Collector's k8sattributes processor does) would cost each
 * agent memory and the API server a watch per node for objects the node mostly never runs.
 *
 * Concurrent lookups of one object share one request. A failed lookup is not cached (the next pod tries again);
 * an object that does not exist (404) is cached for `negativeTtlMs`, so a pod whose ReplicaSet was deleted does
 * not cost a request per update.
 *
 * Attribute names are OpenTelemetry's Kubernetes resource conventions: `k8s.<kind>.name` and `k8s.<kind>.uid`.
 */
import type { Logger } from '#core/log.ts';
import type { Registry } from 'prom-client';
import { KubeApiError, type KubeApi } from './api.ts';
import { counter } from './metrics.ts';

export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

/** Workload kinds and their attribute prefix. */
export const WORKLOAD_KINDS: Readonly<Record<string, string>> = {
  ReplicaSet: 'k8s.replicaset',
  Deployment: 'k8s.deployment',
  StatefulSet: 'k8s.statefulset',
  DaemonSet: 'k8s.daemonset',
  Job: 'k8s.job',
  CronJob: 'k8s.cronjob',
};

/** Kinds whose own owners are looked up (the others end the chain). */
const LOOKUP_PATHS: Readonly<Record<string, (ns: string, name: string) => string>> = {
  ReplicaSet: (ns, name) => `/apis/apps/v1/namespaces/${enc(ns)}/replicasets/${enc(name)}`,
  Job: (ns, name) => `/apis/batch/v1/namespaces/${enc(ns)}/jobs/${enc(name)}`,
  Pod: (ns, name) => `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`,
};

const enc = encodeURIComponent;

/** The owner a controller acts for: the one marked `controller`, else the first. */
export function controllerOf(refs: readonly OwnerReference[] | undefined): OwnerReference | undefined {
  if (!refs || refs.length === 0) return undefined;
  return refs.find((r) => r.controller === true) ?? refs[0];
}

interface Entry {
  /** undefined: the object does not exist. */
  owners: OwnerReference[] | undefined;
}

/** A small LRU map with a time to live per entry: a Map keeps insertion order, so re-inserting on a hit makes it the newest. */
export class LruTtl<V> {
  #map = new Map<string, { value: V; expires: number }>();
  constructor(
    readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.#map.delete(key);
      return undefined;
    }
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#map.delete(key);
    this.#map.set(key, { value, expires: this.now() + ttlMs });
    while (this.#map.size > this.maxEntries) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}

export interface OwnerResolverOptions {
  api: KubeApi;
  registry: Registry;
  log: Logger;
  /** Objects whose owners are cached. @default 4096 */
  maxEntries?: number;
  /** How long an object's owners are trusted. @default 600000 (10 min) */
  ttlMs?: number;
  /** How long "not found" is trusted. @default 30000 */
  negativeTtlMs?: number;
  now?: () => number;
}

export class OwnerResolver {
  readonly #cache: LruTtl<Entry>;
  readonly #inflight = new Map<string, Promise<OwnerReference[] | undefined>>();
  readonly #hits;
  readonly #misses;
  readonly #errors;

  constructor(private readonly o: OwnerResolverOptions) {
    this.#cache = new LruTtl(o.maxEntries ?? 4096, o.now);
    this.#hits = counter(o.registry, 'crowsnest_agent_owner_cache_hits_total', 'Owner lookups answered from the cache');
    this.#misses = counter(o.registry, 'crowsnest_agent_owner_cache_misses_total', 'Owner lookups that read the object from the API server');
    this.#errors = counter(o.registry, 'crowsnest_agent_owner_lookup_errors_total', 'Owner lookups that failed (not cached; tried again on the next need)');
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  /** The owner references of `kind` `namespace/name` (Pod, ReplicaSet or Job); undefined when it does not exist. */
  async ownersOf(kind: string, namespace: string, name: string): Promise<OwnerReference[] | undefined> {
    const path = LOOKUP_PATHS[kind];
    if (!path) return undefined;
    const key = `${kind}/${namespace}/${name}`;
    const cached = this.#cache.get(key);
    if (cached) {
      this.#hits.inc();
      return cached.owners;
    }
    const pending = this.#inflight.get(key);
    if (pending) {
      this.#hits.inc();
      return pending;
    }
    this.#misses.inc();
    const lookup = this.o.api
      .getMetadata<{ metadata?: { ownerReferences?: OwnerReference[] } }>(path(namespace, name))
      .then(
        (obj) => {
          const owners = (obj.metadata?.ownerReferences ?? []).map(({ apiVersion, kind: k, name: n, uid, controller }) => ({
            ...(apiVersion !== undefined ? { apiVersion } : {}),
            kind: k,
            name: n,
            uid,
            ...(controller !== undefined ? { controller } : {}),
          }));
          this.#cache.set(key, { owners }, this.o.ttlMs ?? 600_000);
          return owners;
        },
        (e: unknown) => {
          if (e instanceof KubeApiError && e.status === 404) {
            this.#cache.set(key, { owners: undefined }, this.o.negativeTtlMs ?? 30_000);
            return undefined;
          }
          this.#errors.inc();
          this.o.log.warn({ object: key, err: (e as Error).message }, 'owner lookup failed');
          throw e;
        },
      )
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, lookup);
    return lookup;
  }

  /**
   * `k8s.<kind>.name` / `.uid` of every workload above an object with these owner references (in `namespace`),
   * e.g. a Deployment's pod: `k8s.replicaset.*` and `k8s.deployment.*`. A lookup that fails leaves out what is
   * above it and says so (`complete: false`: the caller tries again later); kinds outside the conventions (a
   * custom controller) end the chain.
   */
  async workload(namespace: string, refs: readonly OwnerReference[] | undefined): Promise<{ attributes: Record<string, string>; complete: boolean }> {
    const attributes: Record<string, string> = {};
    let ref = controllerOf(refs);
    for (let depth = 0; ref && depth < 4; depth++) {
      const prefix = WORKLOAD_KINDS[ref.kind];
      if (!prefix) break;
      attributes[`${prefix}.name`] = ref.name;
      if (ref.uid) attributes[`${prefix}.uid`] = ref.uid;
      if (!LOOKUP_PATHS[ref.kind]) break;
      let owners: OwnerReference[] | undefined;
      try {
        owners = await this.ownersOf(ref.kind, namespace, ref.name);
      } catch {
        return { attributes, complete: false };
      }
      ref = controllerOf(owners);
    }
    return { attributes, complete: true };
  }
}
