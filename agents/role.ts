/**
 * The node agent role (`crowsnest agent`): its sources, composed around one forwarder (the `Sink`).
 *
 *   container logs   agents/logs: tails the files matched by `--tail`, checkpoints under `--data-dir`
 *   scrapes          agents/metrics (with `--scrape`): static targets, through the on-disk queue (agents/queue)
 *                    under `<data-dir>/queue`, since a scrape cannot be read again
 *   forwarder        agents/forward: OTLP/HTTP protobuf to `--otlp-endpoint`
 *
 * With `--kubernetes` (the DaemonSet), also:
 *   pod directory    agents/kube: this node's pods, watched with a spec.nodeName field selector; their attributes
 *                    go on log records and relayed OTLP, their prometheus.io annotations make scrape targets
 *   kubelet          /metrics/resource and /metrics/cadvisor of this node (with `--host-ip`)
 *   events           agents/events: events.k8s.io Events, cluster-wide, while this agent holds the Lease
 *   relay            agents/relay: OTLP from this node's pods on `--relay-http-port`/`--relay-grpc-port`
 * Scrapes and events go through the on-disk queue; logs and relayed requests straight to the forwarder (files
 * are their own buffer; a relayed request is answered only once the gateway acknowledged it).
 *
 * The process's HTTP port serves /metrics (the agent's `crowsnest_agent_*` metrics beside the process ones),
 * /healthz and /readyz (ready once the first scan of the log files is done and its checkpoint written).
 *
 * The agent imports only the shared layer (#core, #config, #otlp) and its own folders: it never loads the storage
 * layer or chDB (lint: .eslint.boundaries.js), so its image needs none of it. What a configuration does not use
 * (the Kubernetes client and pod watch, scrapes and the disk queue, events, the relay and gRPC) is imported only
 * when configured: an agent that only tails files never loads it (~1.5 MB less heap when idle).
 *
 * One agent per data dir: the start takes `<data-dir>/agent.lock` (data-dir-lock.ts) before anything reads the
 * checkpoints, and fails naming the other agent's PID when one holds it; a stale lock (its agent gone) is taken
 * over. It is released at close, and at any exit of the process but a kill -9 (a failed start included).
 *
 * Close order: the relay (answers what is in flight), events (releases its Lease) and scrapes, the log source
 * (no new sends; the batches in flight stay in the checkpoint and are rebuilt at the next start), the pod
 * watch, the queue, then the forwarder's connections.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RoleError, defineRole } from '#core/role.ts';
import type { PodDirectory } from './core/contracts.ts';
import type { EventsCollector } from './events/collector.ts';
import { HttpSink } from './forward/http-sink.ts';
import { LogSource } from './logs/source.ts';
import type { createKubeApi } from './kube/api.ts';
import type { KubePodDirectory } from './kube/pod-directory.ts';
import type { MetricsSource } from './metrics/scrape.ts';
import type { DiskQueue } from './queue/disk-queue.ts';
import type { OtlpRelay } from './relay/relay.ts';
import { AGENT } from './options.ts';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.ts';

/** How long the start waits for the first list of this node's pods, so the first lines read get their workload. */
const POD_SYNC_WAIT_MS = 15_000;
const IN_CLUSTER_CA = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt';

export const agentRole = defineRole({
  name: 'agent',
  summary: 'The node agent: tails container log files (--tail) and forwards to the gateway (--otlp-endpoint), checkpointing under --data-dir.',
  options: AGENT,
  async start(ctx) {
    const { config } = ctx;
    const registry = ctx.metrics.registry;
    let lock: ReturnType<typeof lockDataDir>;
    try {
      lock = lockDataDir(config.dataDir, ctx.log.child({ part: 'lock' }));
    } catch (e) {
      throw e instanceof DataDirLockedError ? new RoleError(e.message) : e;
    }
    process.once('exit', () => lock.release());
    const sink = new HttpSink({
      endpoint: config.otlpEndpoint,
      authToken: config.otlpAuthToken,
      gzip: config.forwardGzip,
      maxInFlight: config.forwardMaxInFlight,
      timeoutMs: config.forwardTimeoutMs,
      maxRetryDelayMs: config.forwardMaxRetryDelayMs,
      log: ctx.log.child({ part: 'forward' }),
      registry,
    });
    const nodeName = config.nodeName ?? hostname();
    let pods: KubePodDirectory | undefined;
    let api: ReturnType<typeof createKubeApi> | undefined;
    if (config.kubernetes) {
      if (config.nodeName === undefined) throw new RoleError('--kubernetes needs --node-name (the downward API\'s spec.nodeName)');
      // Loaded only in Kubernetes mode: host mode never pays for the client library.
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      if (config.kubeconfig !== undefined) kc.loadFromFile(config.kubeconfig);
      else kc.loadFromCluster();
      const [{ createKubeApi }, { createPodDirectory }] = await Promise.all([import('./kube/api.ts'), import('./kube/pod-directory.ts')]);
      api = createKubeApi(kc);
      pods = createPodDirectory({ api, nodeName, registry, log: ctx.log.child({ part: 'pods' }), podLabels: config.podLabels });
      pods.start();
      const waited = await Promise.race([pods.synced.then(() => true), new Promise<false>((r) => setTimeout(r, POD_SYNC_WAIT_MS, false).unref())]);
      if (!waited) ctx.log.warn({ waitedMs: POD_SYNC_WAIT_MS }, "this node's pods are not listed yet: lines read meanwhile carry only what their path says");
    }
    const podDirectory: PodDirectory | undefined = pods;
    let logs: LogSource | undefined;
    if (config.tail.length > 0) {
      logs = new LogSource(
        { sink, log: ctx.log.child({ part: 'logs' }), registry, podDirectory },
        {
          globs: config.tail,
          dataDir: config.dataDir,
          nodeName,
          readFrom: config.logsReadFrom,
          scanIntervalMs: config.logsScanIntervalMs,
          pollIntervalMs: config.logsPollIntervalMs,
          maxHeldBytes: config.logsMaxHeldBytes,
          multiline: config.logsMultiline,
          maxLineBytes: config.logsMaxLineBytes,
          maxRecordBytes: config.logsMaxRecordBytes,
          batchMaxRecords: config.logsBatchMaxRecords,
          batchMaxBytes: config.logsBatchMaxBytes,
          batchLingerMs: config.logsBatchLingerMs,
          flushTimeoutMs: config.logsFlushTimeoutMs,
          rotateWaitMs: config.logsRotateWaitMs,
          maxOpenRotated: config.logsMaxOpenRotated,
          readChunkBytes: 256 * 1024,
          gzip: config.forwardGzip,
          maxPending: 50_000,
        },
      );
      await logs.start();
    }
    let queue: DiskQueue | undefined;
    let scrapes: MetricsSource | undefined;
    let events: EventsCollector | undefined;
    let relay: OtlpRelay | undefined;
    const eventsOn = config.kubernetes && config.events;
    if (config.scrape.length > 0 || config.kubernetes) {
      const [{ DiskQueue }, { createMetricsSource }, { SERVICE_ACCOUNT_TOKEN }] = await Promise.all([
        import('./queue/disk-queue.ts'),
        import('./metrics/scrape.ts'),
        import('./metrics/scrape-targets.ts'),
      ]);
      queue = await DiskQueue.open({ dir: join(config.dataDir, 'queue'), sink, log: ctx.log.child({ part: 'queue' }), registry });
      queue.start();
      scrapes = createMetricsSource({
        queue,
        log: ctx.log.child({ part: 'scrape' }),
        registry,
        staticTargets: config.scrape,
        pods: podDirectory,
        kubelet:
          config.kubernetes && config.hostIp !== undefined
            ? {
                nodeName,
                host: config.hostIp,
                tokenFile: SERVICE_ACCOUNT_TOKEN,
                insecureSkipVerify: config.kubeletInsecureSkipVerify,
                ...(config.kubeletInsecureSkipVerify || config.kubeconfig !== undefined ? {} : { ca: readFileSync(IN_CLUSTER_CA) }),
              }
            : undefined,
        nodeResource: config.nodeName !== undefined ? { 'k8s.node.name': nodeName } : { 'host.name': nodeName },
      });
      scrapes.start();
    }
    if (eventsOn && api !== undefined && queue !== undefined && pods !== undefined) {
      if (config.podName === undefined || config.podNamespace === undefined) {
        throw new RoleError('Kubernetes events need --pod-name and --pod-namespace (the Lease holder and its namespace), or --events=false');
      }
      const { createEventsCollector } = await import('./events/collector.ts');
      events = createEventsCollector({
        api,
        queue,
        registry,
        log: ctx.log.child({ part: 'events' }),
        dataDir: join(config.dataDir, 'events'),
        identity: config.podName,
        leaseNamespace: config.podNamespace,
        owners: pods.owners,
      });
      events.start();
    }
    if (config.kubernetes && config.relay && pods !== undefined) {
      const { createOtlpRelay } = await import('./relay/relay.ts');
      relay = createOtlpRelay({
        sink,
        pods,
        registry,
        log: ctx.log.child({ part: 'relay' }),
        host: config.host,
        httpPort: config.relayHttpPort,
        grpcPort: config.relayGrpcPort,
      });
      const ports = await relay.start();
      ctx.log.info(ports, 'OTLP relay listening');
    }
    return {
      notReady: () => {
        if (logs !== undefined && !logs.started) return 'log files not scanned yet';
        if (pods !== undefined && !pods.isSynced) return "this node's pods are not listed yet";
        return undefined;
      },
      async close() {
        await relay?.stop();
        await events?.stop({ release: true });
        await scrapes?.stop();
        await logs?.close();
        await pods?.stop();
        await queue?.close();
        sink.close();
        lock.release();
      },
    };
  },
});
