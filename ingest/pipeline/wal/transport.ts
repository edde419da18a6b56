/**
 * The embedded default transport: each accepted request is appended to the write-ahead log as OTLP protobuf (JSON
 * is transcoded, as for Kafka) and answered once the log has synced it to disk, typically within one fdatasync. The
 * WAL's writer (writer.ts) inserts it into ClickHouse afterwards, so clients never wait on an insert.
 *
 * Backpressure: when the log holds `--wal-max-bytes` not yet inserted, `publish` fails fast with a retryable result
 * (receivers answer 503 + Retry-After), the signal OTLP exporters back off on.
 */
import type { Logger } from 'pino';
import type { PlatformMetrics } from '#core/metrics.ts';
import { toProtobuf } from '#otlp/to-protobuf.ts';
import type { Envelope, PublishResult, Transport } from '../transport.ts';
import type { WriteAheadLog } from './log.ts';
import type { WalMetrics } from './metrics.ts';

export class WalTransport implements Transport {
  readonly name = 'wal';
  readonly needsRows = false;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(
    private readonly wal: WriteAheadLog,
    private readonly metrics: PlatformMetrics,
    private readonly wmetrics: WalMetrics,
    private readonly log: Logger,
  ) {}

  async publish(env: Envelope): Promise<PublishResult> {
    if (this.#closed) return { ok: false, retryable: true, reason: 'shutting down', retryAfterSeconds: 5 };
    const payload = env.format === 'protobuf' ? env.body : toProtobuf(env.signal, env.body);
    const appended = this.wal.tryAppend(env.signal, payload);
    if (!appended.ok) {
      this.wmetrics.refused.inc({ reason: appended.reason });
      if (appended.reason === 'full') return { ok: false, retryable: true, reason: 'ingest queue is full', retryAfterSeconds: 1 };
      if (appended.reason === 'failed') this.log.error({ err: appended.message }, 'write-ahead log refused a request');
      // Reasons reach clients: the disk's error stays in the log line above.
      return { ok: false, retryable: true, reason: appended.reason === 'closed' ? 'shutting down' : 'storage unavailable', retryAfterSeconds: 5 };
    }
    if (!appended.retry) {
      this.wmetrics.appended.inc({ signal: env.signal });
      this.wmetrics.appendedBytes.inc({ signal: env.signal }, payload.byteLength);
    }
    this.metrics.queueBytes.set(this.wal.pendingBytes);
    this.metrics.queueDepth.set(this.wal.pendingRecords);
    this.#inFlight.add(appended.durable);
    try {
      await appended.durable;
      return { ok: true };
    } catch (e) {
      this.wmetrics.refused.inc({ reason: 'failed' });
      this.log.error({ err: (e as Error).message }, 'write-ahead log sync failed');
      return { ok: false, retryable: true, reason: 'storage unavailable', retryAfterSeconds: 5 };
    } finally {
      this.#inFlight.delete(appended.durable);
    }
  }

  /** Stops taking requests and waits for the appends in flight to be synced. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
  }
}
