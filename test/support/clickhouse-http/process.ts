/**
 * Runs the ClickHouse HTTP test double (server.ts) as a child process, for tests that need a ClickHouse URL: the
 * platform's server mode, writer and query roles in separate processes, or ClickHouse going away and coming back
 * (`stop()` or `kill()`, then `startClickHouseHttp` again on the same data directory and port).
 *
 * Only ever signals the one process it started, and only while that process is still running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
// `--import tsx` resolves from the working directory: the repository root, where node_modules is.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface StartOptions {
  /** chDB data directory, relative to this process's working directory; created if missing. Reuse it to keep the data across restarts. */
  readonly dataDir: string;
  /**
   * Port on 127.0.0.1; 0 lets the OS pick a free one (read it back from `url`).
   * @default 0
   */
  readonly port?: number;
  /**
   * How long to wait for `/ping` to answer.
   * @default 60_000
   */
  readonly startTimeoutMs?: number;
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ClickHouseHttp {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Settles when the process has exited, however it ended. */
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`, default 20 s). Running requests finish first. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL: the engine gets no chance to close, like a crashed or OOM-killed server. Await `exited` before restarting. */
  kill(): void;
  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  output(): string;
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Starts the double and resolves once `/ping` answers `Ok.\n`. */
export async function startClickHouseHttp(opts: StartOptions): Promise<ClickHouseHttp> {
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, '--port', String(opts.port ?? 0), '--data-dir', resolve(opts.dataDir)], {
    cwd: REPO_ROOT,
    // The server reports and uses the engine's time zone; pin it so results do not depend on the machine.
    env: { ...process.env, TZ: 'UTC' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let log = '';
  const append = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stderr.on('data', append);

  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
  spawnFailed.catch(() => undefined);

  const listening = new Promise<number>((resolve) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      append(chunk);
      out += chunk.toString('utf8');
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) resolve(Number(m[1]));
    });
  });

  let deadline: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => reject(new Error(`ClickHouse HTTP double did not start within ${timeoutMs} ms:\n${log}`)), timeoutMs);
  });
  const died = exited.then((e): never => {
    throw new Error(`ClickHouse HTTP double exited (code ${e.code}, signal ${e.signal}) before it answered /ping:\n${log}`);
  });
  died.catch(() => undefined);

  const kill = (): void => {
    if (running(child)) child.kill('SIGKILL');
  };

  try {
    const port = await Promise.race([listening, died, timedOut, spawnFailed]);
    const url = `http://127.0.0.1:${port}`;
    await Promise.race([waitForPing(url, () => running(child)), died, timedOut]);
    if (child.pid === undefined) throw new Error('ClickHouse HTTP double has no pid');
    const pid = child.pid;
    return {
      url,
      port,
      pid,
      exited,
      kill,
      output: () => log,
      async stop(stopTimeoutMs = 20_000): Promise<void> {
        if (running(child)) {
          child.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<'late'>((resolve) => {
            timer = setTimeout(() => resolve('late'), stopTimeoutMs);
          });
          if ((await Promise.race([exited, late])) === 'late') kill();
          clearTimeout(timer);
        }
        await exited;
      },
    };
  } catch (err) {
    kill();
    await exited;
    throw err;
  } finally {
    clearTimeout(deadline);
  }
}

async function waitForPing(url: string, alive: () => boolean): Promise<void> {
  // Ends when the process does: the caller's deadline kills it.
  while (alive()) {
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200 && (await res.text()) === 'Ok.\n') return;
    } catch {
      // not accepting yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
