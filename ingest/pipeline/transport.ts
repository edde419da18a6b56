/**
 * The seam between receivers and writers. A receiver hands each accepted OTLP request to `publish` and answers
 * its client only when the promise settles, so a success to the client means the data is durable:
 * - write-ahead log (the embedded default, wal/): fsynced to the log in the data directory;
 * - Kafka transport: acknowledged by the brokers (acks = all).
 * A full pipeline fails fast with a retryable result instead of queueing without bound.
 */
import { ServiceKey } from '#core/role.ts';
import type { DecodedRequest, RequestCounts, Signal } from '#otlp/rows.ts';

/** Whether the request was decoded into rows, rather than only validated. */
export function hasRows(decoded: DecodedRequest | RequestCounts): decoded is DecodedRequest {
  return 'tables' in decoded;
}

export interface Envelope {
  signal: Signal;
  /** The rows when the transport needs them (`needsRows`); otherwise a protobuf request may come only validated and counted. */
  decoded: DecodedRequest | RequestCounts;
  /** Size of the request on the wire, used to bound memory. */
  bytes: number;
  /** The request body as received (decompressed), for transports that carry bytes (Kafka). */
  body: Uint8Array;
  format: 'protobuf' | 'json';
}

export type PublishResult =
  | { ok: true }
  /** The pipeline is full or a dependency is down: the client should retry after the given delay. */
  | { ok: false; retryable: true; reason: string; retryAfterSeconds: number }
  /** Cannot ever succeed (a bug or a permanent storage rejection). */
  | { ok: false; retryable: false; reason: string };

export interface Transport {
  readonly name: string;
  /** Whether `publish` needs the decoded rows, or only the validated request bytes (Kafka forwards them). */
  readonly needsRows: boolean;
  publish(env: Envelope): Promise<PublishResult>;
  /** Stops taking new requests and waits for the ones in flight. */
  close(): Promise<void>;
}

/** The write-ahead log's transport, provided by the writer role when there is no Kafka, used by the gateway of the same process. */
export const LOCAL_TRANSPORT = new ServiceKey<Transport>('local-transport');
