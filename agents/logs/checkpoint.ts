/**
 * Checkpoints are data: what the log source knows of every chain of files it tails, kept in one JSON document
 * under the agent's data dir (`<data-dir>/logs/checkpoints.json`), replaced atomically: written aside, fsynced,
 * renamed over the old one, and the directory fsynced, so a crash leaves either the old or the new document.
 *
 * A chain is one container's log over time: `…/<container>/0.log` and the files it was rotated into. Each file
 * has a number in its chain (`seq`) and an identity: device + inode, plus a fingerprint (a hash of its first bytes)
 * that tells a reused inode or a truncated file from the file we knew. A position is `{seq, off}`.
 *
 * Per chain:
 * - `frontier`: every line before it was acknowledged by the gateway (or counted lost); reading resumes here;
 * - `skip`: per stream, lines before this position belong to records already acknowledged (a stack trace on
 *   stderr acknowledged while a stdout line inside it was not: the frontier stops at that stdout line, and the
 *   trace's later lines must not come back as records of their own);
 * - `inflight`: the batch handed to the gateway and not yet acknowledged, written here *before* it is sent: where
 *   it ends, the resource it carried and its observed time. After a crash the source rebuilds exactly these
 *   records into exactly these bytes, and the gateway recognises the request as a retry of one it stored;
 * - `breaks`: records that a timer closed (a multiline flush timeout, a partial line never finished), so a replay
 *   closes them at the same line although more lines are there by then;
 * - `files`: the files from the frontier's on, with their identity and last known size;
 * - `ignored`: copies made by copytruncate (same first bytes as a file of the chain), never read as new files;
 * - `finished`: rotated files read and acknowledged to their end, still on disk: never read again.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stream } from './parse.ts';

export interface Pos {
  seq: number;
  off: number;
}

export const cmpPos = (a: Pos, b: Pos): number => a.seq - b.seq || a.off - b.off;
export const posKey = (p: Pos): string => `${p.seq}:${p.off}`;

export interface FileState {
  seq: number;
  dev: string;
  ino: string;
  /** sha256 (base64) of the first `fpLen` bytes. */
  fp: string;
  fpLen: number;
  path: string;
  /** Size at the last look, for what a deletion lost. */
  size: number;
}

export interface InflightState {
  /** Start of the batch's last record. */
  cutAt: Pos;
  /** Observed time given to records without a time of their own (ns, decimal), "0" when none. */
  observedNs: string;
  resource: [string, string][];
}

export interface ChainState {
  key: string;
  nextSeq: number;
  frontier: Pos;
  skip: Partial<Record<Stream, Pos>>;
  inflight?: InflightState | undefined;
  breaks: { stream: Stream; at: Pos }[];
  files: FileState[];
  ignored: { dev: string; ino: string }[];
  /** Files read and acknowledged to their end that are still on disk (rotated), so a scan skips them. */
  finished?: { dev: string; ino: string; fp: string; fpLen: number }[];
}

export interface AgentLogState {
  version: 1;
  chains: Record<string, ChainState>;
}

const FILE = 'checkpoints.json';

export class CheckpointStore {
  readonly dir: string;
  readonly #snapshot: () => AgentLogState;
  #writing: Promise<void> | undefined;
  #again = false;
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** A change waits for a write (`commitLater`) that has not taken its snapshot yet. */
  #dirty = false;
  #later: NodeJS.Timeout | undefined;
  #onLaterError: (e: unknown) => void = () => undefined;
  /** Commits written since start (for tests and metrics). */
  commits = 0;

  /** `snapshot` is called at the start of each write, so one write covers every change made before it. */
  constructor(dataDir: string, snapshot: () => AgentLogState) {
    this.dir = join(dataDir, 'logs');
    mkdirSync(this.dir, { recursive: true });
    this.#snapshot = snapshot;
  }

  load(): AgentLogState {
    let text: string;
    try {
      text = readFileSync(join(this.dir, FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, chains: {} };
      throw e;
    }
    const doc = JSON.parse(text) as AgentLogState;
    if (doc.version !== 1 || typeof doc.chains !== 'object') throw new Error(`${join(this.dir, FILE)}: not a checkpoint document of version 1`);
    return doc;
  }

  /**
   * Resolves once a write that began after this call is durable (group commit: one write in flight, and every
   * request made meanwhile shares the next one).
   */
  commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (this.#writing) this.#again = true;
      else this.#writing = this.#loop();
    });
  }

  /**
   * Asks for a write within `delayMs`, without waiting for it: any write that takes its snapshot before then
   * covers the change. For changes whose loss in a crash costs only a replay the gateway recognises (an
   * acknowledgement: the checkpoint still names that batch as in flight, so it is rebuilt into the same bytes).
   * While data flows, the next batch's own commit (before it is sent) carries the acknowledgement of the one before,
   * so a busy chain pays one checkpoint write per batch instead of two.
   */
  commitLater(delayMs: number, onError: (e: unknown) => void): void {
    this.#dirty = true;
    this.#onLaterError = onError;
    if (this.#later !== undefined) return;
    this.#later = setTimeout(() => {
      this.#later = undefined;
      if (this.#dirty) this.commit().catch((e: unknown) => this.#onLaterError(e));
    }, delayMs);
  }

  async #loop(): Promise<void> {
    for (;;) {
      this.#again = false;
      const waiters = this.#waiters;
      this.#waiters = [];
      try {
        this.#dirty = false; // the snapshot below covers every change made so far
        await this.#write(JSON.stringify(this.#snapshot()));
        this.commits++;
        for (const w of waiters) w.resolve();
      } catch (e) {
        for (const w of waiters) w.reject(e);
      }
      if (!this.#again && this.#waiters.length === 0) break;
    }
    this.#writing = undefined;
  }

  async #write(text: string): Promise<void> {
    const tmp = join(this.dir, `${FILE}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    renameSync(tmp, join(this.dir, FILE));
    const d = await open(this.dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  /** Synchronous write, for close. */
  writeNow(): void {
    if (this.#later !== undefined) clearTimeout(this.#later);
    this.#later = undefined;
    this.#dirty = false;
    const tmp = join(this.dir, `${FILE}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.#snapshot()));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, FILE));
    this.commits++;
  }

  async idle(): Promise<void> {
    while (this.#writing) await this.#writing;
  }
}
