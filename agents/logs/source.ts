/**
 * The container log source: finds log files (discover.ts), groups them into chains (one container's log over its
 * rotations, chain.ts), gives each chain its resource attributes and multiline rule, and keeps the checkpoint
 * document (checkpoint.ts) that every chain's state is part of.
 *
 * - Scans every `scanIntervalMs`: new files are opened at once (a file deleted after that is still read to its
 *   end), up to `maxOpenRotated` waiting rotated files per chain.
 * - Each chain runs its own loop (read → join → batch → send, one batch in flight); the sink's health and the
 *   memory budget (`maxHeldBytes` of records read and not acknowledged) gate reading for all of them.
 * - Resource attributes: `k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.container.name`,
 *   `k8s.container.restart_count` from the path, `k8s.node.name` from config, and the pod's `PodInfo.resource`
 *   (owners, labels) from the `PodDirectory` when one is given; `service.name` from the pod's
 *   `app.kubernetes.io/name` label, else its workload, else the container name (OpenTelemetry's service name
 *   inference for Kubernetes).
 * - First start (no checkpoint): files are read from their beginning, or with `readFrom: 'end'` only what is
 *   written after the start; files found later are always read from their beginning.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '#core/log.ts';
import type { PodDirectory, Sink } from '../core/contracts.ts';
import { Chain, type ChainOptions } from './chain.ts';
import { type AgentLogState, CheckpointStore } from './checkpoint.ts';
import { chainKey, dockerContainerOfPath, findFiles, isRotatedName, podOfPath } from './discover.ts';
import type { MultilineRule } from './join.ts';
import { type LogMetrics, createLogMetrics } from './metrics.ts';

export interface MultilineConfig {
  /** Globs on the pod's namespace, name and container name (`*` matches any run); unset matches all. */
  namespace?: string | undefined;
  pod?: string | undefined;
  container?: string | undefined;
  /** Glob on the file path, for files outside the pod layout. */
  path?: string | undefined;
  /** A line matching this regular expression starts a record; other lines continue it. */
  start: string;
  maxLines?: number | undefined;
  maxBytes?: number | undefined;
}

export interface LogSourceOptions extends ChainOptions {
  globs: readonly string[];
  dataDir: string;
  nodeName: string;
  readFrom: 'beginning' | 'end';
  scanIntervalMs: number;
  pollIntervalMs: number;
  maxHeldBytes: number;
  multiline: readonly MultilineConfig[];
}

export interface LogSourceDeps {
  sink: Sink;
  log: Logger;
  registry: Registry;
  podDirectory?: PodDirectory | undefined;
}

/** Longest an acknowledgement waits for a checkpoint write when no other write carries it first. */
const ACK_COMMIT_DELAY_MS = 1000;

const globRe = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

export class LogSource {
  readonly #deps: LogSourceDeps;
  readonly #opts: LogSourceOptions;
  readonly metrics: LogMetrics;
  readonly #store: CheckpointStore;
  readonly #chains = new Map<string, Chain>();
  readonly #runs = new Map<string, Promise<void>>();
  readonly #rules: { match: (path: string, pod?: { namespace: string; pod: string; container: string }) => boolean; rule: MultilineRule }[];
  #saved: AgentLogState = { version: 1, chains: {} };
  #held = 0;
  #filesOpen = 0;
  #timer: NodeJS.Timeout | undefined;
  #scanning = false;
  #closed = false;
  #started = false;

  constructor(deps: LogSourceDeps, opts: LogSourceOptions) {
    this.#deps = deps;
    this.#opts = opts;
    this.metrics = createLogMetrics(deps.registry);
    this.#store = new CheckpointStore(opts.dataDir, () => this.#snapshot());
    this.#rules = opts.multiline.map((m) => {
      const ns = m.namespace === undefined ? undefined : globRe(m.namespace);
      const pod = m.pod === undefined ? undefined : globRe(m.pod);
      const container = m.container === undefined ? undefined : globRe(m.container);
      const path = m.path === undefined ? undefined : globRe(m.path);
      return {
        match: (p, info) =>
          (path === undefined || path.test(p)) &&
          (ns === undefined || (info !== undefined && ns.test(info.namespace))) &&
          (pod === undefined || (info !== undefined && pod.test(info.pod))) &&
          (container === undefined || (info !== undefined && container.test(info.container))),
        rule: { start: new RegExp(m.start), maxLines: m.maxLines ?? 500, maxBytes: m.maxBytes ?? opts.maxRecordBytes },
      };
    });
  }

  /** Whether the first scan is done (readiness). */
  get started(): boolean {
    return this.#started;
  }

  #snapshot(): AgentLogState {
    const chains: AgentLogState['chains'] = {};
    for (const [key, c] of this.#chains) chains[key] = c.state();
    this.metrics.checkpointCommits.inc();
    return { version: 1, chains };
  }

  #resource(key: string): () => [string, string][] {
    const info = podOfPath(key);
    const docker = dockerContainerOfPath(key);
    return () => {
      const attrs = new Map<string, string>();
      if (info !== undefined) {
        attrs.set('k8s.namespace.name', info.namespace);
        attrs.set('k8s.pod.name', info.pod);
        attrs.set('k8s.pod.uid', info.uid);
        attrs.set('k8s.container.name', info.container);
        attrs.set('k8s.container.restart_count', info.restart);
      } else if (docker !== undefined) attrs.set('container.id', docker);
      else attrs.set('log.file.path', key);
      if (this.#opts.nodeName !== '') attrs.set('k8s.node.name', this.#opts.nodeName);
      const pod = info !== undefined ? this.#deps.podDirectory?.byUid(info.uid) : undefined;
      if (pod !== undefined) for (const k of Object.keys(pod.resource).sort()) if (!attrs.has(k)) attrs.set(k, pod.resource[k]!);
      if (info !== undefined && !attrs.has('service.name')) {
        const r = pod?.resource ?? {};
        const service =
          r['k8s.pod.label.app.kubernetes.io/name'] ??
          r['k8s.deployment.name'] ??
          r['k8s.statefulset.name'] ??
          r['k8s.daemonset.name'] ??
          r['k8s.cronjob.name'] ??
          r['k8s.job.name'] ??
          info.container;
        attrs.set('service.name', service);
      }
      return [...attrs];
    };
  }

  #chain(key: string): Chain {
    let chain = this.#chains.get(key);
    if (chain !== undefined) return chain;
    const info = podOfPath(key);
    const labels = { namespace: info?.namespace ?? '', pod: info?.pod ?? '' };
    const rule = this.#rules.find((r) => r.match(key, info))?.rule;
    const o = this.#opts;
    chain = new Chain(
      key,
      {
        sink: this.#deps.sink,
        commit: () => this.#store.commit(),
        commitLater: () => this.#store.commitLater(ACK_COMMIT_DELAY_MS, (err: unknown) => this.#deps.log.error({ err }, 'checkpoint write failed')),
        metrics: this.metrics,
        log: this.#deps.log,
        opts: o,
        multiline: rule,
        resource: this.#resource(key),
        labels,
        mayRead: () => this.#deps.sink.healthy && this.#held < o.maxHeldBytes,
        hold: (d) => {
          this.#held += d;
          this.metrics.heldBytes.set(this.#held);
        },
        fileOpened: (d) => {
          this.#filesOpen += d;
          this.metrics.filesOpen.set(this.#filesOpen);
        },
      },
      this.#saved.chains[key],
    );
    this.#chains.set(key, chain);
    this.metrics.chains.set(this.#chains.size);
    return chain;
  }

  #run(chain: Chain): void {
    if (this.#runs.has(chain.key) || this.#closed) return;
    const run = chain
      .run(this.#opts.pollIntervalMs)
      .catch((err: unknown) => this.#deps.log.error({ err, chain: chain.key }, 'log chain failed'))
      .then(async () => {
        this.#runs.delete(chain.key);
        if (this.#closed) return;
        if (chain.finished()) {
          await chain.close();
          this.#chains.delete(chain.key);
          this.metrics.chains.set(this.#chains.size);
          await this.#store.commit().catch((err: unknown) => this.#deps.log.error({ err }, 'checkpoint write failed'));
        }
      });
    this.#runs.set(chain.key, run);
  }

  #scan(first: boolean): void {
    const byChain = new Map<string, { path: string; rotated: boolean; mtime: number }[]>();
    for (const path of findFiles(this.#opts.globs)) {
      const key = chainKey(path);
      if (key === undefined) continue;
      let mtime: number;
      try {
        mtime = statSync(path).mtimeMs;
      } catch {
        continue;
      }
      const list = byChain.get(key) ?? [];
      list.push({ path, rotated: path !== key && isRotatedName(basename(path)), mtime });
      byChain.set(key, list);
    }
    for (const chain of this.#chains.values()) chain.scanStart();
    for (const [key, files] of byChain) {
      const fresh = !this.#chains.has(key) && this.#saved.chains[key] === undefined;
      const chain = this.#chain(key);
      // Older first: rotated files by age, the live file last.
      files.sort((a, b) => Number(a.path === key) - Number(b.path === key) || a.mtime - b.mtime);
      for (const f of files) {
        let st;
        try {
          st = statSync(f.path, { bigint: true });
        } catch {
          continue;
        }
        chain.offer(f.path, st, f.path === key, first && fresh && this.#opts.readFrom === 'end');
      }
    }
    for (const chain of this.#chains.values()) chain.scanEnd();
    if (first) {
      // Chains of the checkpoint whose files are all gone still settle what they lost.
      for (const key of Object.keys(this.#saved.chains)) this.#chain(key);
      for (const chain of this.#chains.values()) chain.settleUnverified();
    }
    for (const chain of this.#chains.values()) this.#run(chain);
  }

  async start(): Promise<void> {
    this.#saved = this.#store.load();
    this.#scan(true);
    await this.#store.commit();
    this.#started = true;
    const tick = () => {
      if (this.#closed) return;
      if (!this.#scanning) {
        this.#scanning = true;
        try {
          this.#scan(false);
        } catch (err) {
          this.#deps.log.error({ err }, 'log file scan failed');
        } finally {
          this.#scanning = false;
        }
      }
      this.#timer = setTimeout(tick, this.#opts.scanIntervalMs);
    };
    this.#timer = setTimeout(tick, this.#opts.scanIntervalMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.all([...this.#chains.values()].map((c) => c.close()));
    await Promise.all(this.#runs.values());
    await this.#store.idle();
    this.#store.writeNow();
  }
}
