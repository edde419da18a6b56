/**
 * One error model for every HTTP surface. An `AppError` carries a stable code and an HTTP status; 4xx messages
 * are meant for the client and say what was wrong, 5xx messages stay in the logs (clients get a generic text).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'OVERLOADED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds after which a retry may succeed (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

/** Maps fastify's own errors (validation, body limit, content type) and ours to one JSON shape. */
export function errorHandler(log: Logger) {
  return (err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    let status = 500;
    let code: string = 'INTERNAL';
    let message = 'internal error';
    if (err instanceof AppError) {
      status = err.status;
      code = err.code;
      message = err.message;
      if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
    } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode < 500) {
      status = err.statusCode;
      code = err.code ?? 'BAD_REQUEST';
      message = err.message;
    }
    if (status >= 500) log.error({ err, url: req.url }, 'request failed');
    void reply.status(status).send({ error: { code, message } });
  };
}
