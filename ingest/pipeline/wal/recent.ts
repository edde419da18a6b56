/**
 * Recognising a retried request: OTLP has no idempotency key, so a client (an SDK exporter, the node agent after
 * a crash) that got no answer sends the same bytes again. A request is known by the SHA-256 of its signal tag and
 * bytes (`requestHash`); `RecentRequests` remembers the hashes of the last `windowMs` (oldest first: a Map keeps
 * insertion order, so forgetting stops at the first one still inside the window), each with what its transport
 * needs to answer the retry (the write-ahead log: the record's offset; the Kafka transport: the publish itself).
 *
 * Bounded: at most `maxEntries`; past it the oldest are forgotten early and counted (`evicted`), which shortens the
 * window under a flood of small requests rather than growing memory. An entry costs ~200 bytes (a 44-character
 * base64 key, the value, the Map's slot).
 *
 * Two distinct requests with the same bytes cannot come from an SDK (span ids are random, points and records
 * carry their times), so a hash seen again within the window is a retry.
 */
import { createHash } from 'node:crypto';

/** What recognises a retried request: its signal (or another tag) and its bytes. */
export function requestHash(tag: string, payload: Uint8Array): string {
  return createHash('sha256').update(tag).update(payload).digest('base64');
}

export interface RecentRequestsOptions {
  /** How long a request is remembered. */
  windowMs: number;
  /** Entries kept at most. @default Infinity */
  maxEntries?: number;
}

export class RecentRequests<T> {
  readonly #entries = new Map<string, { value: T; at: number }>();
  readonly #windowMs: number;
  readonly #max: number;
  /** Entries forgotten before their window ended, because `maxEntries` was reached. */
  evicted = 0;

  constructor(opts: RecentRequestsOptions) {
    this.#windowMs = opts.windowMs;
    this.#max = opts.maxEntries ?? Infinity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value remembered for `hash` (forgetting what the window has passed first), or undefined. */
  get(hash: string, now = Date.now()): T | undefined {
    this.forget(now);
    return this.#entries.get(hash)?.value;
  }

  /** Remembers `hash` as seen at `at` (now by default); `at` should not go backwards between calls. */
  set(hash: string, value: T, at = Date.now()): void {
    this.#entries.delete(hash);
    this.#entries.set(hash, { value, at });
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value as string);
      this.evicted++;
    }
  }

  delete(hash: string): void {
    this.#entries.delete(hash);
  }

  /** Drops what is older than the window (the oldest come first). */
  forget(now = Date.now()): void {
    const since = now - this.#windowMs;
    for (const [hash, r] of this.#entries) {
      if (r.at >= since) break;
      this.#entries.delete(hash);
    }
  }
}
