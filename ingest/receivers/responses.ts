/**
 * OTLP response bodies: `Export*ServiceResponse` with `partial_success` for accepted requests and
 * `google.rpc.Status` for failures, in protobuf or JSON to match the request (OTLP/HTTP spec).
 */
import { ExportPartialSuccess, ExportServiceResponse } from '#otlp/descriptor.ts';
import { lenHeader, varint } from '#otlp/pb-write.ts';
import type { Signal } from '#otlp/rows.ts';

const REJECTED_FIELD: Record<Signal, string> = { traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints' };

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...lenHeader(field, bytes.length), ...bytes];
}

/** Protobuf `Export*ServiceResponse`; empty (zero bytes) when nothing was rejected. */
export function successProtobuf(rejected: number, message: string): Uint8Array {
  if (rejected === 0 && message === '') return new Uint8Array(0);
  const inner = [(ExportPartialSuccess.rejected.no << 3) | 0, ...varint(rejected), ...lengthDelimited(ExportPartialSuccess.errorMessage.no, Buffer.from(message))];
  return Uint8Array.from(lengthDelimited(ExportServiceResponse.partialSuccess.no, Uint8Array.from(inner)));
}

export function successJson(signal: Signal, rejected: number, message: string): string {
  if (rejected === 0 && message === '') return '{}';
  return JSON.stringify({ partialSuccess: { [REJECTED_FIELD[signal]]: String(rejected), errorMessage: message } });
}

/** `google.rpc.Status` (not OTLP: its field numbers are google.rpc's); `code` is the gRPC status of the error's code (#core/errors.ts). */
export function statusProtobuf(code: number, message: string): Uint8Array {
  return Uint8Array.from([(1 << 3) | 0, ...varint(code), ...lengthDelimited(2, Buffer.from(message))]);
}

export function statusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}

/**
 * `grpc-status-details-bin`: google.rpc.Status{code, message, details: [Any(google.rpc.RetryInfo{retry_delay})]},
 * which tells OTLP gRPC exporters how long to wait before retrying.
 */
export function retryStatusDetails(code: number, message: string, seconds: number): Buffer {
  const retryInfo = lengthDelimited(1, Uint8Array.from([(1 << 3) | 0, ...varint(seconds)]));
  const any = [
    ...lengthDelimited(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')),
    ...lengthDelimited(2, Uint8Array.from(retryInfo)),
  ];
  return Buffer.from([(1 << 3) | 0, ...varint(code), ...lengthDelimited(2, Buffer.from(message)), ...lengthDelimited(3, Uint8Array.from(any))]);
}
