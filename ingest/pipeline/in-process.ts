/**
 * The embedded default transport: requests go straight to the batch writer in this process. Memory is bounded
 * by `maxBytes` of requests in flight; past it, `publish` fails fast with a retryable result (the receivers
 * answer 503 + Retry-After), which is how backpressure reaches OTLP clients.
 */
import type { PlatformMetrics } from '#core/metrics.ts';
import { type Envelope, type PublishResult, type Transport, hasRows } from './transport.ts';
import type { BatchWriter } from './writer.ts';

export class InProcessTransport implements Transport {
  readonly name = 'in-process';
  readonly needsRows = true;
  #bytes = 0;
  #depth = 0;
  #closed = false;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly writer: BatchWriter,
    private readonly maxBytes: number,
    private readonly metrics: PlatformMetrics,
  ) {}

  async publish(env: Envelope): Promise<PublishResult> {
    if (this.#closed) return { ok: false, retryable: true, reason: 'shutting down', retryAfterSeconds: 5 };
    if (!hasRows(env.decoded)) return { ok: false, retryable: false, reason: 'bug: the in-process transport was given a request without rows' };
    // A single request larger than the whole queue is still let through when the queue is empty, or it could never succeed.
    if (this.#bytes > 0 && this.#bytes + env.bytes > this.maxBytes) {
      return { ok: false, retryable: true, reason: 'ingest queue is full', retryAfterSeconds: 1 };
    }
    this.#track(env.bytes, 1);
    const done = this.writer.write(env.decoded);
    this.#inFlight.add(done);
    try {
      await done;
      return { ok: true };
    } catch {
      // The reason reaches clients; the writer logged the insert's error.
      return { ok: false, retryable: true, reason: 'storage write failed', retryAfterSeconds: 5 };
    } finally {
      this.#inFlight.delete(done);
      this.#track(-env.bytes, -1);
    }
  }

  #track(bytes: number, depth: number): void {
    this.#bytes += bytes;
    this.#depth += depth;
    this.metrics.queueBytes.set(this.#bytes);
    this.metrics.queueDepth.set(this.#depth);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
  }
}
