/**
 * Issue 13, "a restart never stores an event update twice", at the one point that used to break it: a `kill -9`
 * between the on-disk queue's fsync of a batch of events and the events collector's own state file.
 *
 * A child process runs the agent's events path as role.ts composes it (EventsCollector → DiskQueue → HttpSink →
 * the real platform) against the local cluster's real API server, and kills itself with SIGKILL from the
 * collector's `onBatchQueued` hook: the batch is durable in the queue, its state file not yet written. Then the
 * collector is started again on the same data dir (here, in the test process) and the stored rows are counted:
 * every occurrence update the API server holds is stored once.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { EventsCollector } from '../../agents/events/collector.ts';
import { STATE_FILE } from '../../agents/events/state.ts';
import { HttpSink } from '../../agents/forward/http-sink.ts';
import { createKubeApi } from '../../agents/kube/api.ts';
import { DiskQueue } from '../../agents/queue/disk-queue.ts';
import { eventually } from '../support/eventually.ts';
import { kubeSkipReason, testDeployment, useTestCluster, warnKubeSkipped } from '../support/kube.ts';
import { type TestPlatform, startTestPlatform } from '../support/platform.ts';
import { occurrenceKey, storedEvents as storedAt } from '../support/stored-events.ts';

warnKubeSkipped();
const ROOT = resolve(import.meta.dirname, '../..');
const cluster = useTestCluster({ nodes: 1 });
const tmp = mkdtempSync(join(tmpdir(), 'crowsnest-agent-events-crash-'));
let platform: TestPlatform;
beforeAll(async () => {
  if (kubeSkipReason === undefined) platform = await startTestPlatform();
}, 120_000);
afterAll(async () => {
  await platform?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const LEASE = { leaseNamespace: 'default', leaseName: 'events-crash', leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500, batchMaxAgeMs: 200, batchMaxEvents: 5000 };

/**
 * The child: the agent's events path, killing itself (SIGKILL, no cleanup of any kind) once the first batch
 * holding events is durable in the queue. It says so on stderr first, synchronously.
 */
const CHILD = `
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { silentLogger } from './ingest/core/log.ts';
import { EventsCollector } from './agents/events/collector.ts';
import { HttpSink } from './agents/forward/http-sink.ts';
import { createKubeApi } from './agents/kube/api.ts';
import { DiskQueue } from './agents/queue/disk-queue.ts';
const o = JSON.parse(process.env.CROWSNEST_TEST_CHILD);
const kc = new KubeConfig();
kc.loadFromFile(o.kubeconfig);
const registry = new Registry();
const sink = new HttpSink({ endpoint: o.endpoint, log: silentLogger(), registry });
const queue = await DiskQueue.open({ dir: join(o.dataDir, 'queue'), sink, log: silentLogger(), registry });
queue.start();
new EventsCollector({
  ...o.lease,
  api: createKubeApi(kc),
  queue,
  registry,
  log: silentLogger(),
  dataDir: join(o.dataDir, 'events'),
  identity: 'crash-child',
  onBatchQueued: (events) => {
    writeSync(2, 'queued ' + events + ' events; killing myself\\n');
    process.kill(process.pid, 'SIGKILL');
  },
}).start();
`;

function runChild(env: Record<string, unknown>): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx/esm', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, CROWSNEST_TEST_CHILD: JSON.stringify(env) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', fail);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      done({ signal, stderr });
    });
  });
}

const storedEvents = (ns: string) => storedAt(platform, ns);

describe.skipIf(kubeSkipReason !== undefined)('events collector killed between the queue and its state file', () => {
  it('stores every event update once after a kill -9 right after the batch was queued', async () => {
    const c = cluster();
    const ns = await c.namespace('crash');
    await c.apps.createNamespacedDeployment({ namespace: ns, body: testDeployment('web', { replicas: 3 }) });
    // The Deployment's events exist before the child lists them, so its first batch holds them.
    const apiKeys = async () => ((await c.objects.list('events.k8s.io/v1', 'Event', ns)).items as any[]).map((e) => `${e.metadata.uid}|${e.series?.count ?? e.deprecatedCount ?? 1}`);
    await eventually(async () => {
      const reasons = ((await c.objects.list('events.k8s.io/v1', 'Event', ns)).items as any[]).map((e) => e.reason);
      expect(reasons.filter((r) => r === 'Scheduled')).toHaveLength(3);
      expect(reasons).toEqual(expect.arrayContaining(['ScalingReplicaSet', 'SuccessfulCreate']));
    }, 60_000, 300);
    const expected = await apiKeys();

    const dataDir = join(tmp, 'agent');
    const child = await runChild({ kubeconfig: c.kubeconfigPath, endpoint: platform.otlpHttpUrl, dataDir, lease: LEASE });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(child.stderr).toMatch(/queued \d+ events; killing myself/);
    // Killed at the point: the batch is in the queue, the state file says nothing of it.
    const stateFile = join(dataDir, 'events', STATE_FILE);
    if (existsSync(stateFile)) expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { seen: unknown[] }).seen).toEqual([]);

    // The agent restarted: same data dir, same identity (its own lease is still held by it, so it leads at once
    // or once the lease expired).
    const registry = new Registry();
    const sink = new HttpSink({ endpoint: platform.otlpHttpUrl, log: silentLogger(), registry, maxRetryDelayMs: 500 });
    const queue = await DiskQueue.open({ dir: join(dataDir, 'queue'), sink, log: silentLogger(), registry });
    queue.start();
    const collector = new EventsCollector({ ...LEASE, api: createKubeApi(c.kc), queue, registry, log: silentLogger(), dataDir: join(dataDir, 'events'), identity: 'crash-child' });
    collector.start();
    try {
      await eventually(() => expect(collector.isLeader).toBe(true), 30_000, 200);
      // The killed process's batch is delivered by the queue; more events come after the restart.
      await c.kubectl(['scale', '-n', ns, 'deployment/web', '--replicas=1']);
      await eventually(async () => {
        const stored = new Set((await storedEvents(ns)).map((r) => `${r.attributes['k8s.event.uid']}|${r.attributes['k8s.event.count']}`));
        for (const k of [...expected, ...(await apiKeys())]) expect(stored).toContain(k);
        expect((await storedEvents(ns)).some((r) => r.attributes['k8s.event.reason'] === 'SuccessfulDelete')).toBe(true);
      }, 60_000, 500);
      // A few more flushes, so a second copy would have had time to arrive.
      await new Promise((r) => setTimeout(r, 4 * LEASE.batchMaxAgeMs));
      await eventually(() => expect(queue.records).toBe(0), 30_000, 200);
      const keys = (await storedEvents(ns)).map(occurrenceKey);
      expect(keys.length).toBeGreaterThanOrEqual(expected.length);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    } finally {
      await collector.stop();
      await queue.close();
      sink.close();
    }
  }, 180_000);
});
