/**
 * `crowsnest agent --kubernetes` as the DaemonSet runs it, composed: one agent process against the local
 * cluster's real API server (deploy/local/kube.sh, kwok nodes) and a real platform. The parts have their own
 * tests (agent-kube, agent-logs); this one checks they are put together: the pod directory's workload reaches
 * the log records read from a kubelet-style file, the events collector (elected by its Lease) stores the
 * cluster's events through the on-disk queue and the forwarder, and the relay forwards an app's OTLP.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/kafka.ts';
import { kubeSkipReason, useTestCluster } from '../support/kube.ts';
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
    await c.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web', team: 'shop' } },
            spec: { nodeSelector: { 'kubernetes.io/hostname': NODE }, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'main', image: 'example.invalid/web:1' }] },
          },
        },
      },
    });
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
});
