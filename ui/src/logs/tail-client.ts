/**
 * The live tail's connection: GET /api/v1/logs/tail read with `fetch` (the bearer token goes in a header, which
 * `EventSource` cannot send) and parsed by ./sse.ts, turned into ./tail.ts actions. It reconnects after a broken
 * stream with a jittered exponential backoff (a 503's Retry-After wins), takes a stream silent for longer than
 * `idleMs` (keepalives come every 15 s) as broken, and stops for good on refusals retrying cannot fix (401, 400,
 * 404: sign in, fix the filter, or a server without the tail).
 */
import type { LogTailDropped, LogTailReady, LogTailRecords } from '../../../query/contract.ts';
import { API_BASE, type ParamValue, getToken, queryString } from '../shared/api/client.ts';
import { SseParser } from './sse.ts';
import { type TailAction, backoffMs, parseRetryAfter } from './tail.ts';

export interface TailClientOptions {
  params: Record<string, ParamValue>;
  dispatch: (a: TailAction) => void;
  signal: AbortSignal;
  /** A stream without a byte for this long is broken. @default 45000 */
  idleMs?: number;
  random?: () => number;
}

type Outcome = { retry: true; error: string; retryAfterMs?: number | undefined; wasLive: boolean } | { retry: false; error: string };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs the tail until `signal` aborts or the server refuses it for good. */
export async function runTail(o: TailClientOptions): Promise<void> {
  let attempt = 0;
  while (!o.signal.aborted) {
    o.dispatch({ type: 'connect' });
    const r = await connectOnce(o);
    if (o.signal.aborted) return;
    if (!r.retry) {
      o.dispatch({ type: 'failed', error: r.error });
      return;
    }
    attempt = r.wasLive ? 1 : attempt + 1;
    const wait = backoffMs(attempt, (o.random ?? Math.random)(), r.retryAfterMs);
    o.dispatch({ type: 'broken', error: r.error, retryAtMs: Date.now() + wait });
    await sleep(wait, o.signal);
  }
}

async function connectOnce(o: TailClientOptions): Promise<Outcome> {
  const ctl = new AbortController();
  const abort = () => ctl.abort();
  o.signal.addEventListener('abort', abort, { once: true });
  const idleMs = o.idleMs ?? 45_000;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const watch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, idleMs);
  };
  let wasLive = false;
  try {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    const token = getToken();
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    watch();
    const res = await fetch(`${API_BASE}/logs/tail${queryString(o.params)}`, { headers, signal: ctl.signal, cache: 'no-store' });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let message = `HTTP ${res.status}`;
      try {
        const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (e?.code) message = `${e.code}${e.message ? `: ${e.message}` : ''}`;
      } catch {
        // Not the API's error body.
      }
      if (res.status === 404) return { retry: false, error: 'this server has no live tail (GET /api/v1/logs/tail answered 404)' };
      if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) return { retry: false, error: message };
      return { retry: true, error: message, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), Date.now()), wasLive };
    }
    if (res.body === null) return { retry: true, error: 'the response has no body', wasLive };
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { retry: true, error: 'the stream ended', wasLive };
      watch();
      for (const ev of parser.push(value).events) {
        if (ev.event === 'ready') {
          wasLive = true;
          o.dispatch({ type: 'ready', source: (JSON.parse(ev.data) as LogTailReady).source });
        } else if (ev.event === 'records') {
          const records = (JSON.parse(ev.data) as LogTailRecords).records;
          if (Array.isArray(records)) o.dispatch({ type: 'records', records });
        } else if (ev.event === 'dropped') {
          const d = JSON.parse(ev.data) as LogTailDropped;
          o.dispatch({ type: 'dropped', count: Number(d.count) || 0, reason: String(d.reason) });
        }
      }
    }
  } catch (err) {
    if (o.signal.aborted) return { retry: true, error: 'closed', wasLive };
    if (timedOut) return { retry: true, error: `no data or keepalive for ${Math.round(idleMs / 1000)} s`, wasLive };
    return { retry: true, error: err instanceof SyntaxError ? `an event was not JSON (${err.message})` : (err as Error).message || 'the connection failed', wasLive };
  } finally {
    clearTimeout(idle);
    o.signal.removeEventListener('abort', abort);
    ctl.abort();
  }
}
