import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_START_TIMEOUT_MS, kubeSkipReason, lastLine, startTestCluster, warnKubeSkipped, type TestCluster } from '../../test/support/kube.ts';

// The script's own contract: what start prints, idempotence, status codes, kubectl, expose, and a stop that
// signals only the processes this data dir started.
warnKubeSkipped();

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];
let cluster: TestCluster;
let bystander: ChildProcess | undefined;

beforeAll(async () => {
  if (kubeSkipReason !== undefined) return;
  cluster = await startTestCluster();
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  bystander?.kill('SIGKILL');
  await cluster?.destroy();
}, 120_000);

const pids = () => COMPONENTS.map((c) => readFileSync(join(cluster.dataDir, 'run', `${c}.pid`), 'utf8').trim());

describe.skipIf(kubeSkipReason !== undefined)('deploy/local/kube.sh', () => {
  it('prints the kubeconfig path as the last stdout line of start, and reports running with exit code 0', async () => {
    expect(cluster.kubeconfigPath).toBe(join(cluster.dataDir, 'kubeconfig'));
    const status = await cluster.sh(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`running https://127.0.0.1:${cluster.env.KUBE_API_PORT}`);
  });

  it('leaves a running cluster alone when started again', async () => {
    const before = pids();
    const again = await cluster.sh(['start']);
    expect(again.code).toBe(0);
    expect(lastLine(again.stdout)).toBe(cluster.kubeconfigPath);
    expect(again.stderr).toContain('already running');
    expect(pids()).toEqual(before);
  });

  it('serves the stamped Kubernetes version and the default nodes: 3 zones, hostname labels, allocatable capacity', async () => {
    const version = JSON.parse(await cluster.kubectl(['get', '--raw', '/version']));
    expect(version.gitVersion).toBe('v1.35.4');
    const nodes = JSON.parse(await cluster.kubectl(['get', 'nodes', '-o', 'json'])).items;
    expect(nodes).toHaveLength(3);
    for (const n of nodes) {
      expect(n.metadata.labels['kubernetes.io/hostname']).toBe(n.metadata.name);
      expect(n.status.allocatable).toMatchObject({ cpu: '4', memory: '16Gi', pods: '110' });
      expect(n.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
    }
    expect(nodes.map((n: any) => n.metadata.labels['topology.kubernetes.io/zone']).sort()).toEqual(['zone-a', 'zone-b', 'zone-c']);
  });

  it('exposes a host port as a Service with an FQDN EndpointSlice and prints a serving certificate signed by the cluster CA', async () => {
    const exposed = await cluster.sh(['expose', 'hostapps/adapter', '7443']);
    expect(exposed.code, exposed.stderr).toBe(0);
    const [cert, key] = lastLine(exposed.stdout).split(' ');
    expect(cert).toBe(join(cluster.dataDir, 'expose', 'hostapps', 'adapter', 'tls.crt'));
    expect(existsSync(key!)).toBe(true);
    const service = JSON.parse(await cluster.kubectl(['get', 'service', 'adapter', '-n', 'hostapps', '-o', 'json']));
    expect(service.spec.selector).toBeUndefined();
    expect(service.spec.ports).toEqual([expect.objectContaining({ name: 'https', port: 443, targetPort: 7443 })]);
    const slices = JSON.parse(await cluster.kubectl(['get', 'endpointslices', '-n', 'hostapps', '-l', 'kubernetes.io/service-name=adapter', '-o', 'json'])).items;
    expect(slices).toHaveLength(1);
    expect(slices[0]).toMatchObject({ addressType: 'FQDN', endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ name: 'https', port: 7443 }] });
    const { X509Certificate } = await import('node:crypto');
    const x509 = new X509Certificate(readFileSync(cert!));
    expect(x509.subjectAltName).toContain('DNS:adapter.hostapps.svc');
    expect(x509.verify(new X509Certificate(readFileSync(join(cluster.dataDir, 'pki', 'ca.crt'))).publicKey)).toBe(true);
    // Again: idempotent, same paths.
    const again = await cluster.sh(['expose', 'hostapps/adapter', '7443']);
    expect(lastLine(again.stdout)).toBe(lastLine(exposed.stdout));
  });

  it('stops only the processes it started: a PID file naming another process is not signalled', async () => {
    const stop = await cluster.sh(['stop']);
    expect(stop.code).toBe(0);
    const status = await cluster.sh(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^stopped /);

    // As after a crash and PID reuse: the PID file names a process that is not this cluster's API server.
    bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    writeFileSync(join(cluster.dataDir, 'run', 'kube-apiserver.pid'), `${bystander.pid}\n`);
    const again = await cluster.sh(['stop']);
    expect(again.code).toBe(0);
    expect(bystander.exitCode).toBeNull();
    expect(() => process.kill(bystander!.pid!, 0)).not.toThrow();
    expect((await cluster.sh(['status'])).code).toBe(3);
  });

  it('starts again on the same data (the namespace exposed before is still there), then refuses to wipe while running', async () => {
    const started = await cluster.sh(['start']);
    expect(started.code, started.stderr).toBe(0);
    expect(lastLine(started.stdout)).toBe(cluster.kubeconfigPath);
    expect(await cluster.kubectl(['get', 'namespace', 'hostapps', '-o', 'name'])).toBe('namespace/hostapps\n');
    const wipe = await cluster.sh(['wipe']);
    expect(wipe.code).not.toBe(0);
    expect(wipe.stderr).toContain('stop it before wiping');
  });
});
