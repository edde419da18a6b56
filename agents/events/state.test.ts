/** The events state and the queue commit that may be newer than it: which wins, and what it brings. */
import { describe, expect, it } from 'vitest';
import { type EventsState, applyCommit, decodeCommit, emptyState, encodeCommit } from './state.ts';

const state = (seq: number, seen: [string, string][], rv = 'rv-file'): EventsState => ({ seq, resourceVersion: rv, savedAt: 1, seen: new Map(seen) });

describe('applyCommit', () => {
  const cases: { name: string; file: EventsState; commit: Parameters<typeof applyCommit>[1]; applied: boolean; seen: [string, string][]; rv: string | undefined }[] = [
    { name: 'no commit: the file stands', file: state(3, [['a', '1']]), commit: undefined, applied: false, seen: [['a', '1']], rv: 'rv-file' },
    { name: 'an older commit (the file was written after it)', file: state(3, [['a', '1']]), commit: { seq: 2, resourceVersion: 'rv-old', savedAt: 0, seen: [['b', '1']] }, applied: false, seen: [['a', '1']], rv: 'rv-file' },
    { name: 'the same seq: the file already has it', file: state(3, [['a', '1']]), commit: { seq: 3, resourceVersion: 'rv-c', savedAt: 0, seen: [['a', '1']] }, applied: false, seen: [['a', '1']], rv: 'rv-file' },
    {
      name: 'a newer commit (crash between the queue and the file): its keys and rv',
      file: state(3, [['a', '1'], ['b', '1']]),
      commit: { seq: 4, resourceVersion: 'rv-c', savedAt: 9, seen: [['b', '2'], ['c', '1']] },
      applied: true,
      seen: [['a', '1'], ['b', '2'], ['c', '1']],
      rv: 'rv-c',
    },
    { name: 'a commit onto an empty state (no file yet)', file: emptyState(), commit: { seq: 1, resourceVersion: 'rv-c', savedAt: 9, seen: [['x', '1']] }, applied: true, seen: [['x', '1']], rv: 'rv-c' },
    { name: 'a commit without rv keeps the file\'s', file: state(1, []), commit: { seq: 2, resourceVersion: undefined, savedAt: 9, seen: [['x', '1']] }, applied: true, seen: [['x', '1']], rv: 'rv-file' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(applyCommit(c.file, c.commit, 100)).toBe(c.applied);
      expect([...c.file.seen]).toEqual(c.seen);
      expect(c.file.resourceVersion).toBe(c.rv);
      if (c.applied) expect(c.file.seq).toBe(c.commit!.seq);
    });
  }

  it('stays within maxTracked, dropping the least recently updated', () => {
    const s = state(1, [['a', '1'], ['b', '1']]);
    applyCommit(s, { seq: 2, resourceVersion: 'r', savedAt: 0, seen: [['c', '1'], ['d', '1']] }, 3);
    expect([...s.seen.keys()]).toEqual(['b', 'c', 'd']);
  });
});

describe('commit encoding', () => {
  it('round-trips', () => {
    const c = { seq: 7, resourceVersion: '123', savedAt: 5, seen: [['u', 'k'] as [string, string]] };
    expect(decodeCommit(encodeCommit(c))).toEqual(c);
  });
  it('is undefined for bytes that are not a commit', () => {
    for (const bad of ['', 'nope', '{}', '{"seq":"1","seen":[]}', '{"seq":1}']) expect(decodeCommit(Buffer.from(bad))).toBeUndefined();
  });
});
