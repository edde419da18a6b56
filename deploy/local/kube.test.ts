import { describe, expect, it } from 'vitest';
import { SERVICE_PORT, hostServiceObjects, servingCertNames } from './kube.ts';

describe('hostServiceObjects', () => {
  it('routes the Service port 443 to the host port through an FQDN slice for 127.0.0.1 with the same port name', () => {
    const [namespace, service, slice] = hostServiceObjects('monitoring', 'adapter', 6443) as any[];
    expect(namespace).toMatchObject({ kind: 'Namespace', metadata: { name: 'monitoring' } });
    expect(service.spec.selector).toBeUndefined();
    expect(service.spec.ports).toEqual([{ name: 'https', port: SERVICE_PORT, targetPort: 6443, protocol: 'TCP' }]);
    expect(slice).toMatchObject({
      kind: 'EndpointSlice',
      metadata: { namespace: 'monitoring', labels: { 'kubernetes.io/service-name': 'adapter' } },
      addressType: 'FQDN',
      endpoints: [{ addresses: ['127.0.0.1'] }],
      ports: [{ name: 'https', port: 6443 }],
    });
    // The EndpointSlice controller ignores slices another manager owns, and never deletes them.
    expect(slice.metadata.labels['endpointslice.kubernetes.io/managed-by']).not.toBe('endpointslice-controller.k8s.io');
  });

  it('rejects names that are not DNS labels and ports out of range', () => {
    expect(() => hostServiceObjects('Monitoring', 'adapter', 6443)).toThrow(/DNS labels/);
    expect(() => hostServiceObjects('monitoring', 'adapter', 0)).toThrow(/not a port/);
  });
});

describe('servingCertNames', () => {
  it('names the Service the way the API server dials it, first', () => {
    expect(servingCertNames('monitoring', 'adapter').split(',')).toEqual([
      'DNS:adapter.monitoring.svc',
      'DNS:adapter.monitoring.svc.cluster.local',
      'DNS:adapter.monitoring',
      'DNS:adapter',
      'DNS:localhost',
      'IP:127.0.0.1',
    ]);
  });
});
