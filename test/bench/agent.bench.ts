/**
 * Agent log benchmark (issue 13), after the method of the public log-collector benchmarks: the highest rate of
 * 200-byte CRI lines `crowsnest agent` ships end to end on one core with zero loss, its RSS at that rate, and its
 * CPU at a steady 10,000 lines/s.
 *
 * Three processes beside this one:
 * - the WRITER (this file, `writer` mode) appends 200-byte CRI lines round-robin to 8 containers' `0.log` in a
 *   kubelet-style tree (`<root>/pods/<ns>_<pod>_<uid>/<container>/0.log`) at a set rate, rotating a file by rename
 *   when it passes 4 MiB (kubelet's way; it keeps the two newest rotated files and deletes older ones, as kubelet's
 *   containerLogMaxFiles does) — so every step above ~20k lines/s rotates each container during the step. One line
 *   in ten is a JSON body, the rest plain text with a level word; every body carries `seq=<n>`, its number in its
 *   container.
 * - the SINK (this file, `sink` mode): A STAND-IN FOR THE GATEWAY, a plain OTLP/HTTP server that gunzips, walks
 *   the protobuf and marks each record's (container, seq) in a bitmap, answering 200 at once. It measures the agent,
 *   not the storage: on this 2-core machine `crowsnest start` (chDB) cannot store 50k lines/s beside a writer and an
 *   agent, so the agent's own figure is taken against the sink, and the figure through the real platform is
 *   reported beside it (`agent.logs.platform.max_rate`).
 * - the AGENT: `crowsnest agent` with its defaults, launched exactly as the agent's image launches it: the node
 *   flags of deploy/Dockerfile's agent-stage ENTRYPOINT and the variables of its ENV lines, read from that file
 *   (`agentLaunch`), so the figures are those of what ships (the precompiled agents/dist/agent.mjs, V8's heap
 *   settings). Pinned to core 1 (`taskset -c 1`, so all its threads share that one core). The writer and the sink
 *   are pinned to core 0.
 *
 * Stepping: 10k lines/s for 15 s (CPU from /proc/<pid>/stat utime+stime over its last 10 s), then 20k, 30k, …
 * for 12 s each until a step fails, then the midpoint below the failure. A step passes when every line written
 * reached the sink exactly once (counted there), the agent's lost-line counters stayed zero, the agent kept up
 * (what was written and not yet received, sampled every 250 ms over the step's second half, stayed under 1.5 s
 * of lines) and the writer itself held the rate (≥ 97 %). RSS is VmRSS sampled every 250 ms, the peak during the
 * highest passing step; at each new peak the agent's own /metrics say how much of it is V8's heap and external
 * (array buffer) memory.
 *
 * Then the same agent (same checkpoint) ships to a real `crowsnest start` (write-ahead log + embedded chDB, pinned
 * to core 0 with the writer), counted by the platform's own `crowsnest_written_rows_total{table="otel_logs"}`,
 * stepping 5k, 10k, 15k … the same way.
 *
 * Targets (issue 13): ≥ 50,000 lines/s at 1 core (Fluent Bit and Alloy stop near 41k), ≤ 100 MB RSS at that rate,
 * ≤ 0.15 core at 10,000 lines/s. Other processes share the 2 cores: the load average is in the notes.
 *
 *   npm run bench -- agent
 *   node --import tsx test/bench/agent.bench.ts
 *   AGENT_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" AGENT_BENCH_RATES=60000 node --import tsx test/bench/agent.bench.ts
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePort } from '../support/kafka.ts';
import type { BenchResult } from './result.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'ingest/cli/crowsnest.mjs');
/** Containers written to; AGENT_BENCH_CONTAINERS=1 measures one busy container (one batch in flight per container). */
const CONTAINERS = Number(process.env['AGENT_BENCH_CONTAINERS'] ?? 8);
const LINE_BYTES = 200;
const ROTATE_BYTES = 4 * 1024 * 1024;
const KEEP_ROTATED = 2;
const TARGET_RATE = 50_000;
const TARGET_RSS_MB = 100;
const TARGET_CPU = 0.15;
const STEADY_RATE = 10_000;
const STEP_MS = 12_000;
const MAX_LAG_S = 1.5;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const podDir = (root: string, i: number) => join(root, 'pods', `bench_app-${i}_0000beef-0000-4000-8000-${String(i).padStart(12, '0')}`, 'app');

// ---------------------------------------------------------------------------------------------------------------
// Writer process

type WriterCmd = { type: 'step'; rate: number; ms: number } | { type: 'exit' };
type WriterMsg = { type: 'progress'; written: number } | { type: 'done'; written: number; seconds: number; rotations: number };

function writerMain(root: string): void {
  const fds: number[] = [];
  const sizes: number[] = [];
  const seqs: number[] = [];
  const rotated: string[][] = [];
  let rotations = 0;
  let total = 0;
  for (let i = 0; i < CONTAINERS; i++) {
    mkdirSync(podDir(root, i), { recursive: true });
    fds.push(openSync(join(podDir(root, i), '0.log'), 'a'));
    sizes.push(0);
    seqs.push(0);
    rotated.push([]);
  }
  // Lines are stamped from byte templates (the writer must outrun the agent on a shared core): 20 bodies per
  // container (one JSON, one ERROR, the rest INFO over several routes), each with fixed-width time and seq fields.
  const pad = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(8);
  const routes = ['/api/v1/items', '/api/v1/cart', '/api/v1/checkout', '/healthz', '/api/v1/users'];
  const TIME = '2024-01-01T00:00:00.000000000Z';
  const templates: { buf: Buffer; seqAt: number; traceAt: number }[][] = [];
  for (let c = 0; c < CONTAINERS; c++) {
    const list: { buf: Buffer; seqAt: number; traceAt: number }[] = [];
    for (let v = 0; v < 20; v++) {
      const route = routes[v % routes.length]!;
      const head = `${TIME} stdout F `;
      let body =
        v === 0
          ? `{"level":"warn","msg":"slow request seq=000000000","trace_id":"0000000000000000","route":"${route}","status":200,"ms":${v * 37},"pad":"`
          : `${v === 10 ? 'ERROR' : 'INFO'} GET ${route}/${v * 41} status=200 dur=${v * 3}ms c=${c} seq=000000000 trace_id=0000000000000000 pad=`;
      body += pad.slice(0, LINE_BYTES - 1 - head.length - body.length - (v === 0 ? 2 : 0));
      if (v === 0) body += '"}';
      const text = `${head}${body}\n`;
      if (text.length !== LINE_BYTES) throw new Error(`template of ${text.length} bytes`);
      list.push({ buf: Buffer.from(text, 'latin1'), seqAt: text.indexOf('seq=') + 4, traceAt: text.indexOf('trace_id') + 9 + (v === 0 ? 2 : 0) });
    }
    templates.push(list);
  }
  // A pseudo-random id per line (as a trace id or request id would be), so gzip meets realistic entropy: without
  // it 20 bodies per container compressed to ~11 bytes a line.
  const HEX = Buffer.from('0123456789abcdef', 'latin1');
  let rnd = 0x2545f491;
  const hex16 = (buf: Buffer, at: number) => {
    for (let i = 0; i < 16; i += 4) {
      rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0;
      buf[at + i] = HEX[rnd >>> 28]!;
      buf[at + i + 1] = HEX[(rnd >>> 24) & 15]!;
      buf[at + i + 2] = HEX[(rnd >>> 20) & 15]!;
      buf[at + i + 3] = HEX[(rnd >>> 16) & 15]!;
    }
  };
  let lastSec = -1;
  let secBytes = Buffer.alloc(19);
  const digits = (buf: Buffer, at: number, width: number, n: number) => {
    for (let i = at + width - 1; i >= at; i--) {
      buf[i] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
  };
  /** Writes container `c`'s next line at `out[at]`. */
  function line(out: Buffer, at: number, c: number, nowMs: number, sub: number): void {
    const s = ++seqs[c]!;
    const sec = Math.floor(nowMs / 1000);
    if (sec !== lastSec) {
      lastSec = sec;
      secBytes = Buffer.from(new Date(sec * 1000).toISOString().slice(0, 19), 'latin1');
    }
    const t = templates[c]![s % 20]!;
    t.buf.copy(out, at);
    secBytes.copy(out, at);
    digits(out, at + 20, 9, ((nowMs % 1000) * 1_000_000 + sub) % 1_000_000_000);
    digits(out, at + t.seqAt, 9, s);
    hex16(out, at + t.traceAt);
  }
  function rotate(c: number): void {
    closeSync(fds[c]!);
    const dir = podDir(root, c);
    const name = `0.log.20240101-${String(++rotations).padStart(6, '0')}`;
    renameSync(join(dir, '0.log'), join(dir, name));
    fds[c] = openSync(join(dir, '0.log'), 'a');
    sizes[c] = 0;
    rotated[c]!.push(name);
    // kubelet keeps containerLogMaxFiles (5 by default); we keep two rotated files. The agent holds open the files
    // it found, so a deletion loses nothing unless it fell that far behind (then its counters say so).
    while (rotated[c]!.length > KEEP_ROTATED) unlinkSync(join(dir, rotated[c]!.shift()!));
  }
  async function step(rate: number, ms: number): Promise<void> {
    const t0 = performance.now();
    const wall0 = Date.now();
    let written = 0;
    let lastProgress = 0;
    const counts = new Array<number>(CONTAINERS).fill(0);
    for (;;) {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((rate * Math.min(elapsed, ms)) / 1000), Math.floor((rate * ms) / 1000));
      const now = wall0 + Math.floor(elapsed);
      counts.fill(0);
      for (let k = written; k < due; k++) counts[(total + k) % CONTAINERS]!++;
      for (let c = 0; c < CONTAINERS; c++) {
        const n = counts[c]!;
        if (n === 0) continue;
        const out = Buffer.allocUnsafe(n * LINE_BYTES);
        for (let j = 0; j < n; j++) line(out, j * LINE_BYTES, c, now, written + j);
        writeSync(fds[c]!, out);
        sizes[c]! += out.length;
        if (sizes[c]! >= ROTATE_BYTES) rotate(c);
      }
      written = due;
      if (elapsed - lastProgress >= 200) {
        lastProgress = elapsed;
        process.send!({ type: 'progress', written: total + written } satisfies WriterMsg);
      }
      if (elapsed >= ms) break;
      await sleep(10);
    }
    total += written;
    process.send!({ type: 'done', written: total, seconds: (performance.now() - t0) / 1000, rotations } satisfies WriterMsg);
  }
  let queue = Promise.resolve();
  process.on('message', (m: WriterCmd) => {
    if (m.type === 'exit') {
      for (const fd of fds) closeSync(fd);
      process.exit(0);
    }
    queue = queue.then(() => step(m.rate, m.ms));
  });
  process.send!({ type: 'progress', written: 0 } satisfies WriterMsg);
}

// ---------------------------------------------------------------------------------------------------------------
// Sink process: a stand-in for the gateway (OTLP/HTTP, answers 200 at once)

interface SinkStats {
  received: number;
  duplicates: number;
  requests: number;
  wireBytes: number;
  undecodable: number;
}

function sinkMain(): void {
  const seen: Uint8Array[] = Array.from({ length: CONTAINERS }, () => new Uint8Array(1 << 20));
  const stats: SinkStats = { received: 0, duplicates: 0, requests: 0, wireBytes: 0, undecodable: 0 };
  let pos = 0;
  let buf: Buffer = Buffer.alloc(0);
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const skip = (wire: number) => {
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) pos += varint();
    else throw new Error(`wire type ${wire}`);
  };
  /** Calls `each(field, end)` for every length-delimited field in [pos, end); other fields are skipped. */
  const walk = (end: number, each: (no: number, end: number) => void) => {
    while (pos < end) {
      const tag = varint();
      if ((tag & 7) !== 2) {
        skip(tag & 7);
        continue;
      }
      const len = varint();
      const fieldEnd = pos + len;
      each(tag >>> 3, fieldEnd);
      pos = fieldEnd;
    }
  };
  const SEQ = Buffer.from('seq=');
  function mark(container: number, bodyStart: number, bodyEnd: number): void {
    const at = buf.indexOf(SEQ, bodyStart);
    if (at === -1 || at >= bodyEnd) return;
    let n = 0;
    for (let i = at + 4; i < bodyEnd; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    let bits = seen[container]!;
    if (n >> 3 >= bits.length) {
      const grown = new Uint8Array(Math.max(bits.length * 2, (n >> 3) + 1));
      grown.set(bits);
      seen[container] = bits = grown;
    }
    const bit = 1 << (n & 7);
    if (bits[n >> 3]! & bit) stats.duplicates++;
    else {
      bits[n >> 3]! |= bit;
      stats.received++;
    }
  }
  function decode(body: Buffer): void {
    buf = body;
    pos = 0;
    walk(buf.length, (no, end) => {
      if (no !== 1) return; // ResourceLogs
      let container = -1;
      walk(end, (rl, rlEnd) => {
        if (rl === 1) {
          walk(rlEnd, (r, kvEnd) => {
            if (r !== 1) return; // Resource.attributes
            let key = '';
            walk(kvEnd, (f, fEnd) => {
              if (f === 1) key = buf.toString('utf8', pos, fEnd);
              else if (f === 2 && key === 'k8s.pod.name') walk(fEnd, (v, vEnd) => {
                if (v === 1) container = Number(buf.toString('utf8', pos, vEnd).slice(4)); // app-<i>
              });
            });
          });
        } else if (rl === 2) {
          walk(rlEnd, (sl, slEnd) => {
            if (sl !== 2) return; // ScopeLogs.log_records
            walk(slEnd, (lr, lrEnd) => {
              if (lr === 5) walk(lrEnd, (v, vEnd) => v === 1 && mark(container, pos, vEnd)); // body.string_value
            });
          });
        }
      });
    });
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      stats.requests++;
      stats.wireBytes += raw.length;
      try {
        decode(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
      } catch {
        stats.undecodable++;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.send!({ type: 'listening', port: typeof a === 'object' && a ? a.port : 0 });
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') process.send!({ type: 'stats', stats });
    else if (m.type === 'exit') server.close(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The bench

interface Child {
  proc: ChildProcess;
  stop(): Promise<void>;
}

function forkSelf(mode: string, args: string[]): Child {
  const proc = fork(import.meta.filename, [mode, ...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.send({ type: 'exit' });
      const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    },
  };
}

/** Pins every thread of `pid` to `core`. */
const pin = (pid: number, core: number) => execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });

/** utime + stime of a process (all its threads), in seconds; `sys` is stime alone. */
function cpuSplit(pid: number): { total: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
  return { total: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK };
}

function rssMB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return (kb * 1024) / 1e6;
}

async function waitReady(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not become ready`);
}

interface Spawned {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** How deploy/Dockerfile's agent stage starts the agent: its ENTRYPOINT's node flags and its ENV variables. */
export interface AgentLaunch {
  nodeArgs: string[];
  env: Record<string, string>;
  /** The command line, for the notes. */
  text: string;
}

/** Reads the agent stage (`FROM … AS agent`) of a Dockerfile; throws when it is not there as expected. */
export function agentLaunch(dockerfile: string): AgentLaunch {
  const lines = dockerfile.split('\n');
  const from = lines.findIndex((l) => /^FROM\s+\S+\s+AS\s+agent\s*$/i.test(l));
  if (from === -1) throw new Error('deploy/Dockerfile has no agent stage');
  const end = lines.findIndex((l, i) => i > from && /^FROM\s/i.test(l));
  const stage = lines.slice(from + 1, end === -1 ? undefined : end);
  const env: Record<string, string> = {};
  for (const l of stage) {
    const m = /^ENV\s+(.*)$/.exec(l);
    if (m === null) continue;
    for (const pair of m[1]!.trim().split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`deploy/Dockerfile agent stage: ENV ${pair}: only KEY=value pairs are read`);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const entry = stage.map((l) => /^ENTRYPOINT\s+(\[.*\])\s*$/.exec(l)?.[1]).find((x) => x !== undefined);
  const argv = entry === undefined ? undefined : (JSON.parse(entry) as string[]);
  const script = argv?.indexOf('ingest/cli/crowsnest.mjs') ?? -1;
  if (argv === undefined || argv[0] !== 'node' || script === -1) throw new Error('deploy/Dockerfile agent stage: ENTRYPOINT is not ["node", …, "ingest/cli/crowsnest.mjs"]');
  const nodeArgs = argv.slice(1, script);
  const vars = Object.entries(env).filter(([k]) => k !== 'NODE_ENV');
  const text = `node ${[...nodeArgs, 'ingest/cli/crowsnest.mjs agent'].join(' ')}${vars.length > 0 ? ` with ${vars.map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;
  return { nodeArgs, env, text };
}

async function spawnCli(argv: string[], httpPort: number, what: string, nodeArgs: string[], core?: number, env?: Record<string, string>): Promise<Spawned> {
  const cmd = [process.execPath, ...nodeArgs, CLI, ...argv, '--host', '127.0.0.1', '--http-port', String(httpPort), '--log-level', 'warn'];
  const options = { stdio: ['ignore', 'inherit', 'inherit'] as ('ignore' | 'inherit')[], env: { ...process.env, ...env } };
  const child = core === undefined ? spawn(cmd[0]!, cmd.slice(1), options) : spawn('taskset', ['-c', String(core), ...cmd], options);
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitReady(`${url}/readyz`, child, what);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid!, // taskset execs the command: same PID
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
    },
  };
}

async function metricSum(url: string, name: string, filter = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface StepResult {
  rate: number;
  achieved: number;
  ok: boolean;
  why: string;
  maxLagS: number;
  peakRssMB: number;
  /** The agent's memory by its own /metrics at the peak RSS sample (MB). */
  peakMemory?: AgentMemory | undefined;
  cpuCores: number;
  /** The kernel's part of cpuCores (stime). */
  sysCores: number;
  /** Requests the sink received and checkpoint writes, per second of the step (sink steps only). */
  requestsPerS?: number;
  commitsPerS?: number;
  drainS: number;
}

class Rig {
  written = 0;
  #writer: Child;
  #onDone: ((m: Extract<WriterMsg, { type: 'done' }>) => void) | undefined;
  constructor(writer: Child) {
    this.#writer = writer;
    writer.proc.on('message', (m: WriterMsg) => {
      if (m.type === 'progress') this.written = m.written;
      else {
        this.written = m.written;
        this.#onDone?.(m);
      }
    });
  }
  write(rate: number, ms: number): Promise<Extract<WriterMsg, { type: 'done' }>> {
    return new Promise((done) => {
      this.#onDone = done;
      this.#writer.proc.send({ type: 'step', rate, ms } satisfies WriterCmd);
    });
  }
}

/**
 * One step at `rate`: write for `ms`, sample lag/RSS every 250 ms (CPU over the last `cpuWindowMs`), then wait for
 * the rest to arrive. `received()` counts at the receiving side; `lost()` is the agent's lost-line counters.
 */
interface AgentMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
}

async function agentMemory(url: string): Promise<AgentMemory | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const mb = (name: string) => Number(new RegExp(`^crowsnest_nodejs_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1e6;
    return { heapUsed: mb('heap_size_used_bytes'), heapTotal: mb('heap_size_total_bytes'), external: mb('external_memory_bytes') };
  } catch {
    return undefined;
  }
}

const memoryNote = (m: AgentMemory | undefined) =>
  m === undefined ? 'heap not sampled' : `V8 heap ${m.heapTotal.toFixed(0)} MB (${m.heapUsed.toFixed(0)} used), external ${m.external.toFixed(0)} MB`;

async function step(
  rig: Rig,
  agentPid: number,
  rate: number,
  ms: number,
  received: () => Promise<number>,
  lost: () => Promise<number>,
  cpuWindowMs: number,
  drainMs: number,
  agentUrl?: string,
): Promise<StepResult> {
  const lostBefore = await lost();
  const writtenBefore = rig.written;
  const writing = rig.write(rate, ms);
  const t0 = performance.now();
  let maxLag = 0;
  let peak = 0;
  let peakMemory: AgentMemory | undefined;
  let memoryAt = -Infinity;
  /**
   * A new peak: what the agent's heap and buffers hold now. Asked again only once the peak grew by 2 MB since:
   * a /metrics request costs the agent CPU, and RSS creeping up by pages would ask at every sample.
   */
  const sampleRss = async () => {
    const rss = rssMB(agentPid);
    if (rss <= peak) return;
    peak = rss;
    if (agentUrl === undefined || rss < memoryAt + 2) return;
    memoryAt = rss;
    peakMemory = (await agentMemory(agentUrl)) ?? peakMemory;
  };
  let cpu0: { t: number; cpu: number; sys: number } | undefined;
  let cpu1: { t: number; cpu: number; sys: number } | undefined;
  const sample = () => {
    const c = cpuSplit(agentPid);
    return { t: performance.now(), cpu: c.total, sys: c.sys };
  };
  let done: Extract<WriterMsg, { type: 'done' }> | undefined;
  void writing.then((d) => (done = d));
  while (done === undefined) {
    await sleep(250);
    const t = performance.now() - t0;
    await sampleRss();
    if (t >= ms - cpuWindowMs && cpu0 === undefined) cpu0 = sample();
    if (t >= ms / 2 && done === undefined) maxLag = Math.max(maxLag, (rig.written - (await received())) / rate);
    if (t <= ms) cpu1 = sample();
  }
  const d = await writing;
  const achieved = (d.written - writtenBefore) / d.seconds;
  const drain0 = performance.now();
  let got = await received();
  while (got < rig.written && performance.now() - drain0 < drainMs) {
    await sleep(100);
    await sampleRss();
    got = await received();
  }
  const drainS = (performance.now() - drain0) / 1000;
  const lostLines = (await lost()) - lostBefore;
  const cpuCores = cpu0 && cpu1 && cpu1.t > cpu0.t ? (cpu1.cpu - cpu0.cpu) / ((cpu1.t - cpu0.t) / 1000) : NaN;
  const sysCores = cpu0 && cpu1 && cpu1.t > cpu0.t ? (cpu1.sys - cpu0.sys) / ((cpu1.t - cpu0.t) / 1000) : NaN;
  const why =
    got < rig.written
      ? `${rig.written - got} lines not received ${drainS.toFixed(1)} s after the writer stopped`
      : lostLines > 0
        ? `${lostLines} lines counted lost`
        : achieved < rate * 0.97
          ? `the writer held only ${Math.round(achieved)} lines/s`
          : '';
  return { rate, achieved, ok: why === '', why, maxLagS: maxLag, peakRssMB: peak, peakMemory, cpuCores, sysCores, drainS };
}

export interface AgentBenchOptions {
  /** Rates to step through against the sink; default 10k (steady) then 20k, 30k, … until a step fails. */
  rates?: number[] | undefined;
  /** Extra node arguments for the agent (e.g. --cpu-prof), after those of deploy/Dockerfile's agent stage. */
  nodeArgs?: string[];
  /** Also measure through a real `crowsnest start`. @default true */
  platform?: boolean;
}

export async function run(opts: AgentBenchOptions = {}): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'agent-bench-'));
  const children: Child[] = [];
  const spawned: Spawned[] = [];
  const load0 = loadavg()[0]!;
  const log = (s: string) => process.stderr.write(`agent bench: ${s}\n`);
  try {
    const writer = forkSelf('writer', [root]);
    children.push(writer);
    await new Promise((r) => writer.proc.once('message', r)); // files exist
    pin(writer.proc.pid!, 0);
    const rig = new Rig(writer);
    const sink = forkSelf('sink', []);
    children.push(sink);
    const sinkPort = await new Promise<number>((r) => sink.proc.once('message', (m: { port: number }) => r(m.port)));
    pin(sink.proc.pid!, 0);
    const sinkStats = () =>
      new Promise<SinkStats>((r) => {
        sink.proc.once('message', (m: { stats: SinkStats }) => r(m.stats));
        sink.proc.send({ type: 'stats' });
      });

    const agentPort = await freePort();
    const dataDir = join(root, 'agent');
    const agentArgs = (endpoint: string) => ['agent', '--tail', join(root, 'pods', '*', '*', '*.log'), '--otlp-endpoint', endpoint, '--data-dir', dataDir, '--node-name', 'bench-node'];
    const launch = agentLaunch(readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8'));
    const agentNodeArgs = [...launch.nodeArgs, ...(opts.nodeArgs ?? [])];
    log(`agent launched as deploy/Dockerfile's agent stage does: ${launch.text}`);
    let agent = await spawnCli(agentArgs(`http://127.0.0.1:${sinkPort}`), agentPort, 'crowsnest agent', agentNodeArgs, 1, launch.env);
    spawned.push(agent);
    const lost = () => metricSum(agent.url, 'crowsnest_agent_lost_lines_total');
    const received = async () => (await sinkStats()).received;

    // Warm-up: JIT, connections, the first rotations.
    await step(rig, agent.pid, 5000, 4000, received, lost, 0, 10_000);
    const idleRss = rssMB(agent.pid);

    const steps: StepResult[] = [];
    const rates = opts.rates ?? [STEADY_RATE];
    let steady: StepResult | undefined;
    const counters = async () => ({ requests: (await sinkStats()).requests, commits: await metricSum(agent.url, 'crowsnest_agent_log_checkpoint_commits_total') });
    const runStep = async (rate: number, ms: number, cpuMs: number) => {
      const c0 = await counters();
      const r = await step(rig, agent.pid, rate, ms, received, lost, cpuMs, 5000, agent.url);
      const c1 = await counters();
      r.requestsPerS = (c1.requests - c0.requests) / (ms / 1000);
      r.commitsPerS = (c1.commits - c0.commits) / (ms / 1000);
      if (r.ok && r.maxLagS > MAX_LAG_S) Object.assign(r, { ok: false, why: `fell behind: ${r.maxLagS.toFixed(2)} s of lines unreceived` });
      steps.push(r);
      log(`${rate} lines/s: ${r.ok ? 'ok' : `FAILED (${r.why})`}, lag ≤ ${r.maxLagS.toFixed(2)} s, RSS ≤ ${r.peakRssMB.toFixed(0)} MB (${memoryNote(r.peakMemory)}), CPU ${r.cpuCores.toFixed(3)} core (${r.sysCores.toFixed(3)} system), ${r.requestsPerS?.toFixed(0)} requests/s, ${r.commitsPerS?.toFixed(0)} checkpoint writes/s, drained in ${r.drainS.toFixed(1)} s`);
      if (!r.ok) {
        // Let the backlog go before the next step.
        const until = performance.now() + 60_000;
        while ((await received()) < rig.written && performance.now() < until) await sleep(250);
      }
      return r;
    };
    for (const rate of rates) {
      const r = await runStep(rate, rate === STEADY_RATE ? 15_000 : STEP_MS, 10_000);
      if (rate === STEADY_RATE) steady ??= r;
    }
    if (opts.rates === undefined) {
      let failedAt: number | undefined;
      for (let rate = 20_000; rate <= 150_000; rate += 10_000) {
        if (!(await runStep(rate, STEP_MS, 8000)).ok) {
          failedAt = rate;
          break;
        }
      }
      if (failedAt !== undefined && failedAt > 20_000) await runStep(failedAt - 5000, STEP_MS, 8000);
    }
    const best = steps.filter((s) => s.ok).sort((a, b) => b.rate - a.rate)[0];
    const stats = await sinkStats();
    if (stats.duplicates > 0 || stats.undecodable > 0) throw new Error(`the sink saw ${stats.duplicates} duplicate lines and ${stats.undecodable} undecodable requests`);
    const bytesPerLine = stats.wireBytes / stats.received;
    const agentHwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1000;
    await agent.stop();
    spawned.splice(spawned.indexOf(agent), 1);

    // Through the real platform: the same agent's checkpoint, a new endpoint.
    const platformSteps: StepResult[] = [];
    if (opts.platform !== false) {
      const ports = { http: await freePort(), otlp: await freePort() };
      const platform = await spawnCli(['start', '--data-dir', join(root, 'platform'), '--otlp-http-port', String(ports.otlp), '--otlp-grpc-port', '0'], ports.http, 'crowsnest start', []);
      spawned.push(platform);
      pin(platform.pid, 0);
      agent = await spawnCli(agentArgs(`http://127.0.0.1:${ports.otlp}`), agentPort, 'crowsnest agent', agentNodeArgs, 1, launch.env);
      spawned.push(agent);
      // Rows written counts at the platform; the agent's earlier lines went to the sink, so count from here.
      const base = rig.written;
      const platformReceived = async () => base + (await metricSum(platform.url, 'crowsnest_written_rows_total', 'table="otel_logs"'));
      for (let rate = 5000; rate <= 100_000; rate += 5000) {
        const r = await step(rig, agent.pid, rate, 10_000, platformReceived, lost, 0, 8000);
        if (r.ok && r.maxLagS > MAX_LAG_S * 2) Object.assign(r, { ok: false, why: `fell behind: ${r.maxLagS.toFixed(2)} s of lines unstored` });
        platformSteps.push(r);
        log(`platform ${rate} lines/s: ${r.ok ? 'ok' : `FAILED (${r.why})`}, lag ≤ ${r.maxLagS.toFixed(2)} s, drained in ${r.drainS.toFixed(1)} s`);
        if (!r.ok) break;
      }
    }
    const platformBest = platformSteps.filter((s) => s.ok).sort((a, b) => b.rate - a.rate)[0];
    const load1 = loadavg()[0]!;
    const loadNote = `load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${2} cores`;
    const launchNote = `agent launched as deploy/Dockerfile's agent stage launches it: ${launch.text}${(opts.nodeArgs ?? []).length > 0 ? ` (plus ${opts.nodeArgs!.join(' ')})` : ''}`;
    const stepsNote = steps.map((s) => `${s.rate / 1000}k ${s.ok ? 'ok' : 'fail'}`).join(', ');
    const results: BenchResult[] = [];
    const maxRate = best?.rate ?? 0;
    results.push({
      name: 'agent.logs.max_rate_1core',
      value: maxRate,
      unit: 'lines/s',
      reference: TARGET_RATE,
      ratio: maxRate / TARGET_RATE,
      note: `highest rate of 200-byte CRI lines (${CONTAINERS} containers, rotation by rename, 1 in 10 JSON, a random 16-hex id each) crowsnest agent shipped on one core (taskset -c 1) with zero loss and lag ≤ ${MAX_LAG_S} s, to an OTLP/HTTP sink standing in for the gateway; steps ${stepsNote}; ${launchNote}; target ≥ 50,000 (ratio ≥ 1); ${loadNote}`,
    });
    const rss = best?.peakRssMB ?? NaN;
    results.push({
      name: 'agent.logs.rss_at_max_rate',
      value: Math.round(rss),
      unit: 'MB',
      reference: TARGET_RSS_MB,
      ratio: rss / TARGET_RSS_MB,
      note: `peak VmRSS during the ${maxRate} lines/s step (${memoryNote(best?.peakMemory)} at that peak; idle after warm-up ${idleRss.toFixed(0)} MB; per step ${steps.map((x) => `${x.rate / 1000}k ${x.peakRssMB.toFixed(0)}`).join(', ')} MB; VmHWM over the whole run ${agentHwm.toFixed(0)} MB); ${launchNote}; target ≤ 100 MB (ratio ≤ 1)`,
    });
    const cpu = steady?.cpuCores ?? NaN;
    results.push({
      name: 'agent.logs.cpu_at_10k',
      value: Math.round(cpu * 1000) / 1000,
      unit: 'cores',
      reference: TARGET_CPU,
      ratio: cpu / TARGET_CPU,
      note: `agent utime+stime (/proc/<pid>/stat, all threads; ${steady?.sysCores.toFixed(3)} of it system; ${steady?.requestsPerS?.toFixed(0)} requests/s, ${steady?.commitsPerS?.toFixed(0)} checkpoint writes/s) over 10 s of a steady 10,000 lines/s; ${steady?.ok ? 'zero loss' : `step failed: ${steady?.why}`}; ${launchNote}; target ≤ 0.15 core (ratio ≤ 1)`,
    });
    results.push({
      name: 'agent.logs.wire_bytes_per_line',
      value: Math.round(bytesPerLine * 10) / 10,
      unit: 'B',
      reference: LINE_BYTES,
      ratio: bytesPerLine / LINE_BYTES,
      note: 'gzip-compressed OTLP request bytes per 200-byte line as received; reference: the raw line',
    });
    if (opts.platform !== false) {
      const pRate = platformBest?.rate ?? 0;
      results.push({
        name: 'agent.logs.platform.max_rate',
        value: pRate,
        unit: 'lines/s',
        reference: maxRate,
        ratio: maxRate > 0 ? pRate / maxRate : null,
        note: `the same, end to end into a real crowsnest start (write-ahead log + embedded chDB, pinned to core 0 beside the writer), counted by its crowsnest_written_rows_total{table="otel_logs"}; steps ${platformSteps.map((s) => `${s.rate / 1000}k ${s.ok ? 'ok' : 'fail'}`).join(', ')}; reference: the agent alone (above)`,
      });
    }
    return results;
  } finally {
    for (const s of spawned.reverse()) await s.stop();
    for (const c of children.reverse()) await c.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const mode = import.meta.filename === process.argv[1] ? process.argv[2] : undefined;
if (mode === 'writer') writerMain(process.argv[3]!);
else if (mode === 'sink') sinkMain();
else if (import.meta.filename === process.argv[1]) {
  const env = process.env;
  console.table(
    await run({
      rates: env['AGENT_BENCH_RATES']?.split(',').map(Number),
      nodeArgs: env['AGENT_BENCH_NODE_ARGS']?.split(' ').filter(Boolean) ?? [],
      platform: env['AGENT_BENCH_PLATFORM'] !== '0',
    }),
  );
}
