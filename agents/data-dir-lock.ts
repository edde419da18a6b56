/**
 * One agent per data dir. Two agents on one `--data-dir` would both read and checkpoint the same files (log
 * checkpoints, the on-disk queue, the events state) and each undo the other's progress: lines repeated or
 * skipped, queue records sent twice. The agent therefore takes `<data-dir>/agent.lock` at start:
 *
 * - created exclusively (`O_CREAT | O_EXCL`) holding `{pid, startedAt}`: of two agents starting at once, one wins;
 * - a lock whose PID is gone, or is this process (a container's PID 1 restarted), or is a live process that is
 *   not a crowsnest agent (its /proc/<pid>/cmdline lacks `crowsnest` and `agent`: the PID was reused) is stale:
 *   it is taken over, and the log says whose it was;
 * - otherwise the start fails with an error naming the other agent's PID;
 * - removed at a clean stop; a `kill -9` leaves it, stale for the next start.
 *
 * Taking over is atomic against another agent doing the same: the stale file is renamed to a name of our own
 * (only one rename of it can succeed), checked to be the one judged stale, and only then is ours created
 * exclusively. Where /proc is missing, a live PID is taken to be an agent (refusing is the safe side).
 */
import { linkSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '#core/log.ts';

export const LOCK_FILE = 'agent.lock';

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`another crowsnest agent (PID ${pid}) is using the data dir ${dir}: stop it, or give this agent its own --data-dir`);
  }
}

export interface LockOwner {
  pid: number;
  startedAt: number;
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock if it is still ours. */
  release(): void;
}

/** What a PID is now: gone, this process, a crowsnest agent, or some other process (the PID was reused). */
export type PidState = 'gone' | 'self' | 'agent' | 'other';

export function pidState(pid: number): PidState {
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'gone';
  if (pid === process.pid) return 'self';
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists, under another user.
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return 'agent';
  }
  return /crowsnest/.test(cmdline) && /\bagent\b/.test(cmdline) ? 'agent' : 'other';
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; startedAt?: unknown };
    return { pid: typeof v.pid === 'number' ? v.pid : 0, startedAt: typeof v.startedAt === 'number' ? v.startedAt : 0 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unparsable: a crash while it was written (between create and write). Nobody can be proven to hold it.
    return { pid: 0, startedAt: 0 };
  }
}

function createExclusive(path: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Takes the data dir's lock or throws `DataDirLockedError`. `state` is for tests. */
export function lockDataDir(dir: string, log: Logger, state: (pid: number) => PidState = pidState): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, startedAt: Date.now() };
  for (let attempt = 0; attempt < 10; attempt++) {
    if (createExclusive(path, me)) return held(path, me);
    let owner = readOwner(path);
    if (owner === undefined) continue; // released meanwhile
    if (owner.pid <= 0) {
      // Empty or torn: another agent may be between its create and its write. Look again a moment later.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      owner = readOwner(path);
      if (owner === undefined) continue;
    }
    const s = owner.pid <= 0 ? 'gone' : state(owner.pid);
    if (s === 'agent') throw new DataDirLockedError(dir, owner.pid);
    // Stale: capture it under our own name. Of two agents doing this, one rename succeeds.
    const captured = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, captured);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const got = readOwner(captured);
    if (got && got.pid === owner.pid && got.startedAt === owner.startedAt) {
      unlinkSync(captured);
      log.warn(
        { dir, stalePid: owner.pid, reason: s === 'gone' ? 'process gone' : s === 'self' ? 'this process\'s own PID (restarted)' : 'PID reused by another program' },
        'took over a stale data dir lock left by an agent that did not stop cleanly',
      );
      continue;
    }
    // We captured another agent's fresh lock (it took over between our read and our rename): put it back.
    try {
      linkSync(captured, path);
    } catch {
      // A third one holds the path now; its lock stands, ours is not made.
    }
    unlinkSync(captured);
  }
  const owner = readOwner(path);
  throw new DataDirLockedError(dir, owner?.pid ?? 0);
}

function held(path: string, me: LockOwner): DataDirLock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      const owner = readOwner(path);
      if (owner?.pid === me.pid && owner.startedAt === me.startedAt) unlinkSync(path);
    },
  };
}
