/**
 * The log tap: where a process's live tail (query/tail) hears of new log records, without asking ClickHouse.
 *
 * Publishers hand it OTLP `ExportLogsServiceRequest` protobuf bytes, the form every transport already carries:
 *   writer   the writer of this process (the write-ahead log's, or the Kafka consumer group member), right after
 *            a plan's insert into ClickHouse succeeded: a tailed line is a stored line
 *   kafka    the query role apart behind Kafka (ingest/kafka/log-tap.ts): a consumer of the logs topic in a
 *            group of its own, from the latest offsets, never committing; a line is shown once Kafka holds it
 *            (durably acknowledged, and stored by the writers within their batch age)
 * Decoding the bytes is the subscriber's business, once per process however many viewers tail.
 *
 * Costs nothing when nobody tails: publishers check `active` before keeping anything for it (a writer keeps the
 * references to its log requests' bytes only then), and a tap with a `lifecycle` (the Kafka one) runs its source
 * only between the first subscription and the last unsubscription.
 *
 * One per process, under `LOG_TAP`, provided by the role that feeds it (started before the query role).
 */
import { ServiceKey } from './role.ts';

export type LogTapSource = 'writer' | 'kafka';

/** Receives published requests; called synchronously by `publish`, so it must be quick and must not throw. */
export type LogTapListener = (requests: readonly Uint8Array[]) => void;

/** What a tap whose source costs something while running (a Kafka consumer) starts and stops. */
export interface LogTapLifecycle {
  /** Starts the source; resolves once new records flow (the consumer fetches), rejects when it cannot start. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class LogTap {
  readonly #listeners = new Set<LogTapListener>();
  /** Starts and stops, in order: a subscription right after the last one left waits for the stop to finish. */
  #chain: Promise<void> = Promise.resolve();
  #live: Promise<void> = Promise.resolve();
  /** Whether the lifecycle's source runs (started and not stopped since). */
  #running = false;

  constructor(
    readonly source: LogTapSource,
    private readonly lifecycle?: LogTapLifecycle,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Whether anyone listens: publishers keep and publish nothing while false. */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /** Resolves once the source runs (at once for a writer's tap); never rejects (a failed start is reported to `onError`). */
  live(): Promise<void> {
    return this.#live;
  }

  publish(requests: readonly Uint8Array[]): void {
    if (requests.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(requests);
      } catch (err) {
        this.onError(err); // one subscriber's bug must not fail the writer's flush
      }
    }
  }

  /** Adds a listener (starting the source if it is the first); returns its unsubscribe. */
  subscribe(listener: LogTapListener): () => void {
    const first = this.#listeners.size === 0;
    this.#listeners.add(listener);
    if (first && this.lifecycle) {
      const lifecycle = this.lifecycle;
      this.#chain = this.#chain
        .then(async () => {
          if (!this.active || this.#running) return;
          this.#running = true; // a failed start still needs its stop (a half-connected consumer)
          await lifecycle.start();
        })
        .catch((err: unknown) => this.onError(err));
      this.#live = this.#chain;
    }
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.lifecycle) {
        const lifecycle = this.lifecycle;
        this.#chain = this.#chain
          .then(async () => {
            if (this.active || !this.#running) return;
            this.#running = false;
            await lifecycle.stop();
          })
          .catch((err: unknown) => this.onError(err));
      }
    };
  }

  /** Drops every listener and stops the source (the owner's shutdown). */
  async close(): Promise<void> {
    this.#listeners.clear();
    const lifecycle = this.lifecycle;
    if (!lifecycle) return;
    this.#chain = this.#chain
      .then(async () => {
        if (!this.#running) return;
        this.#running = false;
        await lifecycle.stop();
      })
      .catch((err: unknown) => this.onError(err));
    await this.#chain;
  }
}

/** The process's log tap; absent when nothing in the process can feed one (the query role then polls, see query/tail). */
export const LOG_TAP = new ServiceKey<LogTap>('log-tap');
