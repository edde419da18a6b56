/**
 * What the events collector remembers across restarts, in one small JSON file under the agent's data dir:
 * the resourceVersion up to which every event is durably queued, and per event (uid) the occurrence key
 * (count and last time) of its last stored row, so neither a resumed watch nor a relist stores an update twice.
 *
 * Bounded: at most `maxTracked` events, least recently updated dropped first (Kubernetes keeps events for an
 * hour by default; an event dropped from here and updated again is stored as a new occurrence, which it is).
 * Written atomically (temp file, fsync, rename, directory fsync), so a crash leaves the old or the new file.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface EventsState {
  resourceVersion: string | undefined;
  /** When this state was written (ms): the newest of two checkpoints wins. */
  savedAt: number;
  /** uid → occurrence key of the last stored row, least recently updated first. */
  seen: Map<string, string>;
}

export const STATE_FILE = 'k8s-events-state.json';

export function emptyState(): EventsState {
  return { resourceVersion: undefined, savedAt: 0, seen: new Map() };
}

/** The state in `dir`, or an empty one (missing or unreadable: a corrupt file is not fatal, it costs a relist). */
export function loadState(dir: string): EventsState {
  try {
    const raw = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { resourceVersion?: unknown; savedAt?: unknown; seen?: unknown };
    const seen = new Map<string, string>();
    if (Array.isArray(raw.seen)) for (const pair of raw.seen) if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') seen.set(pair[0], pair[1]);
    return {
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
  const body = JSON.stringify({ resourceVersion: state.resourceVersion ?? '', savedAt: state.savedAt, seen: [...state.seen] });
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
