/**
 * prom-client metrics of the agent's Kubernetes parts, registered on the agent's registry. Several components
 * (the pod directory, the events collector, a second collector in a test) may ask for the same metric: the one
 * already registered is returned, since prom-client refuses a name twice.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function watchRestarts(registry: Registry): Counter<'resource' | 'reason'> {
  return counter(
    registry,
    'crowsnest_agent_kube_watch_restarts_total',
    'Kubernetes watches started again, by resource and reason (closed: ended by the server; error: failed, retried after a backoff; expired: 410 Gone, listed again)',
    ['resource', 'reason'],
  );
}
