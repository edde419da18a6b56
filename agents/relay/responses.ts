/**
 * The relay's answers: what the sending application gets for each way the gateway settled its request, and the
 * bodies: `google.rpc.Status` (protobuf or JSON, matching the request, as OTLP/HTTP asks), the gRPC
 * `grpc-status-details-bin` carrying a `google.rpc.RetryInfo` (which OTLP gRPC exporters honour), and the
 * `Export*ServiceResponse` of a partial success, passed back unchanged. The gateway has the same few lines in its
 * receivers (a role the agent may not import); they are small enough to keep here rather than move.
 *
 * The refusal mapping (`refusalAnswer`) follows the OTLP specification's split: retryable (HTTP 429/502/503/504,
 * gRPC UNAVAILABLE with RetryInfo) or not. The question for each gateway answer is whether the *application*
 * could do anything about it:
 *   400 (its data is malformed)   → 400 / INVALID_ARGUMENT: its own fault, not retryable, as from the gateway itself
 *   413 (its request is too big)  → 413 / RESOURCE_EXHAUSTED: smaller batches help, retrying the same does not
 *   401, 403 (the agent's token), 404, 405, 415 and other 4xx (the agent's endpoint or config)
 *                                 → 503 / UNAVAILABLE + Retry-After: nothing the app sent is wrong and it cannot fix
 *                                   the agent; its retries keep the data while an operator fixes the agent
 *   5xx the forwarder gave up on  → 502 / UNAVAILABLE + Retry-After: the gateway failed; later may work
 * The agent logs and counts each (crowsnest_agent_relay_refused_total{signal,status}).
 */
import { lenHeader, varint } from '#otlp/pb-write.ts';
import type { Signal } from '#otlp/rows.ts';

export const GRPC = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** What the relay answers when the gateway refused a request for good (`status`: the gateway's HTTP status). */
export interface RefusalAnswer {
  http: number;
  grpc: number;
  message: string;
  retryAfterSeconds?: number;
  /** The agent's own configuration is at fault (credentials, endpoint): logged as an error. */
  agentFault: boolean;
}

export function refusalAnswer(status: number, reason: string, retryAfterSeconds: number): RefusalAnswer {
  const said = `the gateway refused the request (${status}): ${reason}`;
  if (status === 400) return { http: 400, grpc: GRPC.INVALID_ARGUMENT, message: said, agentFault: false };
  if (status === 413) return { http: 413, grpc: GRPC.RESOURCE_EXHAUSTED, message: said, agentFault: false };
  if (status === 401 || status === 403) {
    return {
      http: 503,
      grpc: GRPC.UNAVAILABLE,
      message: `the gateway refused this node agent's credentials (${status}: ${reason}); the agent's --otlp-auth-token must be fixed. Retry later`,
      retryAfterSeconds,
      agentFault: true,
    };
  }
  if (status >= 400 && status < 500) {
    return { http: 503, grpc: GRPC.UNAVAILABLE, message: `the node agent cannot forward (${said}); its --otlp-endpoint or config must be fixed. Retry later`, retryAfterSeconds, agentFault: true };
  }
  return { http: 502, grpc: GRPC.UNAVAILABLE, message: `${said}. Retry later`, retryAfterSeconds, agentFault: false };
}

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

/** `Export*ServiceResponse{partial_success{rejected_*, error_message}}` (every signal numbers them 1, 1, 2). */
export function partialSuccessProtobuf(rejected: number, message: string): Uint8Array {
  if (rejected === 0 && message === '') return new Uint8Array(0);
  const inner = [(1 << 3) | 0, ...varint(rejected), ...lengthDelimited(2, Buffer.from(message))];
  return Uint8Array.from(lengthDelimited(1, Uint8Array.from(inner)));
}

const REJECTED_FIELD: Record<Signal, string> = { traces: 'rejectedSpans', logs: 'rejectedLogRecords', metrics: 'rejectedDataPoints' };

/** The same in OTLP/JSON (int64 as a string, as protobuf's JSON mapping writes it). */
export function partialSuccessJson(signal: Signal, rejected: number, message: string): string {
  if (rejected === 0 && message === '') return '{}';
  return JSON.stringify({ partialSuccess: { [REJECTED_FIELD[signal]]: String(rejected), errorMessage: message } });
}
