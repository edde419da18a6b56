/**
 * Issue 13, container logs end to end: `crowsnest agent` tails CRI log files written by this test in kubelet's
 * /var/log/pods layout and forwards them to a real platform (`crowsnest start`, embedded chDB), while the test
 * does what kills collectors:
 *
 * - 10 containers write at once, stdout and stderr interleaved, Java-style stack traces on stderr (a multiline
 *   rule joins them per stream) between stdout lines, some lines split into CRI partial pieces;
 * - rotation by rename (containers 0-3), with a partial line cut by the rotation (its end in the new file);
 * - rotation by copytruncate (container 4);
 * - the agent is killed with SIGKILL and restarted three times mid-stream;
 * - the gateway (the platform process) is stopped for 30 s mid-stream and started again on the same data dir.
 *
 * Then every record is in the store exactly once (read back through GET /api/v1/logs), in order per stream, with
 * its pod's attributes, and the agent's lost-line counters are zero except for one deliberate loss: during the
 * outage a `victim` container rotates past `logsMaxOpenRotated` and its oldest rotated file, never read, is
 * deleted; it shows up in `crowsnest_agent_lost_lines_total{pod="victim-0",reason="deleted_unread"}` with its
 * exact line count.
 *
 * What makes "exactly once" hold across the kills: each batch is checkpointed before it is sent, rebuilt into
 * the same bytes after a restart, and the gateway's write-ahead log recognises a retried request by its hash.
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/kafka.ts';
import { getJson } from '../support/platform.ts';

const CONTAINERS = 10;
const root = mkdtempSync(join(tmpdir(), 'agent-logs-e2e-'));
const pods = join(root, 'pods');
const platformDir = join(root, 'platform');
const agentDir = join(root, 'agent');
const configFile = join(root, 'agent.yaml');

let platform: CrowsnestProcess | undefined;
let agent: CrowsnestProcess | undefined;
let ports: { http: number; otlp: number; agent: number };
const startedAt = Date.now();

// Monotonic wall-clock nanoseconds for CRI timestamps: unique and increasing, as a runtime writes them.
const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNs = 0n;
function criTime(): string {
  let ns = base + process.hrtime.bigint();
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  const sec = Number(ns / 1_000_000_000n);
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}

interface Expected {
  stream: 'stdout' | 'stderr';
  seq: number;
  body: string;
}

class Container {
  readonly dir: string;
  readonly pod: string;
  readonly uid: string;
  readonly expected: Expected[] = [];
  seq = 0;
  rotations = 0;
  constructor(
    readonly name: string,
    readonly index: number,
  ) {
    this.pod = `${name}-${index}`;
    this.uid = `0000aaaa-0000-4000-8000-${String(index).padStart(12, '0')}`;
    this.dir = join(pods, `shop_${this.pod}_${this.uid}`, 'app');
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.live, '');
  }
  get live() {
    return join(this.dir, '0.log');
  }
  raw(stream: string, tag: 'P' | 'F', text: string) {
    appendFileSync(this.live, `${criTime()} ${stream} ${tag} ${text}\n`);
  }
  /** One tick: a stdout line, sometimes a stack trace on stderr interleaved with stdout, sometimes split lines. */
  tick() {
    const s = ++this.seq;
    const out = (extra = '') => {
      const body = `c${this.index} out seq=${s}${extra}`;
      this.raw('stdout', 'F', body);
      this.expected.push({ stream: 'stdout', seq: s, body });
    };
    if (s % 7 === 0) {
      // A stack trace on stderr with stdout lines between its lines: stdout and stderr must not mix.
      const head = `ERROR c${this.index} trace seq=${s} java.lang.IllegalStateException: boom`;
      const frames = ['    at shop.Cart.add(Cart.java:42)', '    at shop.Api.handle(Api.java:7)'];
      this.raw('stderr', 'F', head);
      out(' (during trace)');
      this.raw('stderr', 'F', frames[0]!);
      this.raw('stderr', 'F', frames[1]!);
      this.expected.push({ stream: 'stderr', seq: s, body: [head, ...frames].join('\n') });
    } else if (s % 5 === 0) {
      // A long line the runtime split into partial pieces.
      const body = `c${this.index} out seq=${s} split ${'x'.repeat(40)}|${'y'.repeat(40)}`;
      const [a, b] = [body.slice(0, 50), body.slice(50)];
      this.raw('stdout', 'P', a);
      this.raw('stdout', 'F', b);
      this.expected.push({ stream: 'stdout', seq: s, body });
    } else out();
  }
  /** One plain stdout line (one raw line, one record). */
  simple() {
    const s = ++this.seq;
    const body = `${this.pod} seq=${s}`;
    this.raw('stdout', 'F', body);
    this.expected.push({ stream: 'stdout', seq: s, body });
  }
  /** kubelet's rotation: rename, new file. With `partial`, a line's first piece before it and its end after. */
  rotate(partial: boolean) {
    const s = partial ? ++this.seq : 0;
    const body = `c${this.index} out seq=${s} cut by rotation|end`;
    if (partial) this.raw('stdout', 'P', body.slice(0, 30));
    this.rotations++;
    renameSync(this.live, join(this.dir, `0.log.2024010${this.rotations}-000000`));
    writeFileSync(this.live, '');
    if (partial) {
      this.raw('stdout', 'F', body.slice(30));
      this.expected.push({ stream: 'stdout', seq: s, body });
    }
  }
  /** logrotate's copytruncate: copy aside, truncate in place (no write between: this test loses nothing). */
  copyTruncate() {
    this.rotations++;
    copyFileSync(this.live, join(this.dir, `0.log.${this.rotations}`));
    truncateSync(this.live, 0);
  }
}

const containers = Array.from({ length: CONTAINERS }, (_, i) => new Container('pod', i));
let victim: Container;

async function startPlatform(): Promise<CrowsnestProcess> {
  return startCrowsnest('start', ['--data-dir', platformDir, '--otlp-http-port', String(ports.otlp), '--otlp-grpc-port', '0', '--batch-max-age-ms', '50'], ports.http);
}

async function startAgent(): Promise<CrowsnestProcess> {
  return startCrowsnest(
    'agent',
    ['--config', configFile, '--tail', join(pods, '*', '*', '*.log'), '--otlp-endpoint', `http://127.0.0.1:${ports.otlp}`, '--data-dir', agentDir, '--node-name', 'node-e2e'],
    ports.agent,
  );
}

async function agentMetric(name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`http://127.0.0.1:${ports.agent}/metrics`)).text();
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels: Record<string, string> = {};
    for (const m of line.matchAll(/(\w+)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
    out.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface StoredLog {
  timeUnixNano: string;
  body: string;
  attributes: Record<string, string>;
  resource: { attributes: Record<string, string> };
}

async function storedOf(pod: string): Promise<StoredLog[]> {
  const all: StoredLog[] = [];
  let cursor: string | undefined;
  do {
    const u = new URL(`http://127.0.0.1:${ports.http}/api/v1/logs`);
    u.searchParams.set('attr', `k8s.pod.name=${pod}`);
    u.searchParams.set('start', String(startedAt - 3_600_000));
    u.searchParams.set('end', String(Date.now() + 3_600_000));
    u.searchParams.set('limit', '1000');
    if (cursor) u.searchParams.set('cursor', cursor);
    const { status, body } = await getJson<{ logs: StoredLog[]; nextCursor?: string }>(u.toString());
    if (status !== 200) throw new Error(`GET /api/v1/logs: ${status}`);
    all.push(...body.logs);
    cursor = body.nextCursor;
  } while (cursor);
  return all;
}

beforeAll(async () => {
  ports = { http: await freePort(), otlp: await freePort(), agent: await freePort() };
  writeFileSync(
    configFile,
    [
      'logsMultiline:',
      "  - start: '^\\S'", // stack frames start with whitespace
      'logsFlushTimeoutMs: 500',
      'logsScanIntervalMs: 200',
      'logsPollIntervalMs: 50',
      'logsMaxOpenRotated: 2',
      'logsRotateWaitMs: 1000',
      'forwardMaxRetryDelayMs: 1000',
      'logsBatchMaxRecords: 200',
      '',
    ].join('\n'),
  );
  platform = await startPlatform();
  agent = await startAgent();
}, 180_000);

afterAll(async () => {
  await agent?.kill();
  await platform?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('crowsnest agent, container logs', () => {
  it('stores every line exactly once through rotations, kill -9 restarts and a 30 s gateway outage', { timeout: 400_000 }, async ({ annotate }) => {
    let writing = true;
    const writer = (async () => {
      while (writing) {
        for (const c of containers) c.tick();
        await sleep(40);
      }
    })();

    // Rotations while everything runs.
    await sleep(3000);
    containers[0]!.rotate(true);
    for (const i of [1, 2, 3]) containers[i]!.rotate(false);
    containers[4]!.copyTruncate();

    // The agent killed and restarted three times mid-stream.
    for (const pause of [500, 2000, 0]) {
      await sleep(2500);
      await agent!.kill();
      await sleep(pause);
      agent = await startAgent();
    }
    await sleep(2000);
    containers[0]!.rotate(true);
    containers[4]!.copyTruncate();
    await sleep(2000);

    // The victim exists and is read before the outage.
    victim = new Container('victim', 0);
    for (let i = 0; i < 5; i++) victim.simple();
    await eventually(async () => expect((await agentMetric('crowsnest_agent_log_records_sent_total')).find((m) => m.labels['pod'] === 'victim-0')?.value).toBe(5), 30_000, 100);

    // The gateway stopped for 30 s mid-stream.
    await platform!.stop();
    const outageStart = Date.now();
    await eventually(async () => expect((await agentMetric('crowsnest_agent_forward_healthy'))[0]?.value).toBe(0), 30_000, 100);
    containers[0]!.rotate(true);
    containers[1]!.rotate(false);
    // The victim rotates past the bound (2 rotated files) while nothing is read; its oldest rotated file, never
    // read, is deleted: those lines are lost and must be counted.
    const filesOpen = async () => (await agentMetric('crowsnest_agent_log_files_open'))[0]?.value ?? 0;
    const lostSeqStart = victim.seq;
    for (let i = 0; i < 20; i++) victim.simple();
    const lostCount = victim.expected.length - 5;
    const lostBodies = new Set(victim.expected.slice(5).map((e) => e.body));
    for (let r = 0; r < 3; r++) {
      const before = await filesOpen();
      victim.rotate(false);
      victim.simple();
      if (r < 2) await eventually(async () => expect(await filesOpen()).toBeGreaterThan(before), 30_000, 50);
      if (r === 1) unlinkSync(join(victim.dir, '0.log.20240101-000000'));
    }
    await eventually(async () => {
      const lost = await agentMetric('crowsnest_agent_lost_lines_total');
      expect(lost.find((m) => m.labels['pod'] === 'victim-0')).toMatchObject({ labels: { reason: 'deleted_unread' }, value: lostCount });
    }, 30_000, 100);
    await sleep(Math.max(0, 30_000 - (Date.now() - outageStart)));
    platform = await startPlatform();

    await sleep(5000);
    writing = false;
    await writer;
    for (const c of [...containers, victim]) c.expected.sort((a, b) => a.seq - b.seq);
    const victimExpected = victim.expected.filter((e) => !lostBodies.has(e.body));
    await annotate(`records written: ${containers.reduce((n, c) => n + c.expected.length, 0) + victim.expected.length}, victim lost ${lostCount} (seq ${lostSeqStart + 1}-${lostSeqStart + 20})`);

    // Everything arrives, once.
    await eventually(
      async () => {
        for (const c of containers) expect((await storedOf(c.pod)).length, c.pod).toBe(c.expected.length);
        expect((await storedOf(victim.pod)).length).toBe(victimExpected.length);
      },
      180_000,
      1000,
    );
    for (const c of [...containers, victim]) {
      const stored = await storedOf(c.pod);
      const want = c === victim ? victimExpected : c.expected;
      // Exactly once: the multiset of bodies equals what was written.
      expect(stored.map((s) => s.body).sort(), c.pod).toEqual(want.map((e) => e.body).sort());
      // In order per stream: by their times, each stream's records come in the order they were written.
      for (const stream of ['stdout', 'stderr'] as const) {
        const got = stored
          .filter((s) => s.attributes['log.iostream'] === stream)
          .sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1))
          .map((s) => s.body);
        expect(got, `${c.pod} ${stream}`).toEqual(want.filter((e) => e.stream === stream).map((e) => e.body));
      }
      // The pod's attributes, from the path.
      for (const s of stored) {
        expect(s.resource.attributes).toMatchObject({
          'k8s.namespace.name': 'shop',
          'k8s.pod.name': c.pod,
          'k8s.pod.uid': c.uid,
          'k8s.container.name': 'app',
          'k8s.node.name': 'node-e2e',
        });
      }
      // Stack traces are ERROR by their first word; stderr alone decides nothing.
      const traces = stored.filter((s) => s.attributes['log.iostream'] === 'stderr');
      expect(traces.every((t) => t.body.startsWith('ERROR ') && t.body.includes('\n    at '))).toBe(true);
    }

    // No other loss was counted.
    const lost = (await agentMetric('crowsnest_agent_lost_lines_total')).filter((m) => m.value > 0);
    expect(lost).toEqual([{ labels: { namespace: 'shop', pod: 'victim-0', reason: 'deleted_unread' }, value: lostCount }]);
  });
});
