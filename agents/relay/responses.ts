/**
 * The relay's error bodies: `google.rpc.Status` (protobuf or JSON, matching the request, as OTLP/HTTP asks) and
 * the gRPC `grpc-status-details-bin` carrying a `google.rpc.RetryInfo`, which OTLP gRPC exporters honour. The
 * gateway has the same few lines in its receivers (a role the agent may not import); they are small enough to
 * keep here rather than move.
 */
import { lenHeader, varint } from '#otlp/pb-write.ts';

function lengthDelimited(field: number, bytes: Uint8Array): number[] {
  return [...lenHeader(field, bytes.length), ...bytes];
}

export function statusProtobuf(code: number, message: string): Uint8Array {
  return Uint8Array.from([(1 << 3) | 0, ...varint(code), ...lengthDelimited(2, Buffer.from(message))]);
}

export function statusJson(code: number, message: string): string {
  return JSON.stringify({ code, message });
}

/** google.rpc.Status{code, message, details: [Any(google.rpc.RetryInfo{retry_delay: seconds})]}. */
export function retryInfoStatus(code: number, message: string, seconds: number): Buffer {
  const retryInfo = lengthDelimited(1, Uint8Array.from([(1 << 3) | 0, ...varint(seconds)]));
  const any = [...lengthDelimited(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), ...lengthDelimited(2, Uint8Array.from(retryInfo))];
  return Buffer.from([(1 << 3) | 0, ...varint(code), ...lengthDelimited(2, Buffer.from(message)), ...lengthDelimited(3, Uint8Array.from(any))]);
}
