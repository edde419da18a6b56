/**
 * Kubernetes events as the platform stored them (the agent's events collector writes each as a log record with
 * EventName `k8s.event`), read back through the logs API: what the events tests assert on.
 */
import { expect } from 'vitest';
import { type TestPlatform, getJson } from './platform.ts';

export interface StoredEvent {
  body: string;
  eventName: string;
  severityText: string;
  severityNumber: number;
  attributes: Record<string, string>;
  resource: { attributes: Record<string, string> };
}

/** Every event stored for namespace `ns` (the last two hours), once the platform has inserted what it received. */
export async function storedEvents(platform: TestPlatform, ns: string): Promise<StoredEvent[]> {
  await platform.inserted();
  const u = new URL(`${platform.apiUrl}/api/v1/logs`);
  u.searchParams.set('start', String(Date.now() - 2 * 3600_000));
  u.searchParams.set('end', String(Date.now() + 3600_000));
  u.searchParams.set('limit', '1000');
  u.searchParams.append('attr', `k8s.namespace.name=${ns}`);
  const { status, body } = await getJson<{ logs: StoredEvent[] }>(u.toString());
  expect(status).toBe(200);
  return body.logs.filter((l) => l.eventName === 'k8s.event');
}

/** One occurrence update of one event: (uid, count, last time). Stored twice means a duplicate. */
export const occurrenceKey = (r: StoredEvent): string => `${r.attributes['k8s.event.uid']}|${r.attributes['k8s.event.count']}|${r.attributes['k8s.event.last_time']}`;
