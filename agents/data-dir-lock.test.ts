/** The data dir lock: taken, refused while another agent lives, taken over when stale, released when ours. */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { DataDirLockedError, LOCK_FILE, type PidState, lockDataDir, pidState } from './data-dir-lock.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crowsnest-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockFile = () => join(dir, LOCK_FILE);
const owner = () => JSON.parse(readFileSync(lockFile(), 'utf8')) as { pid: number };

describe('lockDataDir', () => {
  it('creates the lock with this PID and removes it at release', () => {
    const lock = lockDataDir(dir, silentLogger());
    expect(owner().pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  const cases: { state: PidState; takes: boolean }[] = [
    { state: 'agent', takes: false },
    { state: 'gone', takes: true },
    { state: 'self', takes: true },
    { state: 'other', takes: true },
  ];
  for (const c of cases) {
    it(`a lock held by PID 4242 (${c.state}) is ${c.takes ? 'taken over' : 'refused, naming the PID'}`, () => {
      writeFileSync(lockFile(), JSON.stringify({ pid: 4242, startedAt: 1 }));
      const take = () => lockDataDir(dir, silentLogger(), (pid) => (pid === 4242 ? c.state : 'gone'));
      if (c.takes) {
        take().release();
        expect(readdirSync(dir)).toEqual([]);
      } else {
        expect(take).toThrow(DataDirLockedError);
        expect(take).toThrow(/PID 4242/);
        expect(owner().pid).toBe(4242);
      }
    });
  }

  it('an unparsable lock (a crash mid-write) is stale', () => {
    writeFileSync(lockFile(), '{"pid":');
    lockDataDir(dir, silentLogger(), () => 'agent').release();
  });

  it('release leaves a lock that another agent took since', () => {
    const lock = lockDataDir(dir, silentLogger());
    writeFileSync(lockFile(), JSON.stringify({ pid: 4242, startedAt: 1 }));
    lock.release();
    expect(owner().pid).toBe(4242);
  });
});

describe('pidState', () => {
  it('tells this process, a gone PID and a live non-agent process apart', () => {
    expect(pidState(process.pid)).toBe('self');
    expect(pidState(0)).toBe('gone');
    expect(pidState(2 ** 22 + 1)).toBe('gone'); // above Linux's pid_max
    // PID 1 is alive and is not a crowsnest agent here.
    expect(['other', 'agent']).toContain(pidState(1));
  });
});
