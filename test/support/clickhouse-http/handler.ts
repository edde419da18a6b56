/**
 * HTTP side of the ClickHouse HTTP test double: health endpoints, request bodies (with Content-Encoding), the
 * response with the server's headers, compressed when asked, and exceptions rendered as the server renders them.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ChdbEngine } from './engine.ts';
import { contentTypeFor, parseRequest, renderException, responseCompression, serverException } from './protocol.ts';

export interface HandlerOptions {
  readonly engine: ChdbEngine;
  /**
   * Largest request body accepted, before and after decompression.
   * @default 512 MiB
   */
  readonly maxBodyBytes?: number;
  /** `X-ClickHouse-Server-Display-Name`. */
  readonly displayName: string;
}

export interface RequestHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Resolves once no request is in progress (or after `timeoutMs`). */
  drain(timeoutMs: number): Promise<void>;
}

type Codec = 'gzip' | 'deflate' | 'br' | 'zstd';

interface ZstdZlib {
  zstdCompress?: (buf: Uint8Array, cb: (err: Error | null, out: Buffer) => void) => void;
  zstdDecompress?: (buf: Uint8Array, opts: zlib.ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;
}
// zstd arrived in Node 22.15's zlib; on older runtimes the double neither offers nor accepts it.
const zstd = zlib as unknown as ZstdZlib;
const zstdCompress = zstd.zstdCompress;
const zstdDecompress = zstd.zstdDecompress;

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const brotliCompress = promisify(zlib.brotliCompress);
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotliDecompress = promisify(zlib.brotliDecompress);

/** The codec the server would pick from Accept-Encoding (zstd, then br, gzip, deflate). */
function chooseCodec(acceptEncoding: string | undefined): Codec | undefined {
  if (!acceptEncoding) return undefined;
  const offered = new Set(acceptEncoding.split(',').map((e) => e.split(';')[0]!.trim().toLowerCase()));
  if (offered.has('zstd') && zstdCompress) return 'zstd';
  for (const c of ['br', 'gzip', 'deflate'] as const) if (offered.has(c)) return c;
  return undefined;
}

async function compress(codec: Codec, body: Uint8Array, level: number | undefined): Promise<Buffer> {
  // ClickHouse's http_zlib_compression_level defaults to 3.
  const zlibLevel = level !== undefined && Number.isInteger(level) && level >= 1 && level <= 9 ? level : 3;
  switch (codec) {
    case 'gzip':
      return gzip(body, { level: zlibLevel });
    case 'deflate':
      return deflate(body, { level: zlibLevel });
    case 'br':
      return brotliCompress(body);
    case 'zstd':
      return promisify(zstdCompress!)(body);
  }
}

async function decompress(encoding: string | undefined, body: Buffer, maxBytes: number): Promise<Buffer> {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity' || e === 'none') return body;
  const opts = { maxOutputLength: maxBytes };
  try {
    if (e === 'gzip' || e === 'x-gzip') return await gunzip(body, opts);
    if (e === 'deflate') return await inflate(body, opts);
    if (e === 'br') return await brotliDecompress(body, opts);
    if (e === 'zstd' && zstdDecompress) return await promisify(zstdDecompress)(body, opts);
  } catch (err) {
    throw serverException('CANNOT_DECOMPRESS', `Cannot decompress the ${e} request body: ${(err as Error).message}`);
  }
  throw serverException('NOT_IMPLEMENTED', `Unsupported Content-Encoding '${e}'`);
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw serverException('BAD_ARGUMENTS', `Request body over the test double's limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const NO_HANDLER = (path: string): string =>
  `There is no handle ${path}\n\nUse / or /ping for health checks.\nOr /replicas_status for more sophisticated health checks.\n\n` +
  'Send queries from your program with POST method or GET /?query=...\n\nUse clickhouse-client:\n\n' +
  'For interactive data analysis:\n    clickhouse-client\n\nFor batch query processing:\n    clickhouse-client --query=\'SELECT 1\' > result\n' +
  '    clickhouse-client < query > result\n';

export function createRequestHandler(opts: HandlerOptions): RequestHandler {
  const { engine, displayName } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? 512 * 1024 * 1024;
  let active = 0;
  let idleWaiters: Array<() => void> = [];

  async function send(
    res: ServerResponse,
    status: number,
    body: Uint8Array,
    headers: Record<string, string>,
    codec: Codec | undefined,
    level: number | undefined,
    head = false,
  ): Promise<void> {
    let out = body;
    const all: Record<string, string> = { 'X-ClickHouse-Server-Display-Name': displayName, ...headers };
    if (codec !== undefined) {
      out = await compress(codec, body, level);
      all['Content-Encoding'] = codec;
    }
    all['Content-Length'] = String(out.length);
    if (res.destroyed) return;
    res.writeHead(status, all);
    res.end(head ? undefined : out);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const path = url.pathname;

    if (path === '/ping' || path === '/replicas_status' || (path === '/' && (method === 'GET' || method === 'HEAD') && !url.searchParams.has('query'))) {
      req.resume();
      return send(res, 200, Buffer.from('Ok.\n'), { 'Content-Type': 'text/plain; charset=UTF-8' }, undefined, undefined, method === 'HEAD');
    }
    if (path !== '/') {
      req.resume();
      return send(res, 404, Buffer.from(NO_HANDLER(path)), { 'Content-Type': 'text/plain; charset=UTF-8' }, undefined, undefined);
    }
    if (method !== 'GET' && method !== 'POST') {
      req.resume();
      return send(res, 405, Buffer.from(`Method ${method} is not supported; use GET or POST\n`), { 'Content-Type': 'text/plain; charset=UTF-8' }, undefined, undefined);
    }

    const wanted = responseCompression(url);
    const codec = wanted.enabled ? chooseCodec(req.headers['accept-encoding']) : undefined;
    let queryId: string = randomUUID();
    try {
      const raw = await readBody(req, maxBodyBytes);
      const body = await decompress(req.headers['content-encoding'], raw, maxBodyBytes);
      const parsed = parseRequest({ method, url, headers: req.headers, body });
      queryId = parsed.queryId ?? queryId;
      const result = await engine.execute(parsed);
      await send(
        res,
        200,
        result.body,
        {
          'Content-Type': contentTypeFor(result.format),
          'X-ClickHouse-Query-Id': queryId,
          'X-ClickHouse-Format': result.format,
          'X-ClickHouse-Timezone': engine.timezone,
          'X-ClickHouse-Summary': JSON.stringify(result.summary),
        },
        codec,
        wanted.level,
      );
    } catch (err) {
      const rendered = renderException(err, engine.version);
      const headers: Record<string, string> = {
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Query-Id': queryId,
        'X-ClickHouse-Exception-Code': String(rendered.code),
      };
      // A body left unread would be taken for the next request on this connection.
      if (!req.complete) headers.Connection = 'close';
      await send(res, rendered.status, Buffer.from(rendered.text), headers, codec, wanted.level);
    }
  }

  const handler = ((req: IncomingMessage, res: ServerResponse): void => {
    active++;
    res.once('close', () => {
      active--;
      if (active === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
    handle(req, res).catch((err: unknown) => {
      // Only a failure to write the response lands here; the connection is the one thing left to end.
      process.stderr.write(`clickhouse-http double: cannot answer ${req.method} ${req.url}: ${String(err)}\n`);
      res.destroy();
    });
  }) as RequestHandler;

  handler.drain = (timeoutMs: number): Promise<void> =>
    active === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          idleWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });

  return handler;
}
