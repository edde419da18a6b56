/**
 * A pod as the API server sends it (JSON) → the agent's `PodInfo`: OpenTelemetry Kubernetes resource attributes
 * (`k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.node.name`, the workload found through owner
 * references, `k8s.pod.label.<key>` for the labels the operator allowed), its IPs, annotations and ports.
 * Pure functions: the pod directory keeps the state.
 */
import type { PodInfo } from '../core/contracts.ts';
import type { OwnerReference } from './owners.ts';

export interface PodJson {
  metadata?: {
    uid?: string;
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
    resourceVersion?: string;
  };
  spec?: {
    nodeName?: string;
    hostNetwork?: boolean;
    containers?: ContainerJson[];
    initContainers?: (ContainerJson & { restartPolicy?: string })[];
  };
  status?: { phase?: string; podIP?: string; podIPs?: { ip?: string }[] };
}

interface ContainerJson {
  name?: string;
  ports?: { name?: string; containerPort?: number; protocol?: string }[];
}

/**
 * Which labels become `k8s.pod.label.<key>`: exact keys, or prefixes ending in `*` (`app.kubernetes.io/*`).
 * An allow-list, not all labels: each one is a resource attribute on every record of the pod.
 */
export function labelMatcher(allow: readonly string[]): (key: string) => boolean {
  const exact = new Set(allow.filter((a) => !a.endsWith('*')));
  const prefixes = allow.filter((a) => a.endsWith('*')).map((a) => a.slice(0, -1));
  return (key) => exact.has(key) || prefixes.some((p) => key.startsWith(p));
}

/** Dropped from `annotations`: kubectl's copy of the whole manifest, the one annotation that is routinely large. */
const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** The part of a pod the owner lookup depends on: while it is unchanged, the workload found before still holds. */
export function ownerKey(pod: PodJson): string {
  return JSON.stringify((pod.metadata?.ownerReferences ?? []).map((r) => [r.kind, r.name, r.uid, r.controller === true]));
}

export function podIps(pod: PodJson): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** Whether the pod's IPs identify it: not on the node's network, and not finished (a finished pod's IP is free for reuse). */
export function ownsIps(pod: PodJson): boolean {
  const phase = pod.status?.phase;
  return pod.spec?.hostNetwork !== true && phase !== 'Succeeded' && phase !== 'Failed';
}

export function toPodInfo(pod: PodJson, workload: Record<string, string>, labelAllowed: (key: string) => boolean): PodInfo {
  const m = pod.metadata ?? {};
  const uid = m.uid ?? '';
  const namespace = m.namespace ?? '';
  const name = m.name ?? '';
  const nodeName = pod.spec?.nodeName ?? '';
  const resource: Record<string, string> = {
    'k8s.namespace.name': namespace,
    'k8s.pod.name': name,
    'k8s.pod.uid': uid,
  };
  if (nodeName) resource['k8s.node.name'] = nodeName;
  Object.assign(resource, workload);
  for (const [k, v] of Object.entries(m.labels ?? {})) if (labelAllowed(k)) resource[`k8s.pod.label.${k}`] = v;
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.annotations ?? {})) if (!SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const containers = [...(pod.spec?.containers ?? []), ...sidecars].map((c) => ({
    name: c.name ?? '',
    ports: (c.ports ?? [])
      .filter((p) => typeof p.containerPort === 'number')
      .map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), containerPort: p.containerPort!, protocol: p.protocol ?? 'TCP' })),
  }));
  return { uid, namespace, name, nodeName, ips: podIps(pod), resource, annotations, containers };
}
