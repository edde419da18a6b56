/**
 * The demo's shop: which services run, in which namespace, how many pods each, on which node; and the OTel
 * resource every pod reports (service, version, environment and the Kubernetes attributes the k8sattributes
 * processor of a Collector would add: namespace, pod name and uid, node, deployment, replica set, container).
 *
 *   web        frontend (3 pods)                       HTTP entry point of every request
 *   shop       catalog (2) cart (2) checkout (2)        HTTP services; catalog on PostgreSQL + Redis, cart on Redis
 *              fulfillment (2) notification (1)        the Kafka consumer of `orders`, and what it calls
 *   payments   payment (2)                             calls the external payment provider
 *
 * Pods spread over three nodes. Names follow a Deployment's (`<deployment>-<replica set hash>-<5 chars>`),
 * drawn from the seed, so every run looks like a fresh rollout and a seed gives the same names.
 */
import { type Random, pick, token, uuid } from './random.ts';

export interface ServiceSpec {
  name: string;
  version: string;
  namespace: string;
  replicas: number;
}

export const SERVICES = [
  { name: 'frontend', version: '2.14.1', namespace: 'web', replicas: 3 },
  { name: 'catalog', version: '1.9.0', namespace: 'shop', replicas: 2 },
  { name: 'cart', version: '3.2.4', namespace: 'shop', replicas: 2 },
  { name: 'checkout', version: '1.22.0', namespace: 'shop', replicas: 2 },
  { name: 'payment', version: '0.31.2', namespace: 'payments', replicas: 2 },
  { name: 'fulfillment', version: '1.4.7', namespace: 'shop', replicas: 2 },
  { name: 'notification', version: '0.8.3', namespace: 'shop', replicas: 1 },
] as const satisfies readonly ServiceSpec[];

export type ServiceName = (typeof SERVICES)[number]['name'];

export const NODES = ['demo-worker-1', 'demo-worker-2', 'demo-worker-3'] as const;
export const CLUSTER = 'crowsnest-demo';
export const ENVIRONMENT = 'production';

export interface Pod {
  service: ServiceName;
  name: string;
  /** The pod's resource attributes (string values only, as resources carry them). */
  resource: Readonly<Record<string, string>>;
}

/** Every pod of the shop, each service's replicas spread over the nodes round-robin from a random first node. */
export function placePods(r: Random): Pod[] {
  const pods: Pod[] = [];
  let node = Math.floor(r() * NODES.length);
  for (const s of SERVICES) {
    const replicaSet = `${s.name}-${token(r, 10)}`;
    for (let i = 0; i < s.replicas; i++) {
      const name = `${replicaSet}-${token(r, 5)}`;
      pods.push({
        service: s.name,
        name,
        resource: {
          'service.name': s.name,
          'service.version': s.version,
          'service.namespace': s.namespace,
          'service.instance.id': name,
          // The current semantic-conventions name and the pre-1.27 one that many dashboards still read.
          'deployment.environment.name': ENVIRONMENT,
          'deployment.environment': ENVIRONMENT,
          'k8s.cluster.name': CLUSTER,
          'k8s.namespace.name': s.namespace,
          'k8s.deployment.name': s.name,
          'k8s.replicaset.name': replicaSet,
          'k8s.pod.name': name,
          'k8s.pod.uid': uuid(r),
          'k8s.node.name': NODES[node++ % NODES.length]!,
          'k8s.container.name': s.name,
          'container.image.name': `ghcr.io/crowsnest-demo/${s.name}`,
          'container.image.tag': s.version,
        },
      });
    }
  }
  return pods;
}

/** One pod of `service` (a Kubernetes Service balances requests over them). */
export function podOf(pods: readonly Pod[], service: ServiceName, r: Random): Pod {
  return pick(r, pods.filter((p) => p.service === service));
}
