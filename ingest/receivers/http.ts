/**
 * OTLP/HTTP receiver (default :4318): POST /v1/traces, /v1/logs, /v1/metrics with `application/x-protobuf` or
 * `application/json` bodies, optionally gzip-compressed. Responses follow the OTLP/HTTP spec: 200 with an
 * `Export*ServiceResponse` (partial success when items were dropped), 400 for malformed data, 401 without a
 * valid token, 413 for bodies over the limit (compressed or decompressed), 415 for other content types or
 * encodings, 503 + Retry-After when the pipeline is full, 500 when the fault is ours (the decoder threw
 * unexpectedly: the client's data is not blamed with a 400; the answer names a request id, the log has the rest).
 * Error bodies are `google.rpc.Status`; statuses and codes come from the platform's one error model (#core/errors.ts).
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { authEnabled, tokenMatches } from '#core/auth.ts';
import { AppError, logFailure, requestIds, toAppError } from '#core/errors.ts';
import type { Logger } from '#core/log.ts';
import type { Signal } from '#otlp/rows.ts';
import { type AcceptDeps, type BodyFormat, accept } from './accept.ts';
import { statusJson, statusProtobuf, successJson, successProtobuf } from './responses.ts';
import { registerRemoteWrite } from './remote-write.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface HttpReceiverOptions extends AcceptDeps {
  maxRequestBytes: number;
  authTokens?: readonly string[] | undefined;
  /** The receiver's logger, already naming its component; each request's lines add its `reqId`. */
  log: Logger;
}

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

function formatOf(req: FastifyRequest): BodyFormat {
  return String(req.headers['content-type'] ?? '').startsWith(JSON_TYPE) ? 'json' : 'protobuf';
}

/**
 * Answers with the error's HTTP status and a `google.rpc.Status` carrying its gRPC code, in the request's format.
 * A 5xx is logged with the request id it names (its message is generic unless written for the client).
 */
function sendError(reply: FastifyReply, req: FastifyRequest, log: Logger, err: AppError, fields: Record<string, unknown> = {}): FastifyReply {
  logFailure(log, err, { reqId: req.id, url: req.url, ...fields });
  if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
  if (err.status >= 500) void reply.header('x-request-id', req.id);
  const message = err.publicMessage(req.id);
  return formatOf(req) === 'json'
    ? reply.status(err.status).type(JSON_TYPE).send(statusJson(err.grpcStatus, message))
    : reply.status(err.status).type(PROTOBUF).send(Buffer.from(statusProtobuf(err.grpcStatus, message)));
}

async function decompress(req: FastifyRequest, body: Buffer, limit: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  const inflater = encoding === 'gzip' ? gunzipAsync : encoding === 'deflate' ? inflateAsync : undefined;
  if (!inflater) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Encoding "${encoding}" (use gzip, deflate or identity)`);
  try {
    // maxOutputLength stops a decompression bomb before it is fully inflated in memory.
    return await inflater(body, { maxOutputLength: limit });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new AppError('PAYLOAD_TOO_LARGE', `decompressed body is larger than the ${limit}-byte limit`);
    }
    throw new AppError('BAD_REQUEST', `body is not valid ${encoding} data: ${err.message}`);
  }
}

export function buildHttpReceiver(opts: HttpReceiverOptions): FastifyInstance {
  const log = opts.log;
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: opts.maxRequestBytes,
    // Ids unique across processes and restarts, so the one in a client's 5xx finds its log line.
    genReqId: requestIds(),
    // Per-request lines would dominate the logs at ingest rates; counts and rejections are in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([PROTOBUF, JSON_TYPE], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // fastify's own errors (content type, body limit) are 4xx; anything thrown unexpectedly is a bug: 500.
  app.setErrorHandler((err: unknown, req, reply) => {
    let error = toAppError(err);
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      error = new AppError(error.code, `unsupported Content-Type "${req.headers['content-type'] ?? ''}" (use ${PROTOBUF} or ${JSON_TYPE})`);
    } else if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      error = new AppError('PAYLOAD_TOO_LARGE', `body is larger than the ${opts.maxRequestBytes}-byte limit`);
    }
    return sendError(reply, req, log, error);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, req, log, new AppError('NOT_FOUND', `no OTLP endpoint at ${req.method} ${req.url} (use POST /v1/traces, /v1/logs or /v1/metrics)`)),
  );

  if (authEnabled(opts.authTokens)) {
    const tokens = opts.authTokens;
    app.addHook('onRequest', async (req, reply) => {
      if (!tokenMatches(req.headers.authorization, tokens)) {
        void reply.header('www-authenticate', 'Bearer');
        return sendError(reply, req, log, new AppError('UNAUTHORIZED', 'missing or invalid bearer token'));
      }
    });
  }

  const route = (signal: Signal) => async (req: FastifyRequest, reply: FastifyReply) => {
    const format = formatOf(req);
    let body: Buffer;
    try {
      body = await decompress(req, (req.body as Buffer | undefined) ?? Buffer.alloc(0), opts.maxRequestBytes);
    } catch (e) {
      if (e instanceof AppError) {
        opts.metrics.rejected.inc({ signal, reason: e.code === 'PAYLOAD_TOO_LARGE' ? 'too_large' : 'bad_encoding' });
        return sendError(reply, req, log, e);
      }
      throw e;
    }
    if (body.length === 0) {
      opts.metrics.rejected.inc({ signal, reason: 'empty' });
      return sendError(reply, req, log, new AppError('BAD_REQUEST', 'empty request body'));
    }
    const outcome = await accept(opts, signal, format, body, `http/${format}`);
    if (outcome.kind === 'error') return sendError(reply, req, log, outcome.error, { signal, format });
    return format === 'json'
      ? reply.status(200).type(JSON_TYPE).send(successJson(signal, outcome.rejected, outcome.message))
      : reply.status(200).type(PROTOBUF).send(Buffer.from(successProtobuf(outcome.rejected, outcome.message)));
  };
  app.post('/v1/traces', route('traces'));
  app.post('/v1/logs', route('logs'));
  app.post('/v1/metrics', route('metrics'));
  // Prometheus remote_write 1.0 (remote-write.ts): its own parsers and plain-text answers, the same pipeline.
  registerRemoteWrite(app as unknown as FastifyInstance, opts);
  // fastify types the instance by its pino logger; callers only need the base instance.
  return app as unknown as FastifyInstance;
}
