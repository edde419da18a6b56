/**
 * What every receiver does with a request body, whatever the protocol: decode it completely (a malformed
 * request is rejected whole, so nothing is half-written), publish it, and report one outcome the protocol
 * layer maps to its own status codes (HTTP status, gRPC code). A transport that forwards protobuf bytes
 * (Kafka) gets them validated by the same decoder, without the rows it would throw away.
 */
import type { Logger } from 'pino';
import type { PlatformMetrics } from '#core/metrics.ts';
import { OtlpDecodeError, decodeJson, decodeProtobuf, validateProtobuf } from '#otlp/decode.ts';
import type { DecodedRequest, RequestCounts, Signal } from '#otlp/rows.ts';
import type { Transport } from '../pipeline/transport.ts';

export type BodyFormat = 'protobuf' | 'json';

export type Outcome =
  /** Stored (or durably queued). `rejected` items were dropped, reported as OTLP partial success. */
  | { kind: 'ok'; rejected: number; message: string }
  /** The request can never be accepted as sent. */
  | { kind: 'invalid'; message: string }
  /** Retry later: the pipeline is full or storage/Kafka is unavailable. */
  | { kind: 'unavailable'; message: string; retryAfterSeconds: number }
  | { kind: 'failed'; message: string };

export interface AcceptDeps {
  transport: Transport;
  metrics: PlatformMetrics;
  log: Logger;
}

export async function accept(deps: AcceptDeps, signal: Signal, format: BodyFormat, body: Uint8Array, protocol: string): Promise<Outcome> {
  let decoded: DecodedRequest | RequestCounts;
  try {
    if (format === 'json') decoded = decodeJson(signal, body);
    else decoded = deps.transport.needsRows ? decodeProtobuf(signal, body) : validateProtobuf(signal, body);
  } catch (e: unknown) {
    if (e instanceof OtlpDecodeError) {
      deps.metrics.rejected.inc({ signal, reason: 'malformed' });
      return { kind: 'invalid', message: `invalid OTLP ${format} ${signal} request: ${e.message}` };
    }
    deps.log.error({ err: e, signal, format }, 'decoder failed unexpectedly');
    deps.metrics.rejected.inc({ signal, reason: 'decoder_bug' });
    return { kind: 'invalid', message: `could not decode OTLP ${format} ${signal} request` };
  }
  if (decoded.rejected > 0) deps.metrics.rejected.inc({ signal, reason: 'partial' }, decoded.rejected);
  if (decoded.accepted === 0) return { kind: 'ok', rejected: decoded.rejected, message: decoded.rejectMessage };
  const result = await deps.transport.publish({
    signal,
    decoded,
    bytes: body.byteLength,
    body,
    format,
  });
  if (result.ok) {
    deps.metrics.received.inc({ signal, protocol }, decoded.accepted);
    return { kind: 'ok', rejected: decoded.rejected, message: decoded.rejectMessage };
  }
  deps.metrics.rejected.inc({ signal, reason: result.retryable ? 'unavailable' : 'failed' });
  if (result.retryable) return { kind: 'unavailable', message: result.reason, retryAfterSeconds: result.retryAfterSeconds };
  return { kind: 'failed', message: result.reason };
}
