import { silentLogger } from '#core/log.ts';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeApi } from './api.ts';
import { LruTtl, OwnerResolver, controllerOf } from './owners.ts';
import { labelMatcher, toPodInfo } from './pod-info.ts';

describe('LruTtl', () => {
  it('evicts the least recently used beyond its bound, and entries past their TTL', () => {
    let now = 0;
    const c = new LruTtl<number>(2, () => now);
    c.set('a', 1, 100);
    c.set('b', 2, 100);
    expect(c.get('a')).toBe(1); // a is now the newest
    c.set('c', 3, 100);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
    now = 100;
    expect(c.get('a')).toBeUndefined();
  });
});

/** A test double of the API server's GET (the real one is exercised in test/e2e/agent-kube.int.test.ts). */
function fakeApi(objects: Record<string, unknown>, calls: string[]): KubeApi {
  const get = <T>(path: string): Promise<T> => {
    calls.push(path);
    if (path in objects) return Promise.resolve(objects[path] as T);
    return Promise.reject(new KubeApiError(404, 'NotFound', 'not found'));
  };
  return { get, getMetadata: get, send: () => Promise.reject(new Error('no')), watch: () => Promise.reject(new Error('no')) };
}

describe('OwnerResolver.workload', () => {
  const objects = {
    '/apis/apps/v1/namespaces/shop/replicasets/web-5d': { metadata: { ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'd1', controller: true }] } },
    '/apis/batch/v1/namespaces/shop/jobs/nightly-29': { metadata: { ownerReferences: [{ kind: 'CronJob', name: 'nightly', uid: 'c1', controller: true }] } },
  };
  it.each([
    ['Deployment through its ReplicaSet', [{ kind: 'ReplicaSet', name: 'web-5d', uid: 'r1', controller: true }], { 'k8s.replicaset.name': 'web-5d', 'k8s.replicaset.uid': 'r1', 'k8s.deployment.name': 'web', 'k8s.deployment.uid': 'd1' }],
    ['CronJob through its Job', [{ kind: 'Job', name: 'nightly-29', uid: 'j1', controller: true }], { 'k8s.job.name': 'nightly-29', 'k8s.job.uid': 'j1', 'k8s.cronjob.name': 'nightly', 'k8s.cronjob.uid': 'c1' }],
    ['StatefulSet without a lookup', [{ kind: 'StatefulSet', name: 'db', uid: 's1', controller: true }], { 'k8s.statefulset.name': 'db', 'k8s.statefulset.uid': 's1' }],
    ['the controller among several owners', [{ kind: 'ConfigMap', name: 'x', uid: 'x' }, { kind: 'DaemonSet', name: 'agent', uid: 'ds', controller: true }], { 'k8s.daemonset.name': 'agent', 'k8s.daemonset.uid': 'ds' }],
    ['a ReplicaSet whose owner is gone', [{ kind: 'ReplicaSet', name: 'orphan', uid: 'r2', controller: true }], { 'k8s.replicaset.name': 'orphan', 'k8s.replicaset.uid': 'r2' }],
    ['a custom controller', [{ kind: 'Rollout', name: 'r', uid: 'x', controller: true }], {}],
    ['no owner', [], {}],
  ])('%s', async (_name, refs, expected) => {
    const resolver = new OwnerResolver({ api: fakeApi(objects, []), registry: new Registry(), log: silentLogger() });
    expect(await resolver.workload('shop', refs)).toEqual({ attributes: expected, complete: true });
  });

  it('reads a ReplicaSet once for its many pods, concurrent lookups included', async () => {
    const calls: string[] = [];
    const resolver = new OwnerResolver({ api: fakeApi(objects, calls), registry: new Registry(), log: silentLogger() });
    const ref = [{ kind: 'ReplicaSet', name: 'web-5d', uid: 'r1', controller: true }];
    await Promise.all([resolver.workload('shop', ref), resolver.workload('shop', ref)]);
    await resolver.workload('shop', ref);
    expect(calls).toHaveLength(1);
  });

  it('says a failed lookup is incomplete and does not cache it', async () => {
    const calls: string[] = [];
    const api = fakeApi({}, calls);
    api.getMetadata = <T>(path: string): Promise<T> => {
      calls.push(path);
      return Promise.reject(new KubeApiError(0, 'ConnectionFailed', 'down'));
    };
    const resolver = new OwnerResolver({ api, registry: new Registry(), log: silentLogger() });
    const ref = [{ kind: 'ReplicaSet', name: 'web-5d', uid: 'r1', controller: true }];
    expect(await resolver.workload('shop', ref)).toEqual({ attributes: { 'k8s.replicaset.name': 'web-5d', 'k8s.replicaset.uid': 'r1' }, complete: false });
    await resolver.workload('shop', ref);
    expect(calls).toHaveLength(2);
  });

  it('picks the controller owner', () => {
    expect(controllerOf([{ kind: 'A', name: 'a', uid: '1' }, { kind: 'B', name: 'b', uid: '2', controller: true }])?.kind).toBe('B');
    expect(controllerOf(undefined)).toBeUndefined();
  });
});

describe('toPodInfo', () => {
  it('keeps allowed labels (exact or prefix), drops the last-applied annotation, takes sidecar ports', () => {
    const info = toPodInfo(
      {
        metadata: { uid: 'u', name: 'p', namespace: 'n', labels: { app: 'a', 'app.kubernetes.io/name': 'x', secret: 's' }, annotations: { 'prometheus.io/scrape': 'true', 'kubectl.kubernetes.io/last-applied-configuration': '{…}' } },
        spec: { nodeName: 'node-1', containers: [{ name: 'main', ports: [{ containerPort: 80 }] }], initContainers: [{ name: 'init' }, { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'admin', containerPort: 15000, protocol: 'TCP' }] }] },
        status: { podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }] },
      },
      { 'k8s.deployment.name': 'd' },
      labelMatcher(['app', 'app.kubernetes.io/*']),
    );
    expect(info.resource).toEqual({
      'k8s.namespace.name': 'n',
      'k8s.pod.name': 'p',
      'k8s.pod.uid': 'u',
      'k8s.node.name': 'node-1',
      'k8s.deployment.name': 'd',
      'k8s.pod.label.app': 'a',
      'k8s.pod.label.app.kubernetes.io/name': 'x',
    });
    expect(info.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(info.ips).toEqual(['10.0.0.5', 'fd00::5']);
    expect(info.containers).toEqual([
      { name: 'main', ports: [{ containerPort: 80, protocol: 'TCP' }] },
      { name: 'proxy', ports: [{ name: 'admin', containerPort: 15000, protocol: 'TCP' }] },
    ]);
  });
});
