/**
 * One agent per `--data-dir`, with real `crowsnest agent` processes (host mode): a second agent on the same dir
 * is refused with an error naming the first one's PID; after the first is `kill -9`ed, its stale lock is taken
 * over (and the log says so); a clean stop removes the lock. Agents on different dirs run side by side.
 *
 * No gateway is needed: the agent starts (and is ready) without reaching it; its endpoint is a closed port.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../agents/data-dir-lock.ts';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { freePort } from '../support/kafka.ts';

const tmp = mkdtempSync(join(tmpdir(), 'crowsnest-agent-lock-'));
const running: CrowsnestProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function agent(dataDir: string): Promise<CrowsnestProcess> {
  const logs = join(tmp, 'logs');
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, 'app.log'), 'a line\n');
  const p = await startCrowsnest('agent', ['--tail', join(logs, '*.log'), '--data-dir', dataDir, '--otlp-endpoint', `http://127.0.0.1:${await freePort()}`], await freePort());
  running.push(p);
  return p;
}

describe('crowsnest agent data dir lock', () => {
  it('refuses a second agent on the same data dir, naming the first one\'s PID', async () => {
    const dir = join(tmp, 'shared');
    const first = await agent(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: first.pid });
    const refused = await agent(dir).then(
      () => 'started',
      (e: unknown) => (e as Error).message,
    );
    expect(refused).toMatch(/exited during start/);
    expect(refused).toContain(`another crowsnest agent (PID ${first.pid}) is using the data dir ${dir}`);
    // The first is untouched: still ready, still the holder.
    expect((await fetch(`${first.apiUrl}/readyz`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: first.pid });

    // Another dir is another agent's business.
    const other = await agent(join(tmp, 'other'));
    expect(other.pid).not.toBe(first.pid);
  });

  it('takes over the lock a kill -9 left, says so in the log, and removes its own at a clean stop', async () => {
    const dir = join(tmp, 'crashed');
    const first = await agent(dir);
    running.splice(running.indexOf(first), 1);
    await first.kill();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: first.pid });

    const second = await agent(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: second.pid });
    expect(second.output()).toMatch(/took over a stale data dir lock/);
    expect(second.output()).toContain(`"stalePid":${first.pid}`);
    running.splice(running.indexOf(second), 1);
    await second.stop();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
