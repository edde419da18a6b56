/**
 * OTLP/HTTP receiver (default :4318): POST /v1/traces, /v1/logs, /v1/metrics with `application/x-protobuf` or
 * `application/json` bodies, optionally gzip-compressed. Responses follow the OTLP/HTTP spec: 200 with an
 * `Export*ServiceResponse` (partial success when items were dropped), 400 for malformed data, 401 without a
 * valid token, 413 for bodies over the limit (compressed or decompressed), 415 for other content types or
 * encodings, 503 + Retry-After when the pipeline is full; error bodies are `google.rpc.Status`.
 */
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { authEnabled, tokenMatches } from '#core/auth.ts';
import type { Signal } from '#otlp/rows.ts';
import { type AcceptDeps, type BodyFormat, accept } from './accept.ts';
import { GrpcCode, statusJson, statusProtobuf, successJson, successProtobuf } from './responses.ts';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface HttpReceiverOptions extends AcceptDeps {
  maxRequestBytes: number;
  authTokens?: readonly string[] | undefined;
  log: Logger;
}

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

function formatOf(req: FastifyRequest): BodyFormat {
  return String(req.headers['content-type'] ?? '').startsWith(JSON_TYPE) ? 'json' : 'protobuf';
}

function sendStatus(reply: FastifyReply, format: BodyFormat, http: number, grpcCode: number, message: string): FastifyReply {
  return format === 'json'
    ? reply.status(http).type(JSON_TYPE).send(statusJson(grpcCode, message))
    : reply.status(http).type(PROTOBUF).send(Buffer.from(statusProtobuf(grpcCode, message)));
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function decompress(req: FastifyRequest, body: Buffer, limit: number): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body;
  const inflater = encoding === 'gzip' ? gunzipAsync : encoding === 'deflate' ? inflateAsync : undefined;
  if (!inflater) throw new HttpError(415, `unsupported Content-Encoding "${encoding}" (use gzip, deflate or identity)`);
  try {
    // maxOutputLength stops a decompression bomb before it is fully inflated in memory.
    return await inflater(body, { maxOutputLength: limit });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new HttpError(413, `decompressed body is larger than the ${limit}-byte limit`);
    }
    throw new HttpError(400, `body is not valid ${encoding} data: ${err.message}`);
  }
}

export function buildHttpReceiver(opts: HttpReceiverOptions): FastifyInstance {
  const app = Fastify({ loggerInstance: opts.log.child({ component: 'otlp-http' }) , bodyLimit: opts.maxRequestBytes,
    // Per-request lines would dominate the logs at ingest rates; counts and rejections are in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([PROTOBUF, JSON_TYPE], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const format = formatOf(req);
    const status = err.statusCode ?? 500;
    if (status >= 500) opts.log.error({ err }, 'otlp http request failed');
    let message = status >= 500 ? 'internal error' : err.message;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      message = `unsupported Content-Type "${req.headers['content-type'] ?? ''}" (use ${PROTOBUF} or ${JSON_TYPE})`;
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = `body is larger than the ${opts.maxRequestBytes}-byte limit`;
    }
    return sendStatus(reply, format, status, status >= 500 ? GrpcCode.INTERNAL : GrpcCode.INVALID_ARGUMENT, message);
  });
  app.setNotFoundHandler((req, reply) =>
    sendStatus(reply, formatOf(req), 404, GrpcCode.UNIMPLEMENTED, `no OTLP endpoint at ${req.method} ${req.url} (use POST /v1/traces, /v1/logs or /v1/metrics)`),
  );

  if (authEnabled(opts.authTokens)) {
    const tokens = opts.authTokens;
    app.addHook('onRequest', async (req, reply) => {
      if (!tokenMatches(req.headers.authorization, tokens)) {
        void reply.header('www-authenticate', 'Bearer');
        return sendStatus(reply, formatOf(req), 401, GrpcCode.UNAUTHENTICATED, 'missing or invalid bearer token');
      }
    });
  }

  const route = (signal: Signal) => async (req: FastifyRequest, reply: FastifyReply) => {
    const format = formatOf(req);
    let body: Buffer;
    try {
      body = await decompress(req, (req.body as Buffer | undefined) ?? Buffer.alloc(0), opts.maxRequestBytes);
    } catch (e) {
      if (e instanceof HttpError) {
        opts.metrics.rejected.inc({ signal, reason: e.status === 413 ? 'too_large' : 'bad_encoding' });
        return sendStatus(reply, format, e.status, GrpcCode.INVALID_ARGUMENT, e.message);
      }
      throw e;
    }
    if (body.length === 0) {
      opts.metrics.rejected.inc({ signal, reason: 'empty' });
      return sendStatus(reply, format, 400, GrpcCode.INVALID_ARGUMENT, 'empty request body');
    }
    const outcome = await accept(opts, signal, format, body, `http/${format}`);
    switch (outcome.kind) {
      case 'ok':
        return format === 'json'
          ? reply.status(200).type(JSON_TYPE).send(successJson(signal, outcome.rejected, outcome.message))
          : reply.status(200).type(PROTOBUF).send(Buffer.from(successProtobuf(outcome.rejected, outcome.message)));
      case 'invalid':
        return sendStatus(reply, format, 400, GrpcCode.INVALID_ARGUMENT, outcome.message);
      case 'unavailable':
        void reply.header('retry-after', String(outcome.retryAfterSeconds));
        return sendStatus(reply, format, 503, GrpcCode.UNAVAILABLE, outcome.message);
      case 'failed':
        return sendStatus(reply, format, 500, GrpcCode.INTERNAL, outcome.message);
    }
  };
  app.post('/v1/traces', route('traces'));
  app.post('/v1/logs', route('logs'));
  app.post('/v1/metrics', route('metrics'));
  // fastify types the instance by its pino logger; callers only need the base instance.
  return app as unknown as FastifyInstance;
}
