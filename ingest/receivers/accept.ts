/**
 * What every receiver does with a request body, whatever the protocol: decode it completely (a malformed
 * request is rejected whole, so nothing is half-written), publish it, and report one outcome the protocol
 * layer maps to its own status codes (HTTP status, gRPC code). A transport that forwards protobuf bytes
 * (Kafka) gets them validated by the same decoder, without the rows it would throw away.
 */
import { AppError } from '#core/errors.ts';
import type { Logger } from '#core/log.ts';
import type { PlatformMetrics } from '#core/metrics.ts';
import { OtlpDecodeError, decodeJson, decodeProtobuf, validateProtobuf } from '#otlp/decode.ts';
import type { DecodedRequest, RequestCounts, Signal } from '#otlp/rows.ts';
import type { Transport } from '../pipeline/transport.ts';

export type BodyFormat = 'protobuf' | 'json';

/**
 * Stored (or durably queued), with `rejected` items dropped and reported as OTLP partial success; or an error
 * in the platform's one model, which the protocol maps to its status (HTTP status, gRPC code):
 * - BAD_REQUEST: malformed input (the decoder's own `OtlpDecodeError`), never worth a retry;
 * - INTERNAL, a bug: the decoder threw something else. The request may well be valid, so it is not blamed on
 *   the client with a 400 (exporters drop data on a 400); the exception is logged, never sent;
 * - UNAVAILABLE: the pipeline is full or storage/Kafka is down, retry after the hint;
 * - INTERNAL, operational: the transport refused the request for good (Kafka over its message size).
 */
export type Outcome = { kind: 'ok'; rejected: number; message: string } | { kind: 'error'; error: AppError };

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
      return { kind: 'error', error: new AppError('BAD_REQUEST', `invalid OTLP ${format} ${signal} request: ${e.message}`) };
    }
    deps.metrics.rejected.inc({ signal, reason: 'decoder_bug' });
    return { kind: 'error', error: new AppError('INTERNAL', `decoder failed unexpectedly on an OTLP ${format} ${signal} request`, { cause: e, bug: true }) };
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
  // A transport's reasons are written for clients ("ingest queue is full"); it logs the errors behind them.
  if (result.retryable) return { kind: 'error', error: new AppError('UNAVAILABLE', result.reason, { retryAfterSeconds: result.retryAfterSeconds, expose: true }) };
  return { kind: 'error', error: new AppError('INTERNAL', result.reason, { expose: true, retryable: false, bug: false }) };
}
