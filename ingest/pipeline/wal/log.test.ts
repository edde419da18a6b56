import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type WalOptions, type WalRecord, WriteAheadLog } from './log.ts';
import { HEADER_BYTES } from './record.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'crowsnest-wal-'));
  dirs.push(d);
  return d;
}

function open(dir: string, opts: Partial<WalOptions> = {}): WriteAheadLog {
  return WriteAheadLog.open({ dir, maxBytes: 1024 * 1024, ...opts });
}

async function append(wal: WriteAheadLog, text: string, signal: 'traces' | 'logs' | 'metrics' = 'traces'): Promise<void> {
  const r = wal.tryAppend(signal, Buffer.from(text));
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  await r.durable;
}

function readAll(wal: WriteAheadLog): WalRecord[] {
  const out: WalRecord[] = [];
  for (let r = wal.readNext(); r; r = wal.readNext()) out.push(r);
  return out;
}

const texts = (records: WalRecord[]) => records.map((r) => r.payload.toString());
const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wal'));

describe('write-ahead log', () => {
  it('reads back durable records in order with their offsets and signals, and nothing before they are durable', async () => {
    const wal = open(tmp());
    const r = wal.tryAppend('logs', Buffer.from('not yet'));
    expect(r.ok).toBe(true);
    expect(wal.readNext()).toBeUndefined(); // written, not yet synced
    if (r.ok) await r.durable;
    await append(wal, 'second', 'metrics');
    const records = readAll(wal);
    expect(records.map((x) => [x.offset, x.signal, x.payload.toString()])).toEqual([
      [0, 'logs', 'not yet'],
      [1, 'metrics', 'second'],
    ]);
    expect(records[1]!.next).toEqual({ offset: 2, segment: 0, pos: 2 * HEADER_BYTES + 'not yet'.length + 'second'.length });
    await wal.close();
  });

  it('commits many appends of one moment with one sync (group commit)', async () => {
    const syncs: number[] = [];
    const wal = open(tmp(), { onSync: (_s, records) => syncs.push(records) });
    const results = Array.from({ length: 200 }, (_, i) => wal.tryAppend('traces', Buffer.from(`r${i}`)));
    await Promise.all(results.map((r) => (r.ok ? r.durable : Promise.reject(new Error(r.reason)))));
    expect(syncs.reduce((a, b) => a + b, 0)).toBe(200);
    expect(syncs.length).toBeLessThanOrEqual(2);
    expect(readAll(wal)).toHaveLength(200);
    await wal.close();
  });

  it('reads again after a restart what was not committed, and keeps its identity', async () => {
    const dir = tmp();
    const wal = open(dir);
    for (const t of ['a', 'b', 'c']) await append(wal, t);
    const [first] = readAll(wal);
    await wal.commit(first!.next);
    const id = wal.id;
    await wal.close();

    const again = open(dir);
    expect(again.id).toBe(id);
    expect(again.checkpoint.offset).toBe(1);
    expect(texts(readAll(again))).toEqual(['b', 'c']);
    await append(again, 'd');
    expect(readAll(again).map((r) => r.offset)).toEqual([3]);
    await again.close();
  });

  it('cuts a torn tail at start (a record a crash interrupted) and gives the next record its offset', async () => {
    const dir = tmp();
    const warnings: string[] = [];
    const wal = open(dir);
    for (const t of ['a', 'b', 'c']) await append(wal, t);
    await wal.close();
    const [segment] = segmentFiles(dir);
    const size = statSync(join(dir, segment!)).size;
    appendFileSync(join(dir, segment!), Buffer.from([7, 0, 0, 0, 1, 2, 3])); // a header cut short

    const again = open(dir, { warn: (_f, msg) => warnings.push(msg) });
    expect(statSync(join(dir, segment!)).size).toBe(size);
    expect(warnings.join()).toMatch(/torn tail/);
    await append(again, 'd');
    expect(readAll(again).map((r) => [r.offset, r.payload.toString()])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ]);
    await again.close();
  });

  it('skips a corrupt record between valid ones, keeps its bytes in dead/ and counts them', async () => {
    const dir = tmp();
    const dead: number[] = [];
    const wal = open(dir);
    for (const t of ['first', 'second', 'third']) await append(wal, t);
    await wal.close();
    const path = join(dir, segmentFiles(dir)[0]!);
    const bytes = readFileSync(path);
    const at = HEADER_BYTES + 'first'.length + HEADER_BYTES; // the second record's payload
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(path, bytes);

    const again = open(dir, { onDeadLetter: (n) => dead.push(n) });
    expect(texts(readAll(again))).toEqual(['first', 'third']);
    expect(dead).toEqual([HEADER_BYTES + 'second'.length]);
    expect(readdirSync(join(dir, 'dead')).sort()).toEqual(['00000000000000000000.wal@30.bin', '00000000000000000000.wal@30.txt']);
    await again.close();
  });

  it('refuses appends once maxBytes are pending, and takes them again after a commit', async () => {
    const wal = open(tmp(), { maxBytes: 100 });
    await append(wal, 'x'.repeat(60));
    const refused = wal.tryAppend('traces', Buffer.from('y'.repeat(60)));
    expect(refused).toMatchObject({ ok: false, reason: 'full' });
    const [r] = readAll(wal);
    await wal.commit(r!.next);
    expect(wal.pendingBytes).toBe(0);
    await append(wal, 'y'.repeat(60));
    await wal.close();
  });

  it('takes a record larger than maxBytes when nothing is pending (it could never be taken otherwise)', async () => {
    const wal = open(tmp(), { maxBytes: 10 });
    await append(wal, 'z'.repeat(100));
    expect(wal.tryAppend('traces', Buffer.from('more'))).toMatchObject({ ok: false, reason: 'full' });
    await wal.close();
  });

  it('starts new segments as they fill and deletes those wholly committed', async () => {
    const dir = tmp();
    const wal = open(dir, { segmentBytes: 100, retryWindowMs: 0 });
    for (let i = 0; i < 10; i++) await append(wal, `record-${i}-${'p'.repeat(30)}`);
    expect(segmentFiles(dir).length).toBeGreaterThan(3);
    const records = readAll(wal);
    expect(records).toHaveLength(10);
    await wal.commit(records[6]!.next);
    expect(texts(readAll(wal))).toEqual([]);
    const left = segmentFiles(dir).map((f) => Number(f.slice(0, 20)));
    expect(Math.min(...left)).toBeLessThanOrEqual(7);
    expect(Math.min(...left)).toBeGreaterThan(0);
    await wal.commit(records[9]!.next);
    expect(wal.pendingBytes).toBe(0);
    expect(segmentFiles(dir)).toHaveLength(1);
    await wal.close();

    const again = open(dir, { segmentBytes: 100, retryWindowMs: 0 });
    expect(readAll(again)).toEqual([]);
    await append(again, 'after');
    expect(readAll(again).map((r) => r.offset)).toEqual([10]);
    await again.close();
  });

  it('reports the age of the oldest pending record from its header, also after a restart', async () => {
    const dir = tmp();
    const wal = open(dir);
    expect(wal.oldestPendingSeconds()).toBeUndefined();
    await append(wal, 'old');
    await wal.close();
    const again = open(dir);
    expect(again.oldestPendingSeconds(Date.now() + 5000)).toBeGreaterThanOrEqual(5);
    const [r] = readAll(again);
    await again.commit(r!.next);
    expect(again.oldestPendingSeconds()).toBeUndefined();
    await again.close();
  });

  it('is taken by one process at a time, and a lock left by a process that is gone is taken over', async () => {
    const dir = tmp();
    const wal = open(dir);
    await wal.close();
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, 'lock'), `${sleeper.pid}\n`);
      expect(() => open(dir)).toThrow(new RegExp(`in use by process ${sleeper.pid}`));
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.once('exit', r));
    }
    const again = open(dir); // the owner is gone now
    await again.close();
  });

  it('answers a retried request (the same signal and bytes) without a second record, also after a restart', async () => {
    const dir = tmp();
    const recognized: number[] = [];
    const wal = open(dir, { onRetryRecognized: () => recognized.push(1) });
    await append(wal, 'request-1');
    const again = wal.tryAppend('traces', Buffer.from('request-1'));
    expect(again).toMatchObject({ ok: true, retry: true });
    if (again.ok) await again.durable;
    await append(wal, 'request-1', 'logs'); // another signal is another request
    const records = readAll(wal);
    expect(records.map((r) => [r.offset, r.signal])).toEqual([
      [0, 'traces'],
      [1, 'logs'],
    ]);
    await wal.commit(records[1]!.next);
    await wal.close();
    // The first copy is durable and even committed: a restart still knows it from the kept segment.
    const reopened = open(dir, { onRetryRecognized: () => recognized.push(1) });
    expect(reopened.tryAppend('traces', Buffer.from('request-1'))).toMatchObject({ ok: true, retry: true });
    expect(readAll(reopened)).toEqual([]);
    expect(recognized).toHaveLength(2);
    await reopened.close();
  });

  it('treats the same bytes after the retry window as a new request, and keeps committed segments for the window', async () => {
    const dir = tmp();
    const wal = open(dir, { segmentBytes: 100, retryWindowMs: 300 });
    for (let i = 0; i < 4; i++) await append(wal, `request-${i}-${'p'.repeat(60)}`);
    const records = readAll(wal);
    await wal.commit(records[3]!.next);
    expect(segmentFiles(dir).length).toBeGreaterThan(1); // committed, but inside the window
    await new Promise((r) => setTimeout(r, 400));
    await append(wal, `request-0-${'p'.repeat(60)}`); // past the window: a new record
    const late = readAll(wal);
    expect(late.map((r) => r.offset)).toEqual([4]);
    await wal.commit(late[0]!.next);
    expect(segmentFiles(dir)).toHaveLength(1); // the committed ones are out of the window now
    await wal.close();
  });

  it('refuses appends once closing, and advanceTo skips offsets for what comes next', async () => {
    const wal = open(tmp());
    wal.advanceTo(42);
    await append(wal, 'late');
    expect(readAll(wal).map((r) => r.offset)).toEqual([42]);
    await wal.close();
    expect(wal.tryAppend('traces', Buffer.from('no'))).toMatchObject({ ok: false, reason: 'closed' });
  });
});
