/**
 * Makes a process on this machine reachable from the local Kubernetes cluster (`deploy/local/kube.sh`), the
 * way `kube.sh expose NAMESPACE/SERVICE PORT` does: an aggregated API server (the metrics adapter), a webhook.
 *
 * The API server cannot route to loopback through ordinary endpoints (Endpoints and IPv4 EndpointSlices reject
 * 127.0.0.1), but it accepts an FQDN EndpointSlice whose address is "127.0.0.1", and with
 * `--enable-aggregator-routing` it dials a Service's endpoints. So: a Service without a selector whose port 443
 * (the default port of APIService and webhook service references) shares the name `https` with the slice's port,
 * which is the process's port; and a serving certificate for `<service>.<namespace>.svc` signed by the cluster
 * CA, which then goes into the `caBundle` of the APIService or webhook.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

const run = promisify(execFile);

/** The field manager of the objects written here (server-side apply), and the slice's `managed-by` label. */
export const FIELD_MANAGER = 'crowsnest-local-kube';
/** The Service port clients name: the default of APIService and webhook `service.port`. */
export const SERVICE_PORT = 443;

export interface ClusterCa {
  certPath: string;
  keyPath: string;
}

/** The CA of a cluster started by kube.sh with this data dir (`KUBE_DATA_DIR`). */
export function clusterCa(dataDir: string): ClusterCa {
  return { certPath: join(dataDir, 'pki', 'ca.crt'), keyPath: join(dataDir, 'pki', 'ca.key') };
}

export interface ExposeOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  service: string;
  /** The port the process listens on, on 127.0.0.1. */
  port: number;
  /** Signs the serving certificate: the cluster CA (see `clusterCa`). */
  ca: ClusterCa;
  /** Where `tls.crt` and `tls.key` are written (created if missing). */
  outDir: string;
}

export interface ExposedService {
  /** `<service>.<namespace>.svc`: the name the API server checks the serving certificate against. */
  host: string;
  certPath: string;
  keyPath: string;
  /** The cluster CA, base64 PEM, as APIService and webhook `caBundle` fields take it. */
  caBundle: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The Service and EndpointSlice that route `<namespace>/<service>:443` to 127.0.0.1:`port`. */
export function hostServiceObjects(namespace: string, service: string, port: number): KubernetesObject[] {
  if (!DNS_LABEL.test(namespace) || !DNS_LABEL.test(service)) throw new Error(`not DNS labels: ${namespace}/${service}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a port: ${port}`);
  const service_ = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace, labels: { 'app.kubernetes.io/managed-by': FIELD_MANAGER } },
    spec: { ports: [{ name: 'https', port: SERVICE_PORT, targetPort: port, protocol: 'TCP' }] },
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-host`,
      namespace,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': `crowsnest.local-${FIELD_MANAGER}` },
    },
    addressType: 'FQDN',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  return [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, service_, slice];
}

/** The subjectAltName of the serving certificate: every name a client of the Service may use, and loopback. */
export function servingCertNames(namespace: string, service: string): string {
  const names = [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, `${service}.${namespace}`, service, 'localhost'];
  return [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
}

/** Writes a key and a serving certificate signed by `ca` (ECDSA P-256, serverAuth), like kube.sh's sign_cert. */
export async function writeServingCert(ca: ClusterCa, subjectAltName: string, commonName: string, outDir: string): Promise<{ certPath: string; keyPath: string }> {
  await mkdir(outDir, { recursive: true });
  const keyPath = join(outDir, 'tls.key');
  const certPath = join(outDir, 'tls.crt');
  const csrPath = join(outDir, 'tls.csr');
  const extPath = join(outDir, 'tls.ext');
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  await run('openssl', ['req', '-new', '-key', keyPath, '-subj', `/CN=${commonName}`, '-out', csrPath]);
  await writeFile(
    extPath,
    ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', `subjectAltName=${subjectAltName}`, ''].join('\n'),
  );
  const { stdout: serial } = await run('openssl', ['rand', '-hex', '16']);
  await run('openssl', ['x509', '-req', '-in', csrPath, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${serial.trim()}`, '-days', '825', '-sha256', '-extfile', extPath, '-out', certPath]);
  await rm(csrPath, { force: true });
  await rm(extPath, { force: true });
  return { certPath, keyPath };
}

/**
 * Registers 127.0.0.1:`port` as Service `namespace/service` (port 443) and writes its serving certificate.
 * Idempotent: objects are server-side applied, the certificate is made anew each call.
 */
export async function exposeHostProcess(options: ExposeOptions): Promise<ExposedService> {
  const { kubeConfig, namespace, service, port, ca, outDir } = options;
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const object of hostServiceObjects(namespace, service, port)) {
    await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
  const host = `${service}.${namespace}.svc`;
  const { certPath, keyPath } = await writeServingCert(ca, servingCertNames(namespace, service), host, outDir);
  const caBundle = (await readFile(ca.certPath)).toString('base64');
  return { host, certPath, keyPath, caBundle };
}
