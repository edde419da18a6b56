/**
 * One error model for every surface (the query API, the OTLP receivers over HTTP and gRPC, and whatever joins
 * them). An `AppError` carries a stable code; the code decides the HTTP status, the gRPC status, whether a retry
 * may succeed, and whether the message is meant for the client. Whether a failure is operational (bad input, a
 * dependency down, overload) or a bug (an exception nobody expected) decides how loudly it is logged.
 *
 * What a client sees: 4xx messages say what was wrong. A 5xx answer never carries internal error text: it gets
 * the code's generic text (or a message written for the client, such as the query API's "narrow the time range"
 * advice, when the code or the thrower says so) and a request id; the error itself, with its cause, is logged
 * with that id, so the id in a user's report finds the log line.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** gRPC status codes (`google.rpc.Code`), for `grpc-status` and `google.rpc.Status.code` in OTLP bodies. */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

interface CodeSpec {
  /** HTTP status. */
  status: number;
  /** gRPC status (per google.rpc.Code's HTTP mapping). */
  grpc: number;
  /** Whether the same request may succeed later (default for errors of this code). */
  retryable: boolean;
  /** Whether the message is written for the client (default for errors of this code). */
  expose: boolean;
  /** What a client sees when the message is not exposed. */
  generic: string;
}

const CODES = {
  BAD_REQUEST: { status: 400, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, expose: true, generic: 'bad request' },
  UNAUTHORIZED: { status: 401, grpc: GrpcStatus.UNAUTHENTICATED, retryable: false, expose: true, generic: 'unauthorized' },
  NOT_FOUND: { status: 404, grpc: GrpcStatus.NOT_FOUND, retryable: false, expose: true, generic: 'not found' },
  PAYLOAD_TOO_LARGE: { status: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED, retryable: false, expose: true, generic: 'payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, grpc: GrpcStatus.INVALID_ARGUMENT, retryable: false, expose: true, generic: 'unsupported media type' },
  /** This request is too heavy for now (a query over its limits); the message advises the client. */
  OVERLOADED: { status: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, expose: true, generic: 'overloaded; retry later' },
  /** A dependency (storage, Kafka) is down or the pipeline is full. */
  UNAVAILABLE: { status: 503, grpc: GrpcStatus.UNAVAILABLE, retryable: true, expose: false, generic: 'service unavailable; retry later' },
  /** Our fault: the request may well be fine. */
  INTERNAL: { status: 500, grpc: GrpcStatus.INTERNAL, retryable: true, expose: false, generic: 'internal error' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof CODES;

/** The HTTP status of each code, for schemas and tests. */
export function statusOf(code: ErrorCode): number {
  return CODES[code].status;
}

export interface AppErrorOptions {
  /** Seconds after which a retry may succeed (sent as Retry-After, or gRPC RetryInfo). */
  retryAfterSeconds?: number | undefined;
  /** The underlying error: logged, never sent. */
  cause?: unknown;
  /** Whether the message may reach the client. @default the code's: true for 4xx and OVERLOADED, false otherwise */
  expose?: boolean;
  /** Whether the same request may succeed later. @default the code's: true for 5xx, false for 4xx */
  retryable?: boolean;
  /** An unexpected failure (a programming error) rather than an operational one. @default true for INTERNAL */
  bug?: boolean;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly grpcStatus: number;
  readonly retryable: boolean;
  readonly expose: boolean;
  readonly bug: boolean;
  readonly retryAfterSeconds: number | undefined;

  /** @param options the options, or (older form) the seconds after which a retry may succeed */
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions | number = {},
  ) {
    const o: AppErrorOptions = typeof options === 'number' ? { retryAfterSeconds: options } : options;
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    const spec: CodeSpec = CODES[code];
    this.status = spec.status;
    this.grpcStatus = spec.grpc;
    this.retryable = o.retryable ?? spec.retryable;
    this.expose = o.expose ?? spec.expose;
    this.bug = o.bug ?? code === 'INTERNAL';
    this.retryAfterSeconds = o.retryAfterSeconds;
  }

  /** What the client is told: the message when it is exposed, else the code's generic text; a 5xx names the request id. */
  publicMessage(requestId: string | undefined): string {
    const text = this.expose ? this.message : CODES[this.code].generic;
    return this.status >= 500 && requestId !== undefined ? `${text} (request id ${requestId})` : text;
  }
}

const BY_STATUS: Partial<Record<number, ErrorCode>> = { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 404: 'NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/**
 * Any thrown value as an `AppError`: ours as is; fastify's own client errors (validation, body limit, content
 * type) by their status, message kept; anything else is a bug, answered 500 with its text kept out of the answer.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const status = typeof err === 'object' && err !== null && 'statusCode' in err ? err.statusCode : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(BY_STATUS[status] ?? 'BAD_REQUEST', err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (typeof status === 'number' && status === 503) return new AppError('UNAVAILABLE', 'unavailable', { cause: err, bug: false });
  return new AppError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Logs a failure answered with a 5xx (4xx are the client's business, and counted): a bug at error level with its
 * cause and stack; an operational failure whose text the client did not see at warn, so the request id finds it;
 * one whose message the client got in full (the queue is full, the query was too heavy) only at debug, because at
 * ingest rates a line per refused request would drown the log (the metrics count them).
 */
export function logFailure(log: Logger, err: AppError, fields: Record<string, unknown>): void {
  if (err.status < 500) return;
  const entry = { ...fields, code: err.code, err: err.cause ?? err };
  if (err.bug) log.error(entry, err.message);
  else if (!err.expose) log.warn(entry, err.message);
  else log.debug(entry, err.message);
}

/**
 * Request ids that stay unique across processes and restarts (fastify's default, `req-1`, repeats at every
 * start): a random prefix per process and a counter. Use as fastify's `genReqId`; gRPC calls take one each.
 */
export function requestIds(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

/** The fastify error handler of JSON APIs: one body shape `{ error: { code, message } }`, 5xx logged with the request id. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const app = toAppError(err);
    logFailure(log, app, { reqId: req.id, method: req.method, url: req.url });
    if (app.retryAfterSeconds !== undefined) void reply.header('retry-after', String(app.retryAfterSeconds));
    if (app.status >= 500) void reply.header('x-request-id', req.id);
    void reply.status(app.status).send({ error: { code: app.code, message: app.publicMessage(req.id) } });
  };
}
