import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { ApiregistrationV1Api, CustomObjectsApi, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.ts';
import { freePort } from '../../test/support/kafka.ts';
import { kubeSkipReason, useTestCluster } from '../../test/support/kube.ts';
import { clusterCa, exposeHostProcess } from './kube.ts';

// The real scheduler, controllers and aggregation layer of a cluster started by deploy/local/kube.sh, with kwok
// playing the kubelets of 3 fake nodes in 3 zones.

const cluster = useTestCluster();

const ZONE = 'topology.kubernetes.io/zone';
const ready = (p: V1Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe.skipIf(kubeSkipReason !== undefined)('local Kubernetes cluster (deploy/local/kube.sh)', () => {
  it('spreads a Deployment one pod per zone, evicts pods from a NoExecute node, and records the events', async () => {
    const namespace = await cluster().namespace('spread');
    const labels = { app: 'web' };
    await cluster().apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }],
              containers: [{ name: 'web', image: 'example.invalid/web:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
            },
          },
        },
      },
    });
    const nodes = (await cluster().core.listNode()).items;
    const zoneOf = new Map(nodes.map((n) => [n.metadata!.name!, n.metadata!.labels![ZONE]!]));
    expect([...zoneOf.values()].sort()).toEqual(['zone-a', 'zone-b', 'zone-c']);

    const placed = await eventually(async () => {
      const pods = (await cluster().core.listNamespacedPod({ namespace })).items;
      expect(pods).toHaveLength(3);
      for (const p of pods) expect(ready(p), `${p.metadata?.name} ${p.status?.phase}`).toBe(true);
      return pods;
    }, 60_000);
    expect(placed.map((p) => zoneOf.get(p.spec!.nodeName!)).sort()).toEqual(['zone-a', 'zone-b', 'zone-c']);

    // Taint the node of one pod NoExecute: the taint-eviction controller deletes that pod (no toleration), the
    // ReplicaSet makes a replacement, and the zone spread (the tainted zone still counts, nodeTaintsPolicy
    // Ignore) leaves it nowhere to go: Pending, Unschedulable.
    const victim = placed[0]!;
    const tainted = victim.spec!.nodeName!;
    await cluster().kubectl(['taint', 'node', tainted, 'crowsnest.test/drain=true:NoExecute']);
    const after = await eventually(async () => {
      const pods = (await cluster().core.listNamespacedPod({ namespace })).items;
      expect(pods.map((p) => p.metadata!.name)).not.toContain(victim.metadata!.name);
      expect(pods).toHaveLength(3);
      const pending = pods.filter((p) => p.status?.phase === 'Pending');
      expect(pending).toHaveLength(1);
      expect(pending[0]!.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
      return pods;
    }, 60_000);
    expect(after.filter((p) => p.spec?.nodeName === tainted)).toEqual([]);
    expect(after.filter(ready)).toHaveLength(2);

    const events = await eventually(async () => {
      const list: CoreV1Event[] = (await cluster().core.listNamespacedEvent({ namespace })).items;
      const seen = new Set(list.map((e) => `${e.reportingComponent || e.source?.component}/${e.reason}`));
      for (const want of [
        'deployment-controller/ScalingReplicaSet',
        'replicaset-controller/SuccessfulCreate',
        'default-scheduler/Scheduled',
        'default-scheduler/FailedScheduling',
        'taint-eviction-controller/TaintManagerEviction',
      ]) {
        expect([...seen]).toContain(want);
      }
      return list;
    }, 30_000);
    const failed = events.find((e) => e.reason === 'FailedScheduling');
    expect(failed?.message).toMatch(/untolerated taint|topology spread/);
    await cluster().kubectl(['taint', 'node', tainted, 'crowsnest.test/drain-']);
  });

  describe('an aggregated API served by a process on this machine', () => {
    let server: Server | undefined;
    afterAll(() => {
      server?.close();
    });

    it('is reached through the API server with the client library, authenticated by the front-proxy certificate', async () => {
      const namespace = await cluster().namespace('aggregated');
      const port = await freePort();
      const exposed = await exposeHostProcess({
        kubeConfig: cluster().kc,
        namespace,
        service: 'greeter',
        port,
        ca: clusterCa(cluster().dataDir),
        outDir: join(cluster().dataDir, 'expose', namespace, 'greeter'),
      });
      expect(exposed.host).toBe(`greeter.${namespace}.svc`);

      // The tiny extension API server: one group, one read-only resource. It accepts only the aggregator's
      // front-proxy client certificate and greets the user the API server names in X-Remote-User.
      const group = 'greetings.crowsnest.test';
      const seen: string[] = [];
      server = createServer(
        {
          cert: readFileSync(exposed.certPath),
          key: readFileSync(exposed.keyPath),
          ca: readFileSync(join(cluster().dataDir, 'pki', 'front-proxy-ca.crt')),
          requestCert: true,
          rejectUnauthorized: false,
        },
        (req, res) => {
          const socket = req.socket as TLSSocket;
          const url = new URL(req.url ?? '/', 'https://localhost');
          seen.push(url.pathname);
          const reply = (status: number, body: unknown) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
          };
          if (!socket.authorized || socket.getPeerCertificate().subject?.CN !== 'front-proxy-client') {
            reply(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 401, reason: 'Unauthorized' });
            return;
          }
          const parts = url.pathname.split('/').filter(Boolean);
          if (url.pathname === `/apis/${group}/v1`) {
            reply(200, {
              kind: 'APIResourceList',
              apiVersion: 'v1',
              groupVersion: `${group}/v1`,
              resources: [{ name: 'greetings', singularName: 'greeting', namespaced: true, kind: 'Greeting', verbs: ['get'] }],
            });
          } else if (url.pathname === '/apis' || url.pathname === `/apis/${group}`) {
            const g = { name: group, versions: [{ groupVersion: `${group}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${group}/v1`, version: 'v1' } };
            reply(200, url.pathname === '/apis' ? { kind: 'APIGroupList', apiVersion: 'v1', groups: [g] } : { kind: 'APIGroup', apiVersion: 'v1', ...g });
          } else if (parts.length === 7 && parts[3] === 'namespaces' && parts[5] === 'greetings') {
            reply(200, {
              apiVersion: `${group}/v1`,
              kind: 'Greeting',
              metadata: { name: parts[6], namespace: parts[4] },
              message: `hello ${String(req.headers['x-remote-user'])}`,
            });
          } else {
            reply(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
          }
        },
      );
      await new Promise<void>((done) => server!.listen(port, '127.0.0.1', done));

      const registration = cluster().kc.makeApiClient(ApiregistrationV1Api);
      await registration.createAPIService({
        body: {
          metadata: { name: `v1.${group}` },
          spec: { group, version: 'v1', service: { namespace, name: 'greeter' }, caBundle: exposed.caBundle, groupPriorityMinimum: 1000, versionPriority: 15 },
        },
      });
      await eventually(async () => {
        const status = (await registration.readAPIService({ name: `v1.${group}` })).status;
        expect(status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'True' });
      }, 60_000);

      const custom = cluster().kc.makeApiClient(CustomObjectsApi);
      const greeting = await custom.getNamespacedCustomObject({ group, version: 'v1', namespace, plural: 'greetings', name: 'world' });
      expect(greeting).toMatchObject({ kind: 'Greeting', metadata: { name: 'world', namespace }, message: 'hello crowsnest-admin' });
      expect(seen).toContain(`/apis/${group}/v1/namespaces/${namespace}/greetings/world`);
    });
  });
});
