/**
 * `crowsnest agent --kubernetes` as the DaemonSet runs it, composed: one agent process against the local
 * cluster's real API server (deploy/local/kube.sh, kwok nodes) and a real platform. The parts have their own
 * tests (agent-kube, agent-logs); this one checks they are put together: the pod directory's workload reaches
 * the log records read from a kubelet-style file, the events collector (elected by its Lease) stores the
 * cluster's events through the on-disk queue and the forwarder, and the relay forwards an app's OTLP.
 * Then two agents (two processes, as two DaemonSet pods on two nodes): one leads the events Lease, it is
 * `kill -9`ed, the other takes over once the lease expired, and events keep arriving, none stored twice.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/kafka.ts';
import { kubeSkipReason, testDeployment, useTestCluster } from '../support/kube.ts';
import { type TestPlatform, getJson, startTestPlatform } from '../support/platform.ts';

const NODE = 'kwok-node-0';
const cluster = useTestCluster({ nodes: 2 });
const tmp = mkdtempSync(join(tmpdir(), 'crowsnest-agent-k8s-'));
let platform: TestPlatform;
let agent: CrowsnestProcess | undefined;
let relayHttpPort = 0;

interface StoredLog {
  body: string;
  eventName?: string;
  attributes: Record<string, string>;
  resource: { attributes: Record<string, string> };
}

async function logs(params: Record<string, string>): Promise<StoredLog[]> {
  const u = new URL(`${platform.apiUrl}/api/v1/logs`);
  u.searchParams.set('start', new Date(Date.now() - 3_600_000).toISOString());
  u.searchParams.set('limit', '1000');
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  const { status, body } = await getJson<{ logs: StoredLog[] }>(u.toString());
  expect(status).toBe(200);
  return body.logs;
}

beforeAll(async () => {
  if (kubeSkipReason === undefined) platform = await startTestPlatform();
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  await platform?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe.skipIf(kubeSkipReason !== undefined)('crowsnest agent --kubernetes', () => {
  it('tails a pod\'s log file with its workload, stores the cluster\'s events and relays OTLP, in one process', async () => {
    const c = cluster();
    const ns = await c.namespace('agent');
    await c.apps.createNamespacedDeployment({ namespace: ns, body: testDeployment('web', { replicas: 1, node: NODE, labels: { team: 'shop' } }) });
    const pod = await eventually(async () => {
      const list = await c.core.listNamespacedPod({ namespace: ns });
      const p = list.items.find((i) => i.spec?.nodeName === NODE);
      expect(p?.metadata?.uid).toBeDefined();
      return p!;
    }, 60_000);

    // The kubelet's layout: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log, CRI lines.
    const logRoot = join(tmp, 'pods');
    const dir = join(logRoot, `${ns}_${pod.metadata!.name}_${pod.metadata!.uid}`, 'main');
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString();
    writeFileSync(join(dir, '0.log'), `${stamp} stdout F hello from web\n${stamp} stderr F {"level":"error","msg":"boom"}\n`);

    const httpPort = await freePort();
    relayHttpPort = await freePort();
    agent = await startCrowsnest(
      'agent',
      [
        '--kubernetes',
        '--kubeconfig', c.kubeconfigPath,
        '--node-name', NODE,
        '--pod-name', 'agent-test-0',
        '--pod-namespace', ns,
        '--tail', join(logRoot, '*/*/*.log'),
        '--data-dir', join(tmp, 'agent'),
        '--otlp-endpoint', platform.otlpHttpUrl,
        '--relay-http-port', String(relayHttpPort),
        '--relay-grpc-port', '-1',
        '--pod-labels', 'team',
      ],
      httpPort,
    );

    // Log lines: the workload comes from the pod directory (Pod → ReplicaSet → Deployment), not from the path.
    const lines = await eventually(async () => {
      const l = await logs({ attr: `k8s.namespace.name=${ns}` });
      expect(l.filter((r) => r.resource.attributes['k8s.container.name'] === 'main')).toHaveLength(2);
      return l.filter((r) => r.resource.attributes['k8s.container.name'] === 'main');
    }, 60_000);
    for (const r of lines) {
      expect(r.resource.attributes).toMatchObject({
        'k8s.pod.name': pod.metadata!.name,
        'k8s.pod.uid': pod.metadata!.uid,
        'k8s.node.name': NODE,
        'k8s.deployment.name': 'web',
        'k8s.pod.label.team': 'shop',
      });
    }
    expect(lines.map((r) => r.body).sort()).toEqual(['hello from web', '{"level":"error","msg":"boom"}'].sort());

    // Events: this agent holds the Lease in its namespace and stores the Deployment's events.
    await eventually(async () => {
      const lease = await c.kubectl(['-n', ns, 'get', 'lease', 'crowsnest-agent-events', '-o', 'jsonpath={.spec.holderIdentity}']);
      expect(lease).toBe('agent-test-0');
    }, 60_000);
    const events = await eventually(async () => {
      const e = (await logs({ attr: `k8s.namespace.name=${ns}` })).filter((r) => r.eventName === 'k8s.event');
      const reasons = new Set(e.map((r) => r.attributes['k8s.event.reason']));
      for (const reason of ['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled']) expect(reasons).toContain(reason);
      return e;
    }, 90_000);
    expect(events.length).toBeGreaterThanOrEqual(3);

    // Relay: an app's OTLP/JSON request is forwarded and answered once the gateway acknowledged it.
    const res = await fetch(`http://127.0.0.1:${relayHttpPort}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: `relayed-${ns}` } }] }, scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: 'through the relay' } }] }] }],
      }),
    });
    expect(res.status).toBe(200);
    await platform.inserted();
    expect((await logs({ service: `relayed-${ns}` })).map((r) => r.body)).toEqual(['through the relay']);

    // The agent reports itself healthy and counts what it did.
    const metrics = await (await fetch(`${agent.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/crowsnest_agent_/);
  });

  it('hands the events over from a kill -9ed leader to the other agent, storing no update twice', async () => {
    // The first test's agent collects the cluster's events under its own Lease: two collectors would store each
    // event twice. A cluster runs one Lease (one DaemonSet).
    await agent?.stop();
    agent = undefined;
    const c = cluster();
    const ns = await c.namespace('handover');
    const deploy = (name: string, node: string) => c.apps.createNamespacedDeployment({ namespace: ns, body: testDeployment(name, { replicas: 2, node }) });
    const events = async () => (await logs({ attr: `k8s.namespace.name=${ns}` })).filter((r) => r.eventName === 'k8s.event');
    const holder = () => c.kubectl(['-n', ns, 'get', 'lease', 'crowsnest-agent-events', '-o', 'jsonpath={.spec.holderIdentity}']);
    /** Every update the API server holds is stored (uid|count), and no (uid, count, last time) twice. */
    const expectStoredOnce = async () => {
      const rows = await events();
      const keys = rows.map((r) => `${r.attributes['k8s.event.uid']}|${r.attributes['k8s.event.count']}|${r.attributes['k8s.event.last_time']}`);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
      const stored = new Set(rows.map((r) => `${r.attributes['k8s.event.uid']}|${r.attributes['k8s.event.count']}`));
      const api = ((await c.objects.list('events.k8s.io/v1', 'Event', ns)).items as any[]).map((e) => `${e.metadata.uid}|${e.series?.count ?? e.deprecatedCount ?? 1}`);
      for (const k of api) expect(stored).toContain(k);
      return rows;
    };
    const logRoot = join(tmp, 'handover-logs');
    mkdirSync(logRoot, { recursive: true });
    const start = async (id: string, node: string) =>
      startCrowsnest(
        'agent',
        [
          '--kubernetes',
          '--kubeconfig', c.kubeconfigPath,
          '--node-name', node,
          '--pod-name', id,
          '--pod-namespace', ns,
          '--tail', join(logRoot, '*.log'),
          '--data-dir', join(tmp, id),
          '--otlp-endpoint', platform.otlpHttpUrl,
          '--relay-http-port', '0',
          '--relay-grpc-port', '-1',
        ],
        await freePort(),
      );
    const agents = new Map([
      ['agent-a', await start('agent-a', 'kwok-node-0')],
      ['agent-b', await start('agent-b', 'kwok-node-1')],
    ]);
    try {
      const leaderId = await eventually(async () => {
        const h = await holder();
        expect(['agent-a', 'agent-b']).toContain(h);
        return h;
      }, 60_000, 250);
      const followerId = leaderId === 'agent-a' ? 'agent-b' : 'agent-a';
      await deploy('one', 'kwok-node-0');
      await eventually(async () => {
        expect((await events()).filter((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toHaveLength(2);
        await expectStoredOnce();
      }, 90_000, 500);

      // The leader dies without a word (OOM kill, node loss): its Lease stays until it expires (15 s).
      const killedAt = Date.now();
      await agents.get(leaderId)!.kill();
      expect(await holder()).toBe(leaderId);
      await eventually(async () => expect(await holder()).toBe(followerId), 60_000, 250);
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(10_000);

      // The new leader collects: the next Deployment's events arrive, the first one's are not stored again.
      await deploy('two', 'kwok-node-1');
      await eventually(async () => {
        expect((await events()).filter((r) => r.attributes['k8s.event.reason'] === 'Scheduled')).toHaveLength(4);
        await expectStoredOnce();
      }, 90_000, 500);
      await c.kubectl(['scale', '-n', ns, 'deployment/one', '--replicas=1']);
      await eventually(async () => {
        expect((await events()).some((r) => r.attributes['k8s.event.reason'] === 'SuccessfulDelete')).toBe(true);
        await expectStoredOnce();
      }, 90_000, 500);
      const follower = await (await fetch(`${agents.get(followerId)!.apiUrl}/metrics`)).text();
      expect(follower).toMatch(/crowsnest_agent_leader\{lease="crowsnest-agent-events"\} 1/);
    } finally {
      for (const a of agents.values()) await a.stop();
    }
  }, 300_000);
});
