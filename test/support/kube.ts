/**
 * A real Kubernetes control plane for integration tests, started through the script users run
 * (`deploy/local/kube.sh`): its own data dir and free loopback ports, so a developer's cluster on 6443 is
 * untouched, and fake nodes (kwok) in zones so the real scheduler places pods.
 *
 * One cluster per test file, a namespace per test. A file's cluster is started in its `beforeAll` and
 * destroyed in its `afterAll`: vitest runs each file in its own worker, so sharing one cluster across files
 * would need a global setup in the shared vitest config, and tests that taint nodes or stop the control plane
 * would leak into other files. A start costs ~10 s and ~0.6 GB; files run one at a time (the int project).
 *
 * The first start on a machine builds the binaries (~10 min cold on 2 cores) into a cache outside the clone;
 * every later file and run reuses them, and concurrent builds are serialized by kube.sh's lock. Hence the long
 * `CLUSTER_START_TIMEOUT_MS` given to `beforeAll`, instead of a longer hookTimeout for every int test.
 *
 * Without Go the binaries cannot be built: `kubeSkipReason` says so, and Kubernetes tests use
 * `describe.skipIf(kubeSkipReason !== undefined)` after `warnKubeSkipped()` prints why.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, type V1ContainerPort, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { eventually } from './eventually.ts';
import { freePort } from './kafka.ts';

export const KUBE_SCRIPT = resolve(import.meta.dirname, '../../deploy/local/kube.sh');

/** Enough for a cold build (measured ≈ 10-15 min on 2 cores) plus the start, with margin for a loaded CI machine. */
export const CLUSTER_START_TIMEOUT_MS = 75 * 60_000;

function goMissing(): string | undefined {
  const go = process.env.KUBE_GO ?? 'go';
  const probe = spawnSync(go, ['version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    return `Kubernetes tests skipped: Go ('${go}') was not found, and it builds the local cluster (deploy/local/kube.sh build). Install Go ≥ 1.25 to run them.`;
  }
  return undefined;
}

/** Why Kubernetes tests cannot run here, or undefined when they can (Go is installed). */
export const kubeSkipReason: string | undefined = goMissing();

/** Prints the skip reason, so a skipped Kubernetes test is never silent. */
export function warnKubeSkipped(): void {
  if (kubeSkipReason !== undefined) console.warn(kubeSkipReason);
}

export interface KubeShResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/** Runs kube.sh with `env` (and `input` on its stdin); resolves with its exit code and output (never rejects). */
export function kubeSh(args: string[], env: NodeJS.ProcessEnv, input = '', timeout = CLUSTER_START_TIMEOUT_MS): Promise<KubeShResult> {
  return new Promise((done) => {
    const child = execFile(KUBE_SCRIPT, args, { env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

export interface ClusterOptions {
  /** Fake nodes (KUBE_NODES). @default 3 */
  nodes?: number;
  /** Their zones, assigned round-robin (KUBE_ZONES). @default ['zone-a', 'zone-b', 'zone-c'] */
  zones?: string[];
}

export interface TestCluster {
  dataDir: string;
  kubeconfigPath: string;
  /** The environment kube.sh runs with for this cluster (data dir and ports). */
  env: NodeJS.ProcessEnv;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  objects: KubernetesObjectApi;
  /** kube.sh with this cluster's environment, `input` on its stdin. */
  sh(args: string[], input?: string): Promise<KubeShResult>;
  /** The built kubectl against this cluster; rejects on a non-zero exit. */
  kubectl(args: string[]): Promise<string>;
  /** Creates a namespace of its own for one test: `<prefix>-<random>`. */
  namespace(prefix: string): Promise<string>;
  /** Stops the cluster and deletes its data dir. */
  destroy(): Promise<void>;
}

export interface TestDeploymentOptions {
  replicas: number;
  /** Pins the pods to this node (`kubernetes.io/hostname`); else the scheduler picks. */
  node?: string;
  /** Pod labels beside `app: <name>`. */
  labels?: Record<string, string>;
  /** The container's ports. */
  ports?: V1ContainerPort[];
}

/**
 * A Deployment for the local cluster's fake nodes: `replicas` pods of one container `main`, whose image is never
 * pulled (the nodes run nothing), tolerating every taint.
 */
export function testDeployment(name: string, opts: TestDeploymentOptions): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: opts.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...opts.labels } },
        spec: {
          ...(opts.node === undefined ? {} : { nodeSelector: { 'kubernetes.io/hostname': opts.node } }),
          tolerations: [{ operator: 'Exists' }],
          containers: [{ name: 'main', image: `example.invalid/${name}:1`, ...(opts.ports === undefined ? {} : { ports: opts.ports }) }],
        },
      },
    },
  };
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export async function startTestCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  if (kubeSkipReason !== undefined) throw new Error(kubeSkipReason);
  const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-kube-test-'));
  const [api, etcd, peer, cm, scheduler, kwok] = await distinctFreePorts(6);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBE_DATA_DIR: dataDir,
    KUBE_API_PORT: String(api),
    KUBE_ETCD_PORT: String(etcd),
    KUBE_ETCD_PEER_PORT: String(peer),
    KUBE_CM_PORT: String(cm),
    KUBE_SCHEDULER_PORT: String(scheduler),
    KUBE_KWOK_PORT: String(kwok),
    ...(options.nodes !== undefined ? { KUBE_NODES: String(options.nodes) } : {}),
    ...(options.zones !== undefined ? { KUBE_ZONES: options.zones.join(',') } : {}),
  };
  const sh = (args: string[], input = '') => kubeSh(args, env, input);
  const started = await sh(['start']);
  if (started.code !== 0) {
    await sh(['stop']);
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`kube.sh start failed (${started.code}):\n${started.stderr.slice(-4000)}`);
  }
  const kubeconfigPath = lastLine(started.stdout);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    dataDir,
    kubeconfigPath,
    env,
    kc,
    core,
    apps: kc.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    sh,
    kubectl: async (args) => {
      const r = await sh(['kubectl', ...args]);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    namespace: async (prefix) => {
      const name = `${prefix}-${randomBytes(3).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name } } });
      // Pods are rejected until the controller manager has made the namespace's default service account.
      await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }), 30_000);
      return name;
    },
    destroy: async () => {
      await sh(['stop']);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One cluster for the calling test file: started before its tests (unless Kubernetes tests are skipped, which
 * this says why), destroyed after them. Returns the cluster's getter, for use inside tests.
 */
export function useTestCluster(options: ClusterOptions = {}): () => TestCluster {
  warnKubeSkipped();
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    if (kubeSkipReason !== undefined) return;
    cluster = await startTestCluster(options);
  }, CLUSTER_START_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.destroy();
  }, 120_000);
  return () => {
    if (!cluster) throw new Error('the test cluster is not running (started in beforeAll)');
    return cluster;
  };
}
