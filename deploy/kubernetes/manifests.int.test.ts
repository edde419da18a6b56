/**
 * The manifests we ship, checked by a real API server (deploy/local/kube.sh): the whole kustomization applied
 * with server-side dry run, so a wrong apiVersion, a field the schema does not have, a bad value or an RBAC
 * object naming a missing kind fails here. The namespace is created for real first (a dry-run namespace does
 * not exist for the namespaced objects of the same request).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { kubeSkipReason, useTestCluster } from '../../test/support/kube.ts';


const dir = import.meta.dirname;
const cluster = useTestCluster();

/** `kind/name` of every object the kustomization lists, as the API server will name them. */
function shippedObjects(): { kind: string; name: string }[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
      .filter((o) => o?.kind !== undefined)
      .map((o) => ({ kind: o!.kind!, name: o!.metadata!.name! })),
  );
}

describe.skipIf(kubeSkipReason !== undefined)('deploy/kubernetes against a real API server', () => {
  it('accepts every object of the kustomization with server-side dry run', async () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.yaml')).length).toBeGreaterThan(1);
    await cluster().kubectl(['apply', '--server-side', '-f', join(dir, 'namespace.yaml')]);
    const out = await cluster().kubectl(['apply', '--server-side', '--dry-run=server', '-k', dir, '-o', 'json']);
    const applied = (JSON.parse(out) as { items: { kind: string; metadata: { name: string; namespace?: string } }[] }).items;
    const key = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;
    expect(applied.map((o) => key({ kind: o.kind, name: o.metadata.name })).sort()).toEqual(shippedObjects().map(key).sort());
    // Cluster-scoped: the namespace and the agent's ClusterRole and its binding.
    const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
    for (const o of applied) if (!clusterScoped.includes(o.kind)) expect(o.metadata.namespace, key({ kind: o.kind, name: o.metadata.name })).toBe('crowsnest');
  });

  it('rejects what the check is for: an unknown apiVersion and an unknown field', async () => {
    const run = (manifest: string) => cluster().sh(['kubectl', 'apply', '--server-side', '--dry-run=server', '-f', '-'], manifest);
    const oldPdb = await run('apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: { name: x, namespace: crowsnest }\nspec: { minAvailable: 1, selector: { matchLabels: { a: b } } }\n');
    expect(oldPdb.code).not.toBe(0);
    expect(oldPdb.stderr).toMatch(/no matches for kind "PodDisruptionBudget" in version "policy\/v1beta1"/);
    const typo = await run('apiVersion: v1\nkind: Service\nmetadata: { name: x, namespace: crowsnest }\nspec: { ports: [{ port: 80, targetPrt: 8080 }] }\n');
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/\.spec\.ports\[port=80,protocol="TCP"\]\.targetPrt: field not declared in schema/);
  });

  it('lets the agent\'s ServiceAccount do what the agent does, and no more', async () => {
    const c = cluster();
    await c.kubectl(['apply', '--server-side', '-f', join(dir, 'namespace.yaml')]);
    // The agent's RBAC objects for real (kustomize puts them in the crowsnest namespace).
    const objects = parseAllDocuments(readFileSync(join(dir, 'agent.yaml'), 'utf8'))
      .map((d) => d.toJS() as { kind: string; metadata: { namespace?: string } })
      .filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind))
      .map((o) => (o.kind.startsWith('Cluster') ? o : { ...o, metadata: { ...o.metadata, namespace: 'crowsnest' } }));
    const applied = await c.sh(['kubectl', 'apply', '--server-side', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n---\n'));
    expect(applied.code, applied.stderr).toBe(0);
    const can = async (...args: string[]) => {
      const r = await c.sh(['kubectl', 'auth', 'can-i', '--as=system:serviceaccount:crowsnest:crowsnest-agent', ...args]);
      return r.stdout.trim();
    };
    const allowed = [
      ['watch', 'pods', '--all-namespaces'],
      ['list', 'pods', '--all-namespaces'],
      ['get', 'replicasets.apps', '-n', 'shop'],
      ['get', 'jobs.batch', '-n', 'shop'],
      ['get', 'deployments.apps', '-n', 'shop'],
      ['watch', 'events.events.k8s.io', '--all-namespaces'],
      ['list', 'events', '--all-namespaces'],
      ['get', 'nodes/metrics'],
      ['get', 'nodes/proxy'],
      ['list', 'namespaces'],
      ['get', 'leases.coordination.k8s.io', '-n', 'crowsnest'],
      ['create', 'leases.coordination.k8s.io', '-n', 'crowsnest'],
      ['update', 'leases.coordination.k8s.io', '-n', 'crowsnest'],
    ];
    for (const a of allowed) expect(await can(...a), a.join(' ')).toBe('yes');
    const denied = [
      ['update', 'leases.coordination.k8s.io', '-n', 'kube-system'],
      ['delete', 'leases.coordination.k8s.io', '-n', 'crowsnest'],
      ['delete', 'pods', '-n', 'shop'],
      ['get', 'secrets', '-n', 'crowsnest'],
      ['create', 'events.events.k8s.io', '-n', 'shop'],
    ];
    for (const a of denied) expect(await can(...a), a.join(' ')).toBe('no');
  });
});
