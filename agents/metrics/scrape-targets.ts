/**
 * Where scrape targets come from: static URLs (`--scrape [job=]url`), this node's pods that ask to be scraped
 * (the `prometheus.io/scrape`, `/port`, `/path`, `/scheme` annotations, read as the common Prometheus
 * "kubernetes-pods" configuration reads them), and the node's kubelet (`/metrics/resource` and `/metrics/cadvisor`
 * over HTTPS with the service-account token).
 *
 * Jobs: a pod target's job is `<namespace>/<workload>` (the owning Deployment, StatefulSet, DaemonSet, Job or
 * CronJob, else the pod), which the conversion splits into `service.namespace` and `service.name`, so a pod's
 * metrics land under the same service as its logs and traces would. The instance is `<ip>:<port>`.
 */
import type { PodInfo } from '../core/contracts.ts';

export interface ScrapeTarget {
  /** Identity of the target across discovery rounds (its URL and origin). */
  key: string;
  source: 'static' | 'pod' | 'kubelet';
  url: URL;
  job: string;
  instance: string;
  resource: Record<string, string>;
  /** Kubelet targets: a file holding the bearer token (re-read each scrape). */
  bearerTokenFile?: string | undefined;
  ca?: Buffer | undefined;
  insecureSkipVerify?: boolean | undefined;
  /** This target's interval and timeout, when not the source's defaults. */
  intervalMs?: number | undefined;
  timeoutMs?: number | undefined;
}

export class TargetSpecError extends Error {
  override name = 'TargetSpecError';
}

/** `http://host:port/path` or `job=http://host:port/path`; the job defaults to `static/<host:port>`. */
export function staticTarget(spec: string, nodeResource: Record<string, string> = {}): ScrapeTarget {
  const eq = spec.indexOf('=');
  const scheme = spec.indexOf('://');
  const named = eq > 0 && (scheme === -1 || eq < scheme);
  const job = named ? spec.slice(0, eq).trim() : '';
  const raw = named ? spec.slice(eq + 1).trim() : spec.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetSpecError(`--scrape "${spec}": not a URL (use http://host:port/metrics or job=http://host:port/metrics)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetSpecError(`--scrape "${spec}": only http and https targets can be scraped`);
  if (url.pathname === '/' && !raw.endsWith('/')) url.pathname = '/metrics';
  const instance = url.host;
  return { key: `static ${url.href}`, source: 'static', url, job: job || `static/${instance}`, instance, resource: { ...nodeResource } };
}

const WORKLOAD_KEYS = ['k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name', 'k8s.cronjob.name', 'k8s.job.name', 'k8s.replicaset.name'];

function workloadOf(pod: PodInfo): string {
  for (const k of WORKLOAD_KEYS) {
    const v = pod.resource[k];
    if (v) return v;
  }
  return pod.name;
}

export interface PodTargetProblem {
  pod: string;
  reason: string;
}

/** Targets of the pods that ask to be scraped; pods that ask but cannot be (no IP, bad port) are reported. */
export function podTargets(pods: readonly PodInfo[]): { targets: ScrapeTarget[]; problems: PodTargetProblem[] } {
  const targets: ScrapeTarget[] = [];
  const problems: PodTargetProblem[] = [];
  for (const pod of pods) {
    const a = pod.annotations;
    if (a['prometheus.io/scrape'] !== 'true') continue;
    const who = `${pod.namespace}/${pod.name}`;
    const ip = pod.ips[0];
    if (!ip) {
      problems.push({ pod: who, reason: 'no pod IP yet' });
      continue;
    }
    const scheme = (a['prometheus.io/scheme'] ?? 'http').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') {
      problems.push({ pod: who, reason: `prometheus.io/scheme "${scheme}" is not http or https` });
      continue;
    }
    let path = a['prometheus.io/path'] ?? '/metrics';
    if (!path.startsWith('/')) path = `/${path}`;
    let ports: number[];
    const annotated = a['prometheus.io/port'];
    if (annotated !== undefined) {
      const port = Number(annotated);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        problems.push({ pod: who, reason: `prometheus.io/port "${annotated}" is not a port` });
        continue;
      }
      ports = [port];
    } else {
      // Without the port annotation every declared TCP port is a target, as Prometheus's pod discovery gives.
      ports = [...new Set(pod.containers.flatMap((c) => c.ports.filter((p) => p.protocol.toUpperCase() === 'TCP').map((p) => p.containerPort)))];
      if (ports.length === 0) {
        problems.push({ pod: who, reason: 'no prometheus.io/port annotation and no declared TCP port' });
        continue;
      }
    }
    const host = ip.includes(':') ? `[${ip}]` : ip;
    for (const port of ports) {
      const url = new URL(`${scheme}://${host}:${port}${path}`);
      targets.push({
        key: `pod ${pod.uid} ${url.href}`,
        source: 'pod',
        url,
        job: `${pod.namespace}/${workloadOf(pod)}`,
        instance: `${host}:${port}`,
        resource: { ...pod.resource },
      });
    }
  }
  return { targets, problems };
}

export interface KubeletOptions {
  /** The node's name (`k8s.node.name`), from the downward API. */
  nodeName: string;
  /** Host to reach this node's kubelet at (the node IP from the downward API). */
  host: string;
  /** @default 10250 */
  port?: number;
  /** @default /var/run/secrets/kubernetes.io/serviceaccount/token */
  tokenFile?: string;
  /** The cluster CA; when absent and not `insecureSkipVerify`, the system's CAs are used. */
  ca?: Buffer;
  /** Kubelet serving certificates are often self-signed (no serverTLSBootstrap). @default false */
  insecureSkipVerify?: boolean;
  /** The kubelet targets' interval (cAdvisor output is large; many scrape it less often). @default the source's */
  intervalMs?: number;
  /** @default the source's */
  timeoutMs?: number;
}

export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The kubelet's resource metrics and cAdvisor endpoints on this node. */
export function kubeletTargets(k: KubeletOptions): ScrapeTarget[] {
  const host = k.host.includes(':') ? `[${k.host}]` : k.host;
  const base = `https://${host}:${k.port ?? 10250}`;
  const common = {
    source: 'kubelet' as const,
    instance: `${host}:${k.port ?? 10250}`,
    resource: { 'k8s.node.name': k.nodeName },
    bearerTokenFile: k.tokenFile ?? SERVICE_ACCOUNT_TOKEN,
    ca: k.ca,
    insecureSkipVerify: k.insecureSkipVerify ?? false,
    intervalMs: k.intervalMs,
    timeoutMs: k.timeoutMs,
  };
  return [
    { ...common, key: `kubelet ${base}/metrics/resource`, url: new URL(`${base}/metrics/resource`), job: 'kubelet' },
    { ...common, key: `kubelet ${base}/metrics/cadvisor`, url: new URL(`${base}/metrics/cadvisor`), job: 'cadvisor' },
  ];
}
