/**
 * Debian's `prometheus` and `prometheus-node-exporter` as real peers for the metrics tests (BRIEF: real peers on this
 * machine): installed with apt when missing (as test/support/chromium.ts installs Chromium), run as child processes
 * of the test on loopback ports the OS picked, each Prometheus with its own data directory, never as system
 * services; stopped by PID.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.ts';

export const PROMETHEUS = '/usr/bin/prometheus';
export const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

/** Installs Debian's `prometheus` and `prometheus-node-exporter` when missing (needs root, as on CI). */
export function ensurePrometheus(): void {
  if (existsSync(PROMETHEUS) && existsSync(NODE_EXPORTER)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${PROMETHEUS} or ${NODE_EXPORTER} is missing and this is not root: install them with \`sudo apt-get install -y prometheus prometheus-node-exporter\``);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => execFileSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 900_000 });
  const pkgs = ['install', '-y', '--no-install-recommends', 'prometheus', 'prometheus-node-exporter'];
  try {
    apt(pkgs);
  } catch {
    apt(['update']); // a fresh image often has no package lists yet
    apt(pkgs);
  }
  if (!existsSync(PROMETHEUS) || !existsSync(NODE_EXPORTER)) throw new Error('apt-get installed the prometheus packages but their binaries are still missing');
}

/** A free loopback port (bound and released; the child binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PromProcess {
  url: string;
  port: number;
  /** What the process wrote (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

function run(bin: string, args: string[], port: number, readyPath: string, cleanup: () => void): Promise<PromProcess> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const proc: PromProcess = {
    url,
    port,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
        const t = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      cleanup();
    },
  };
  return eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}: ${out}`);
      const res = await fetch(`${url}${readyPath}`);
      if (!res.ok) throw new Error(`${bin} not ready: ${res.status}`);
      await res.arrayBuffer();
      return proc;
    },
    60_000,
    200,
  ).catch(async (e: unknown) => {
    await proc.stop();
    throw e;
  });
}

/** prometheus-node-exporter on a loopback port. */
export async function startNodeExporter(): Promise<PromProcess> {
  ensurePrometheus();
  const port = await freePort();
  return run(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], port, '/metrics', () => undefined);
}

/**
 * A Prometheus server with its own data directory and `config` (YAML; `$PORT` is replaced by its own port, so it
 * can scrape itself).
 */
export async function startPrometheus(config: string): Promise<PromProcess & { dir: string }> {
  ensurePrometheus();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'crowsnest-prometheus-'));
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, config.replaceAll('$PORT', String(port)));
  const proc = await run(
    PROMETHEUS,
    [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    port,
    '/-/ready',
    () => rmSync(dir, { recursive: true, force: true }),
  );
  return { ...proc, dir };
}
