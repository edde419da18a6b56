/**
 * Runs `crowsnest <role>` as a child process, as Kubernetes would run a Deployment's container, for tests that
 * kill, restart or separate roles. Only ever signals the process it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../ingest/cli/crowsnest.mjs');

export interface CrowsnestProcess {
  pid: number;
  apiUrl: string;
  exited: Promise<number | null>;
  /** SIGTERM (graceful: flush, commit, leave the group) and wait. */
  stop(): Promise<void>;
  /** SIGKILL: no flush, no commit, like an OOM kill or a node failure. */
  kill(): Promise<void>;
  output(): string;
}

export async function startCrowsnest(role: string, args: string[], httpPort: number): Promise<CrowsnestProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, role, '--host', '127.0.0.1', '--http-port', String(httpPort), '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString("utf8")).slice(-2_000_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const apiUrl = `http://127.0.0.1:${httpPort}`;
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (!alive()) throw new Error(`crowsnest ${role} exited during start:\n${log}`);
    try {
      if ((await fetch(`${apiUrl}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`crowsnest ${role} not ready in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid: child.pid!,
    apiUrl,
    exited,
    output: () => log,
    async stop() {
      if (alive()) child.kill('SIGTERM');
      // A process that cannot shut down must not hold the test's cleanup (and everything after it) hostage.
      const force = setTimeout(() => alive() && child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
    },
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}
