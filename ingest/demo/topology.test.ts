import { describe, expect, it } from 'vitest';
import { seeded, uuid } from './random.ts';
import { NODES, SERVICES, placePods } from './topology.ts';

describe('placePods', () => {
  const pods = placePods(seeded(3));

  it('runs each service\'s replicas, at least six services, on the three nodes', () => {
    expect(new Set(pods.map((p) => p.service)).size).toBeGreaterThanOrEqual(6);
    for (const s of SERVICES) expect(pods.filter((p) => p.service === s.name)).toHaveLength(s.replicas);
    expect(new Set(pods.map((p) => p.resource['k8s.node.name']))).toEqual(new Set(NODES));
  });

  it('gives every pod the Kubernetes resource attributes, names as a Deployment makes them', () => {
    for (const p of pods) {
      expect(p.resource).toMatchObject({
        'service.name': p.service,
        'k8s.deployment.name': p.service,
        'k8s.container.name': p.service,
        'k8s.pod.name': p.name,
        'deployment.environment.name': 'production',
      });
      expect(p.name).toMatch(new RegExp(`^${p.service}-[a-z0-9]{10}-[a-z0-9]{5}$`));
      expect(p.resource['k8s.pod.name']!.startsWith(p.resource['k8s.replicaset.name']!)).toBe(true);
      expect(p.resource['k8s.pod.uid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(p.resource['k8s.namespace.name']).toMatch(/^(web|shop|payments)$/);
    }
    expect(new Set(pods.map((p) => p.name)).size).toBe(pods.length);
  });

  it('is the same for the same seed', () => {
    expect(placePods(seeded(3))).toEqual(pods);
    expect(placePods(seeded(4))).not.toEqual(pods);
    expect(uuid(seeded(1))).toBe(uuid(seeded(1)));
  });
});
