/**
 * The agent's Kubernetes parts against the local cluster's real API server (deploy/local/kube.sh, kwok nodes)
 * and the real platform (its store read back through the logs API):
 * - the pod directory of one node, with the Deployment found through the ReplicaSet;
 * - the events collector, through the agent's real on-disk queue and forwarder (agentPath), storing the
 *   scheduler's and controllers' own events of a Deployment, a watch broken mid-stream (a TCP proxy in front of the API server drops every connection) resumed without duplicates, a
 *   410 Gone forced by compacting etcd and restarting the control plane (the persisted resourceVersion is then
 *   too old) relisted without storing anything twice, and two collectors electing one leader, the survivor
 *   taking over once the killed one's lease expired;
 * - the OTLP relay attributing an OTel SDK exporter's requests to the pod whose IP they come from (pods of a
 *   node the test owns carry 127.0.0.x IPs set through the status subresource; the HTTP exporter binds its
 *   local address to one of them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '#core/log.ts';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventsCollector } from '../../agents/events/collector.ts';
import { HttpSink } from '../../agents/forward/http-sink.ts';
import { DiskQueue } from '../../agents/queue/disk-queue.ts';
import { OtlpRelay } from '../../agents/relay/relay.ts';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type LogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { createKubeApi } from '../../agents/kube/api.ts';
import { KubePodDirectory } from '../../agents/kube/pod-directory.ts';
import { eventually } from '../support/eventually.ts';
import { kubeSkipReason, testDeployment, useTestCluster } from '../support/kube.ts';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';
import { type StoredEvent, occurrenceKey, storedEvents as storedAt } from '../support/stored-events.ts';

const cluster = useTestCluster({ nodes: 2 });
let platform: TestPlatform;
const tmp = mkdtempSync(join(tmpdir(), 'crowsnest-agent-kube-'));
beforeAll(async () => {
  if (kubeSkipReason === undefined) platform = await startTestPlatform();
}, 120_000);
afterAll(async () => {
  await platform?.stop();
  rmSync(tmp, { recursive: true, force: true });
});
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The agent's own path for events (and relayed requests): the real forwarder (`HttpSink`) to the real platform's
 * OTLP/HTTP endpoint, behind the real bounded on-disk queue (`DiskQueue`) in `<tmp>/<name>/queue`, as role.ts
 * composes them. Closed after the test (the queue first, then the forwarder's connections).
 */
async function agentPath(name: string, registry: Registry = new Registry()): Promise<{ sink: HttpSink; queue: DiskQueue; close(): Promise<void> }> {
  const sink = new HttpSink({ endpoint: platform.otlpHttpUrl, log: silentLogger(), registry, maxRetryDelayMs: 500 });
  const queue = await DiskQueue.open({ dir: join(tmp, name, 'queue'), sink, log: silentLogger(), registry });
  queue.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await queue.close();
    sink.close();
  };
  cleanups.push(close);
  return { sink, queue, close };
}

/** A TCP proxy in front of the API server whose connections the test can cut, mid-stream. */
async function cuttableProxy(target: number): Promise<{ port: number; cut(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** The cluster's kubeconfig pointed at another port of 127.0.0.1 (the API server's certificate names that IP). */
function kubeConfigVia(kc: KubeConfig, port: number): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${port}` })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

type StoredLog = StoredEvent;
const storedEvents = (ns: string) => storedAt(platform, ns);

/** Every stored row is a distinct occurrence update: (event uid, count, last time) appears once. */
function expectNoDuplicates(rows: StoredLog[]): void {
  const keys = rows.map(occurrenceKey);
  const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
  expect(twice).toEqual([]);
}

/** The events the API server holds for a namespace, as (uid|count|last) keys. */
async function apiEventKeys(ns: string): Promise<string[]> {
  const list = await cluster().objects.list('events.k8s.io/v1', 'Event', ns);
  return (list.items as any[]).map((e) => {
    const count = e.series?.count ?? e.deprecatedCount ?? 1;
    return `${e.metadata.uid}|${count}`;
  });
}

async function metricSum(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

const deployment = (name: string, node: string, replicas: number, labels: Record<string, string> = {}) =>
  testDeployment(name, { replicas, node, labels, ports: [{ name: 'metrics', containerPort: 9090 }] });

describe.skipIf(kubeSkipReason !== undefined)('agent pod directory', () => {
  it('holds only its node\'s pods, with the Deployment found through the ReplicaSet and allowed labels', async () => {
    const c = cluster();
    const ns = await c.namespace('pods');
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 'kwok-node-0', 2, { team: 'shop', secret: 'x' }) });
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('elsewhere', 'kwok-node-1', 1) });
    const registry = new Registry();
    const dir = new KubePodDirectory({ api: createKubeApi(c.kc), nodeName: 'kwok-node-0', registry, log: silentLogger(), podLabels: ['team', 'app'] });
    let changes = 0;
    dir.onChange(() => changes++);
    dir.start();
    cleanups.push(() => dir.stop());
    await dir.synced;
    const mine = () => dir.list().filter((p) => p.namespace === ns);
    const pods = await eventually(() => {
      const p = mine();
      expect(p).toHaveLength(2);
      for (const pod of p) expect(pod.resource['k8s.deployment.name']).toBe('web');
      for (const pod of p) expect(pod.ips.length).toBeGreaterThan(0);
      return p;
    }, 60_000);
    const real = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
    const rs = (await c.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' })).items[0]!;
    for (const pod of pods) {
      const r = real.find((p) => p.metadata!.uid === pod.uid)!;
      expect(pod.resource).toEqual({
        'k8s.namespace.name': ns,
        'k8s.pod.name': r.metadata!.name,
        'k8s.pod.uid': r.metadata!.uid,
        'k8s.node.name': 'kwok-node-0',
        'k8s.replicaset.name': rs.metadata!.name,
        'k8s.replicaset.uid': rs.metadata!.uid,
        'k8s.deployment.name': 'web',
        'k8s.deployment.uid': (await c.apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).metadata!.uid,
        'k8s.pod.label.app': 'web',
        'k8s.pod.label.team': 'shop',
      });
      expect(pod.containers).toEqual([{ name: 'main', ports: [{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }] }]);
      expect(dir.byUid(pod.uid)).toBe(pod);
      expect(dir.byIp(pod.ips[0]!)?.uid).toBe(pod.uid);
    }
    // One ReplicaSet read for both pods: the second was a cache hit (or joined the first's request).
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
    expect(await metric('crowsnest_agent_owner_cache_misses_total')).toBe(1);
    expect(await metric('crowsnest_agent_owner_cache_hits_total')).toBeGreaterThanOrEqual(1);

    // Scaled down: the deleted pod leaves the directory, and listeners heard of it.
    const before = changes;
    await c.kubectl(['scale', '-n', ns, 'deployment/web', '--replicas=1']);
    await eventually(() => expect(mine()).toHaveLength(1), 60_000);
    expect(changes).toBeGreaterThan(before);
  });
});

describe.skipIf(kubeSkipReason !== undefined)('agent Kubernetes events', () => {
  const fast = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500, batchMaxAgeMs: 200, initialBackoffMs: 200 };

  it('stores the scheduler\'s and controllers\' events of a Deployment once each, across a watch cut mid-stream', async () => {
    const c = cluster();
    const ns = await c.namespace('events');
    const proxy = await cuttableProxy(Number(c.env.KUBE_API_PORT));
    cleanups.push(() => proxy.close());
    const registry = new Registry();
    const dataDir = join(tmp, 'events-a');
    const { queue } = await agentPath('events-a', registry);
    const collector = new EventsCollector({
      api: createKubeApi(kubeConfigVia(c.kc, proxy.port)),
      queue,
      registry,
      log: silentLogger(),
      dataDir,
      identity: 'agent-a',
      leaseNamespace: 'default',
      leaseName: 'events-a',
      ...fast,
    });
    collector.start();
    cleanups.push(() => collector.stop());
    await eventually(() => expect(collector.isLeader).toBe(true), 30_000);

    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('api', 'kwok-node-0', 1) });
    const rows = await eventually(async () => {
      const r = await storedEvents(ns);
      const reasons = r.map((x) => x.attributes['k8s.event.reason']);
      expect(reasons).toEqual(expect.arrayContaining(['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']));
      return r;
    }, 60_000, 500);
    const scheduled = rows.find((r) => r.attributes['k8s.event.reason'] === 'Scheduled')!;
    expect(scheduled.severityText).toBe('INFO');
    expect(scheduled.severityNumber).toBe(9);
    expect(scheduled.body).toMatch(/assigned .*\/api-.* to kwok-node-0/);
    expect(scheduled.attributes).toMatchObject({ 'k8s.event.type': 'Normal', 'k8s.event.reporting_controller': 'default-scheduler', 'k8s.object.kind': 'Pod', 'k8s.event.count': '1' });
    expect(scheduled.resource.attributes).toMatchObject({ 'k8s.namespace.name': ns, 'k8s.deployment.name': 'api', 'k8s.pod.name': scheduled.attributes['k8s.object.name'] });
    expect(scheduled.resource.attributes['k8s.replicaset.name']).toMatch(/^api-/);
    const scaling = rows.find((r) => r.attributes['k8s.event.reason'] === 'ScalingReplicaSet')!;
    expect(scaling.attributes['k8s.event.reporting_controller']).toBe('deployment-controller');
    expect(scaling.resource.attributes['k8s.deployment.name']).toBe('api');

    // Cut every connection (the watch among them), then make more events while the collector reconnects.
    expect(proxy.cut()).toBeGreaterThan(0);
    await c.kubectl(['scale', '-n', ns, 'deployment/api', '--replicas=3']);
    await eventually(async () => expect((await storedEvents(ns)).filter((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toHaveLength(3), 60_000, 500);
    expect(await metricSum(registry, 'crowsnest_agent_kube_watch_restarts_total', { reason: 'error' })).toBeGreaterThanOrEqual(1);
    proxy.cut();
    await c.kubectl(['scale', '-n', ns, 'deployment/api', '--replicas=1']);
    await eventually(async () => {
      const all = await storedEvents(ns);
      // Every update the API server holds is stored, and nothing twice.
      const stored = new Set(all.map((r) => `${r.attributes['k8s.event.uid']}|${r.attributes['k8s.event.count']}`));
      for (const k of await apiEventKeys(ns)) expect(stored).toContain(k);
      expect(all.some((r) => r.attributes['k8s.event.reason'] === 'SuccessfulDelete')).toBe(true);
    }, 60_000, 500);
    expectNoDuplicates(await storedEvents(ns));
    // They went through the on-disk queue, which the gateway emptied.
    expect(await metricSum(registry, 'crowsnest_agent_queue_enqueued_total')).toBeGreaterThan(0);
    await eventually(async () => expect(await metricSum(registry, 'crowsnest_agent_queue_records')).toBe(0), 30_000);
  });

  it('relists after 410 Gone (etcd compacted, control plane restarted) and stores nothing twice', async () => {
    const c = cluster();
    const ns = await c.namespace('gone');
    const dataDir = join(tmp, 'events-gone');
    // One agent's data dir: the second collector (the agent restarted) opens the queue the first one closed.
    const make = async (registry: Registry) => {
      const path = await agentPath('events-gone', registry);
      return { path, collector: new EventsCollector({ api: createKubeApi(c.kc), queue: path.queue, registry, log: silentLogger(), dataDir, identity: 'agent-gone', leaseNamespace: 'default', leaseName: 'events-gone', ...fast }) };
    };
    const { path: firstPath, collector: first } = await make(new Registry());
    first.start();
    await eventually(() => expect(first.isLeader).toBe(true), 30_000);
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('db', 'kwok-node-1', 2) });
    await eventually(async () => expect((await storedEvents(ns)).filter((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toHaveLength(2), 60_000, 500);
    await first.stop();
    await firstPath.close();
    const before = await storedEvents(ns);

    // While no collector runs: more events, then the history behind the checkpoint is compacted away and the
    // API server's watch cache starts afresh, so the persisted resourceVersion is too old to watch from.
    await c.kubectl(['scale', '-n', ns, 'deployment/db', '--replicas=3']);
    await eventually(async () => expect((await apiEventKeys(ns)).length).toBeGreaterThan(before.length), 30_000, 500);
    const etcd = `http://127.0.0.1:${c.env.KUBE_ETCD_PORT}`;
    const range = await (await fetch(`${etcd}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64'), limit: 1 }) })).json() as { header: { revision: string } };
    const compacted = await fetch(`${etcd}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: range.header.revision, physical: true }) });
    expect(compacted.status).toBe(200);
    const restarted = await c.sh(['restart']);
    expect(restarted.code, restarted.stderr).toBe(0);

    const registry = new Registry();
    const { collector: second } = await make(registry);
    second.start();
    cleanups.push(() => second.stop());
    await eventually(async () => {
      expect(await metricSum(registry, 'crowsnest_agent_kube_watch_restarts_total', { resource: 'events', reason: 'expired' })).toBeGreaterThanOrEqual(1);
      const all = await storedEvents(ns);
      expect(all.filter((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toHaveLength(3);
      const stored = new Set(all.map((r) => `${r.attributes['k8s.event.uid']}|${r.attributes['k8s.event.count']}`));
      for (const k of await apiEventKeys(ns)) expect(stored).toContain(k);
    }, 90_000, 500);
    expectNoDuplicates(await storedEvents(ns));
    // The relist met every event stored before as already stored.
    expect(await metricSum(registry, 'crowsnest_agent_k8s_events_total', { result: 'duplicate' })).toBeGreaterThanOrEqual(before.length);
  }, 180_000);

  it('elects one leader of two; the other takes over once the killed leader\'s lease expired', async () => {
    const c = cluster();
    const ns = await c.namespace('handover');
    const lease = 'events-handover';
    const make = async (id: string) => {
      const registry = new Registry();
      const { queue } = await agentPath(id, registry);
      return new EventsCollector({ api: createKubeApi(c.kc), queue, registry, log: silentLogger(), dataDir: join(tmp, id), identity: id, leaseNamespace: 'default', leaseName: lease, ...fast });
    };
    const a = await make('agent-1');
    const b = await make('agent-2');
    a.start();
    b.start();
    cleanups.push(() => a.stop(), () => b.stop());
    const holder = async () => (await c.objects.read({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: lease, namespace: 'default' } }) as any).spec;
    const leader = await eventually(async () => {
      expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
      const spec = await holder();
      expect(spec.holderIdentity).toBe(a.isLeader ? 'agent-1' : 'agent-2');
      return a.isLeader ? a : b;
    }, 30_000);
    const other = leader === a ? b : a;
    const otherId = other === a ? 'agent-1' : 'agent-2';
    // Stays one leader over several renewals.
    await new Promise((r) => setTimeout(r, 3 * fast.retryPeriodMs));
    expect(other.isLeader).toBe(false);
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('one', 'kwok-node-0', 1) });
    await eventually(async () => expect((await storedEvents(ns)).some((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toBe(true), 60_000, 500);

    // Killed: stops without releasing, so the lease must expire before the other may take it.
    const transitions = (await holder()).leaseTransitions as number;
    const killedAt = Date.now();
    await leader.stop({ release: false });
    expect((await holder()).holderIdentity).not.toBe(otherId);
    await eventually(async () => {
      expect(other.isLeader).toBe(true);
      expect((await holder()).holderIdentity).toBe(otherId);
    }, 30_000, 200);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(fast.leaseDurationMs - fast.retryPeriodMs);
    expect((await holder()).leaseTransitions).toBe(transitions + 1);

    // The new leader collects: a second Deployment's events arrive, and the first's are not stored again.
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment('two', 'kwok-node-1', 1) });
    await eventually(async () => {
      const rows = await storedEvents(ns);
      expect(rows.filter((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toHaveLength(2);
    }, 60_000, 500);
    expectNoDuplicates(await storedEvents(ns));
  }, 120_000);
});

describe.skipIf(kubeSkipReason !== undefined)('agent OTLP relay', () => {
  /** Binds a Deployment's one pod to `node` (not managed by kwok) and gives it `ip`, as a kubelet would. */
  async function podWithIp(ns: string, name: string, node: string, ip: string): Promise<string> {
    const c = cluster();
    await c.apps.createNamespacedDeployment({ namespace: ns, body: deployment(name, node, 1, { team: 'payments' }) });
    const pod = await eventually(async () => {
      const p = (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `app=${name}` })).items[0];
      expect(p?.spec?.nodeName).toBe(node);
      return p!.metadata!.name!;
    }, 60_000);
    await c.kubectl(['patch', 'pod', pod, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } })]);
    return pod;
  }

  async function emit(exporter: LogRecordExporter, service: string, body: string): Promise<void> {
    const lp = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'k8s.pod.label.team': 'set-by-app' }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    lp.getLogger('relay-test').emit({ body, severityText: 'INFO', severityNumber: 9 });
    await lp.forceFlush();
    await lp.shutdown();
  }

  async function stored(service: string): Promise<StoredLog[]> {
    await platform.inserted();
    const u = new URL(`${platform.apiUrl}/api/v1/logs`);
    u.searchParams.set('service', service);
    u.searchParams.set('limit', '100');
    const { body } = await getJson<{ logs: StoredLog[] }>(u.toString());
    return body.logs;
  }

  it('adds the sending pod\'s attributes (by source IP) to what an OTel SDK exports over HTTP and gRPC', async () => {
    const c = cluster();
    const node = 'relay-node';
    await c.core.createNode({ body: { metadata: { name: node, labels: { 'kubernetes.io/hostname': node } } } });
    // Room for pods, so the real scheduler places the Deployments' pods here; no kubelet (nor kwok) runs it.
    const room = { cpu: '4', memory: '8Gi', pods: '10' };
    await c.kubectl(['patch', 'node', node, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { capacity: room, allocatable: room } })]);
    const ns = await c.namespace('relay');
    const httpPod = await podWithIp(ns, 'checkout', node, '127.0.0.5');
    const grpcPod = await podWithIp(ns, 'ledger', node, '127.0.0.1');
    const registry = new Registry();
    const pods = new KubePodDirectory({ api: createKubeApi(c.kc), nodeName: node, registry, log: silentLogger(), podLabels: ['team'] });
    pods.start();
    cleanups.push(() => pods.stop());
    await eventually(() => {
      expect(pods.byIp('127.0.0.5')?.resource['k8s.deployment.name']).toBe('checkout');
      expect(pods.byIp('127.0.0.1')?.resource['k8s.deployment.name']).toBe('ledger');
    }, 60_000);
    const { sink } = await agentPath('relay', registry);
    const relay = new OtlpRelay({ sink, pods, registry, log: silentLogger(), host: '127.0.0.1', httpPort: 0, grpcPort: 0 });
    const { httpPort, grpcPort } = await relay.start();
    cleanups.push(() => relay.stop());

    await emit(new ProtoLogExporter({ url: `http://127.0.0.1:${httpPort}/v1/logs`, httpAgentOptions: { localAddress: '127.0.0.5' } }), 'checkout-svc', 'paid over http');
    await emit(new GrpcLogExporter({ url: `http://127.0.0.1:${grpcPort}` }), 'ledger-svc', 'booked over grpc');
    await emit(new ProtoLogExporter({ url: `http://127.0.0.1:${httpPort}/v1/logs`, httpAgentOptions: { localAddress: '127.0.0.9' } }), 'stranger-svc', 'from no pod');

    const [checkout] = await eventually(async () => {
      const rows = await stored('checkout-svc');
      expect(rows).toHaveLength(1);
      return rows;
    }, 30_000, 300);
    const workload = async (name: string) => {
      const rs = (await c.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: `app=${name}` })).items[0]!;
      return { 'k8s.replicaset.name': rs.metadata!.name, 'k8s.deployment.name': name };
    };
    expect(checkout!.body).toBe('paid over http');
    expect(checkout!.resource.attributes).toMatchObject({
      'service.name': 'checkout-svc',
      'k8s.namespace.name': ns,
      'k8s.pod.name': httpPod,
      'k8s.node.name': node,
      // What the application set is kept.
      'k8s.pod.label.team': 'set-by-app',
      ...(await workload('checkout')),
    });
    const [ledger] = await eventually(async () => {
      const rows = await stored('ledger-svc');
      expect(rows).toHaveLength(1);
      return rows;
    }, 30_000, 300);
    expect(ledger!.resource.attributes).toMatchObject({ 'service.name': 'ledger-svc', 'k8s.pod.name': grpcPod, ...(await workload('ledger')) });
    const [stranger] = await eventually(async () => {
      const rows = await stored('stranger-svc');
      expect(rows).toHaveLength(1);
      return rows;
    }, 30_000, 300);
    expect(Object.keys(stranger!.resource.attributes).filter((k) => k.startsWith('k8s.') && k !== 'k8s.pod.label.team')).toEqual([]);
    expect(await metricSum(registry, 'crowsnest_agent_relay_items_total', { attributed: 'true' })).toBe(2);
    expect(await metricSum(registry, 'crowsnest_agent_relay_items_total', { attributed: 'false' })).toBe(1);

    // A malformed request is refused with the decoder's reason, in the OTLP/HTTP error shape.
    const bad = await fetch(`http://127.0.0.1:${httpPort}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceLogs": 3}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/resourceLogs/);
  });
});
