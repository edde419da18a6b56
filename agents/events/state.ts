/**
 * What the events collector remembers across restarts, in one small JSON file under the agent's data dir:
 * the resourceVersion up to which every event is durably queued, and per event (uid) the occurrence key
 * (count and last time) of its last stored row, so neither a resumed watch nor a relist stores an update twice.
 *
 * Bounded: at most `maxTracked` events, least recently updated dropped first (Kubernetes keeps events for an
 * hour by default; an event dropped from here and updated again is stored as a new occurrence, which it is).
 * Written atomically (temp file, fsync, rename, directory fsync), so a crash leaves the old or the new file.
 *
 * The file is written *after* a batch is durable in the on-disk queue, so alone it could lag the queue by a
 * batch (a crash between the two fsyncs). Each batch therefore carries, in its queue record, a `Commit`: the
 * state it advances to, as the changes since the file's last successful write (`seq`, resourceVersion and the
 * occurrence keys). At leadership the newer of the two wins (`applyCommit`: higher `seq`), so the batch and the
 * state it implies are one atomic write, and a restart never enqueues the same updates again.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface EventsState {
  /** Bumped at every change written (file or queue commit): the higher of two is the newer. */
  seq: number;
  resourceVersion: string | undefined;
  /** When this state was written (ms): the newest of two checkpoints wins. */
  savedAt: number;
  /** uid → occurrence key of the last stored row, least recently updated first. */
  seen: Map<string, string>;
}

export const STATE_FILE = 'k8s-events-state.json';

export function emptyState(): EventsState {
  return { seq: 0, resourceVersion: undefined, savedAt: 0, seen: new Map() };
}

/** The state in `dir`, or an empty one (missing or unreadable: a corrupt file is not fatal, it costs a relist). */
export function loadState(dir: string): EventsState {
  try {
    const raw = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { seq?: unknown; resourceVersion?: unknown; savedAt?: unknown; seen?: unknown };
    const seen = new Map<string, string>();
    if (Array.isArray(raw.seen)) for (const pair of raw.seen) if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') seen.set(pair[0], pair[1]);
    return {
      seq: typeof raw.seq === 'number' && Number.isSafeInteger(raw.seq) ? raw.seq : 0,
      resourceVersion: typeof raw.resourceVersion === 'string' && raw.resourceVersion !== '' ? raw.resourceVersion : undefined,
      savedAt: typeof raw.savedAt === 'number' ? raw.savedAt : 0,
      seen,
    };
  } catch {
    return emptyState();
  }
}

/** Records an occurrence as stored, keeping at most `max` events. */
export function remember(state: EventsState, uid: string, key: string, max: number): void {
  state.seen.delete(uid);
  state.seen.set(uid, key);
  while (state.seen.size > max) state.seen.delete(state.seen.keys().next().value as string);
}

export async function saveState(dir: string, state: EventsState): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, STATE_FILE);
  const tmp = `${path}.tmp`;
  const body = JSON.stringify({ seq: state.seq, resourceVersion: state.resourceVersion ?? '', savedAt: state.savedAt, seen: [...state.seen] });
  const f = await open(tmp, 'w');
  try {
    await f.writeFile(body);
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
  const d = await open(dirname(path), 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** The queue commit stream of the events collector. */
export const COMMIT_STREAM = 'k8s-events';

/** What a batch's queue record commits: the state after it, as changes since the state file's last write. */
export interface Commit {
  seq: number;
  resourceVersion: string | undefined;
  savedAt: number;
  /** Occurrence keys stored since the file was last written (this batch's, and any a failed write left out). */
  seen: [string, string][];
}

export function encodeCommit(c: Commit): Uint8Array {
  return Buffer.from(JSON.stringify({ seq: c.seq, resourceVersion: c.resourceVersion ?? '', savedAt: c.savedAt, seen: c.seen }));
}

/** The commit in `data`, or undefined when it is not one (never fatal: the state file alone is at-least-once). */
export function decodeCommit(data: Uint8Array): Commit | undefined {
  try {
    const raw = JSON.parse(Buffer.from(data).toString('utf8')) as { seq?: unknown; resourceVersion?: unknown; savedAt?: unknown; seen?: unknown };
    if (typeof raw.seq !== 'number' || !Number.isSafeInteger(raw.seq) || !Array.isArray(raw.seen)) return undefined;
    const seen: [string, string][] = [];
    for (const pair of raw.seen) if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') seen.push([pair[0], pair[1]]);
    return {
      seq: raw.seq,
      resourceVersion: typeof raw.resourceVersion === 'string' && raw.resourceVersion !== '' ? raw.resourceVersion : undefined,
      savedAt: typeof raw.savedAt === 'number' ? raw.savedAt : 0,
      seen,
    };
  } catch {
    return undefined;
  }
}

/**
 * Brings `state` (from the file) up to `commit` (from the queue) when the commit is newer; returns whether it
 * was. The commit holds every change since the file's last write, so applying the newest one is enough.
 */
export function applyCommit(state: EventsState, commit: Commit | undefined, maxTracked: number): boolean {
  if (!commit || commit.seq <= state.seq) return false;
  for (const [uid, key] of commit.seen) remember(state, uid, key, maxTracked);
  state.seq = commit.seq;
  state.resourceVersion = commit.resourceVersion ?? state.resourceVersion;
  state.savedAt = commit.savedAt;
  return true;
}
