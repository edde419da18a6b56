/**
 * A small JSON client for the Kubernetes API: GET / POST / PUT of one object or one page of a list, and watch
 * streams, over node:https with the credentials of a `KubeConfig` (@kubernetes/client-node resolves the
 * kubeconfig or the in-cluster service account; we only borrow its TLS and auth options).
 *
 * Why not the generated typed clients: they turn timestamps into `Date` objects while a watch (client-node's
 * `Watch`) hands out raw JSON, so the same object would have two shapes; and their readers have no size bound.
 * Here every object is the API's JSON as sent, every response body is bounded (`maxBodyBytes`), every watch line
 * is bounded (`maxLineBytes`), and the caller owns the watch's socket through an AbortSignal.
 *
 * Credentials are re-read every `refreshMs` (a projected service-account token is rotated by the kubelet), and
 * the https.Agent they come with is reused until then, so requests share connections.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** A refusal or failure of the API server, with its HTTP status (0: no answer) and the Status reason. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeApi {
  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T>;
  /** One object's metadata only (`PartialObjectMetadata`): owners and labels without the spec. */
  getMetadata<T>(path: string, signal?: AbortSignal): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown, signal?: AbortSignal, contentType?: string): Promise<T>;
  /**
   * Streams `?watch=true` lines to `onEvent` until the server ends the stream (resolves), the connection
   * fails (rejects with a KubeApiError, status 0), the server refuses the watch (status ≥ 400) or `signal`
   * aborts (resolves). Events are handed over one at a time: while a returned promise is pending the next
   * waits, and past `WATCH_QUEUE` waiting events the socket is paused (backpressure to the API server).
   */
  watch(path: string, query: Query, onEvent: (event: WatchEvent) => void | Promise<void>, signal: AbortSignal): Promise<void>;
}

/** One line of a watch stream. For `ERROR`, `object` is a `Status` (a `code` of 410: the resourceVersion is gone). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface KubeApiOptions {
  /** Largest response body accepted for a GET (a page of a list included). @default 32 MiB */
  maxBodyBytes?: number;
  /** Largest watch line (one object). @default 4 MiB */
  maxLineBytes?: number;
  /** How long credentials (and their connection pool) are reused. @default 60000 */
  refreshMs?: number;
  /** Timeout of a non-watch request. @default 30000 */
  requestTimeoutMs?: number;
}

/** Asks for `PartialObjectMetadata` (meta.k8s.io/v1), falling back to the whole object on a server without it. */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Watch events read ahead of the handler before the socket is paused. */
const WATCH_QUEUE = 256;

interface Credentials {
  base: URL;
  options: https.RequestOptions;
  at: number;
}

function withQuery(base: URL, path: string, query: Query | undefined): URL {
  const url = new URL(base.href.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

export function createKubeApi(kc: KubeConfig, opts: KubeApiOptions = {}): KubeApi {
  const maxBody = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const maxLine = opts.maxLineBytes ?? 4 * 1024 * 1024;
  const refreshMs = opts.refreshMs ?? 60_000;
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  let creds: Credentials | undefined;

  async function credentials(): Promise<Credentials> {
    if (creds && Date.now() - creds.at < refreshMs) return creds;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeApiError(0, 'NoCluster', 'the kubeconfig names no current cluster');
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    creds = { base: new URL(cluster.server), options, at: Date.now() };
    return creds;
  }

  function request(method: string, url: URL, c: Credentials, headers: Record<string, string>, signal: AbortSignal | undefined): http.ClientRequest {
    const mod = url.protocol === 'http:' ? http : https;
    return mod.request(url, {
      ...c.options,
      method,
      headers: { ...(c.options.headers as Record<string, string> | undefined), accept: 'application/json', ...headers },
      ...(signal ? { signal } : {}),
    });
  }

  function statusError(status: number, text: string, what: string): KubeApiError {
    let reason = '';
    let message = text.slice(0, 500);
    try {
      const s = JSON.parse(text) as { reason?: string; message?: string };
      reason = s.reason ?? '';
      message = s.message ?? message;
    } catch {
      // not a Status: keep the text
    }
    return new KubeApiError(status, reason, `${what}: ${status} ${message}`);
  }

  async function call<T>(
    method: string,
    path: string,
    query: Query | undefined,
    body: unknown,
    signal: AbortSignal | undefined,
    contentType = 'application/json',
    accept = 'application/json',
  ): Promise<T> {
    const c = await credentials();
    const url = withQuery(c.base, path, query);
    const what = `${method} ${url.pathname}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const headers: Record<string, string> = { accept };
      if (payload) Object.assign(headers, { 'content-type': contentType, 'content-length': String(payload.length) });
      const req = request(method, url, c, headers, signal);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(e instanceof KubeApiError ? e : new KubeApiError(0, 'ConnectionFailed', `${what}: ${e.message}`)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            req.destroy(new KubeApiError(0, 'TooLarge', `${what}: response larger than ${maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (e) => reject(new KubeApiError(0, 'ConnectionFailed', `${what}: ${e.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              reject(new KubeApiError(status, 'BadJson', `${what}: the answer is not JSON`));
            }
          } else reject(statusError(status, text, what));
        });
      });
      req.end(payload);
    });
  }

  return {
    get: (path, query, signal) => call('GET', path, query, undefined, signal),
    getMetadata: (path, signal) => call('GET', path, undefined, undefined, signal, undefined, METADATA_ONLY),
    send: (method, path, body, signal, contentType) => call(method, path, undefined, body, signal, contentType),
    async watch(path, query, onEvent, signal) {
      const c = await credentials();
      const url = withQuery(c.base, path, { ...query, watch: true });
      const what = `watch ${url.pathname}`;
      await new Promise<void>((resolve, reject) => {
        if (signal.aborted) return resolve();
        const req = request('GET', url, c, {}, signal);
        let settled = false;
        // The handler call in progress: the watch ends only after it, so a caller never restarts the watch
        // while an event of the old one is still being handled.
        let handling: Promise<void> = Promise.resolve();
        const finish = (err?: unknown) => {
          if (settled) return;
          settled = true;
          void handling.then(() => {
            if (err === undefined || signal.aborted) resolve();
            else reject(err instanceof KubeApiError ? err : new KubeApiError(0, 'ConnectionFailed', `${what}: ${(err as Error).message}`));
          });
        };
        req.on('error', finish);
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (ch: Buffer) => chunks.length < 64 && chunks.push(ch));
            res.on('end', () => finish(statusError(status, Buffer.concat(chunks).toString('utf8'), what)));
            res.on('error', finish);
            return;
          }
          // Lines are split by hand on raw bytes: readline has no length bound, and a multi-byte character
          // may straddle two chunks.
          let pending: Buffer[] = [];
          let pendingBytes = 0;
          const queue: WatchEvent[] = [];
          let draining = false;
          let ended = false;
          const drain = () => {
            if (draining) return;
            draining = true;
            handling = drainQueue();
          };
          const drainQueue = async () => {
            try {
              while (queue.length > 0 && !settled) {
                const event = queue.shift()!;
                await onEvent(event);
                if (queue.length < WATCH_QUEUE / 2 && res.isPaused()) res.resume();
              }
            } catch (e) {
              draining = false;
              finish(e);
              req.destroy();
              return;
            }
            draining = false;
            if (ended && queue.length === 0) finish();
          };
          const line = (buf: Buffer) => {
            if (buf.length === 0) return;
            try {
              queue.push(JSON.parse(buf.toString('utf8')) as WatchEvent);
            } catch {
              req.destroy(new KubeApiError(0, 'BadJson', `${what}: a watch line is not JSON`));
              return;
            }
            if (queue.length >= WATCH_QUEUE) res.pause();
          };
          res.on('data', (chunk: Buffer) => {
            let start = 0;
            for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
              const part = chunk.subarray(start, nl);
              if (pendingBytes > 0) {
                pending.push(part);
                line(Buffer.concat(pending));
                pending = [];
                pendingBytes = 0;
              } else line(part);
              start = nl + 1;
            }
            if (start < chunk.length) {
              pending.push(chunk.subarray(start));
              pendingBytes += chunk.length - start;
              if (pendingBytes > maxLine) req.destroy(new KubeApiError(0, 'TooLarge', `${what}: a watch line is longer than ${maxLine} bytes`));
            }
            drain();
          });
          res.on('error', finish);
          res.on('close', () => {
            if (!res.complete) return finish(new Error('the connection closed mid-stream'));
            // Ended by the server (its timeout): hand over what was read, then resolve.
            ended = true;
            if (!draining) drain();
          });
        });
        req.end();
      });
    },
  };
}
