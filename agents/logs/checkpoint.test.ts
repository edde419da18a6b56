/**
 * The checkpoint store's write scheduling, on a real directory: `commit` (awaited, group commit) and `commitLater`
 * (acknowledgements: written by the next write that takes its snapshot after the change, or within the delay).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.ts';
import { type AgentLogState, CheckpointStore } from './checkpoint.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkpoint-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store whose document holds one chain with frontier offset `state.off`. */
function storeOf(state: { off: number }): CheckpointStore {
  const snapshot = (): AgentLogState => ({
    version: 1,
    chains: { c: { key: 'c', nextSeq: 1, frontier: { seq: 0, off: state.off }, skip: {}, breaks: [], files: [], ignored: [] } },
  });
  return new CheckpointStore(dir, snapshot);
}

const offOnDisk = (store: CheckpointStore) => store.load().chains['c']?.frontier.off;
const failOnError = (e: unknown) => {
  throw e;
};

describe('CheckpointStore.commitLater', () => {
  it('writes a change within the delay when no other write carries it', async () => {
    const state = { off: 1 };
    const store = storeOf(state);
    store.commitLater(20, failOnError);
    await eventually(() => expect(offOnDisk(store)).toBe(1), 10_000, 10);
    // The file is renamed into place before the write finishes (directory fsync); the count follows it.
    await store.idle();
    expect(store.commits).toBe(1);
  });

  it('makes one write of many changes asked for within the delay', async () => {
    const state = { off: 0 };
    const store = storeOf(state);
    for (let i = 1; i <= 50; i++) {
      state.off = i;
      store.commitLater(200, failOnError);
    }
    await eventually(() => expect(offOnDisk(store)).toBe(50), 10_000, 10);
    await store.idle();
    expect(store.commits).toBe(1);
  });

  it('is carried by an awaited commit that starts after the change, without a write of its own', async () => {
    const state = { off: 7 };
    const store = storeOf(state);
    store.commitLater(60_000, failOnError);
    await store.commit();
    expect(offOnDisk(store)).toBe(7);
    expect(store.commits).toBe(1);
    // The timer finds nothing left to write (and close's writeNow clears it).
    store.writeNow();
    expect(store.commits).toBe(2);
  });

  it('writes a change made while a write is in progress (its snapshot was taken before the change)', async () => {
    const state = { off: 1 };
    const store = storeOf(state);
    const first = store.commit(); // takes its snapshot now (off 1)
    state.off = 2;
    store.commitLater(20, failOnError);
    await first;
    await eventually(() => expect(offOnDisk(store)).toBe(2), 10_000, 10);
  });
});
