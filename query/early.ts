/**
 * The first page's API answers, started by the server as it serves the page. A page load used to be: HTML,
 * then the inline early script starts the page's first API requests (ui/src/shell/early.ts), then the query
 * runs. The query is most of the wait (the services table over 5M spans: ~240 ms of query beside ~50-150 ms
 * for the browser to get that far), so the server starts it as soon as the page is asked for:
 *
 *   GET /services            now = Date.now(); urls = earlyUrls(path, query, now) (ui/src/shell/early-requests.ts,
 *                            the very function the page's early script runs, so the URLs are the same strings);
 *                            each url is run through the app itself (inject: the same validation, SQL and
 *                            serializer as any request), and index.html goes out with <meta name="crowsnest-now">
 *   GET /api/v1/services?…   the early script, at the page's `now`, asks for the same url: answered from the run
 *                            started with the page (awaited if still running), once, instead of a second query
 *
 * Bounds: an answer is kept KEEP_MS and handed out once; at most MAX_ENTRIES runs at a time (a page load past
 * that starts none: its requests run as usual); a run's body is the route's own, capped by the API's limits.
 *
 * Only without authentication (`--auth-token` unset). A page request carries no bearer token (the UI sends it
 * on API calls from localStorage), so with auth on the server would run queries for anyone who loads a page;
 * there the early script's own requests start the queries, as they do in a browser that skips this.
 *
 * An answer goes only to a request for the same path and query string (normalized), and only if that request
 * accepts the answer's Content-Encoding; runs carry the page request's Accept-Encoding.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { earlyUrls } from '../ui/src/shell/early-requests.ts';
import { acceptsGzip } from './accept-encoding.ts';

/** How long a started answer waits for its page's request. */
export const KEEP_MS = 10_000;
/** Runs kept at once, at most. */
export const MAX_ENTRIES = 16;
/** Marks the server's own runs, which the hook lets through to the route. */
export const EARLY_RUN_HEADER = 'x-crowsnest-early-run';
/** On an answer the page's run gave: says so (for whoever debugs a page load, and the tests). */
export const EARLY_ANSWER_HEADER = 'x-crowsnest-early';
/** Response headers an answer keeps (the rest are the connection's, or set again by fastify). */
const KEPT_HEADERS = ['content-type', 'content-encoding', 'vary', 'cache-control'];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** `/api/v1/x?b=1&a=2` as the router sees it: percent-encoding made uniform, the order kept. */
export function normalize(url: string): string {
  const u = new URL(url, 'http://early.invalid');
  return u.pathname + u.search;
}

export class EarlyAnswers {
  readonly #entries = new Map<string, { at: number; answer: Promise<Answer | undefined> }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Called as a page is served: `now` for its <meta>, and its first API requests started through `app`; none if
   * the page has none or MAX_ENTRIES runs are kept already.
   */
  startPage(app: FastifyInstance, pathname: string, search: string, acceptEncoding: string | undefined): { now: number; started: number } {
    const now = this.#now();
    this.#expire(now);
    const urls = earlyUrls(pathname, search, now).map(normalize);
    if (this.#entries.size + urls.length > MAX_ENTRIES) return { now, started: 0 };
    for (const url of urls) {
      const headers: Record<string, string> = { [EARLY_RUN_HEADER]: '1', accept: 'application/json' };
      if (acceptEncoding !== undefined) headers['accept-encoding'] = acceptEncoding;
      const answer = app.inject({ method: 'GET', url, headers }).then(
        (res): Answer => ({
          status: res.statusCode,
          headers: Object.fromEntries(KEPT_HEADERS.flatMap((h) => (res.headers[h] === undefined ? [] : [[h, String(res.headers[h])]]))),
          body: res.rawPayload,
        }),
        // The page's own request will run the route and meet the same failure, reported the usual way.
        () => undefined,
      );
      this.#entries.set(url, { at: now, answer });
    }
    return { now, started: urls.length };
  }

  /** The answer started for this request's URL, if any (removed: handed out once). */
  take(url: string, acceptEncoding: string | undefined): Promise<Answer | undefined> | undefined {
    this.#expire(this.#now());
    const key = normalize(url);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    return entry.answer.then((a) => (a && a.headers['content-encoding'] === 'gzip' && !acceptsGzip(acceptEncoding) ? undefined : a));
  }

  /** Runs kept (started and not yet handed out or expired). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * onRequest hook for the API's routes (after authentication, which the process's root hooks run first): a GET
   * whose answer was started with its page is sent that answer; anything else goes on to its route.
   */
  readonly hook = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (req.method !== 'GET' || req.headers[EARLY_RUN_HEADER] !== undefined) return undefined;
    const answer = await this.take(req.url, req.headers['accept-encoding']);
    if (answer === undefined) return undefined;
    // Returned, as fastify wants of an async hook that has replied.
    return reply.code(answer.status).headers(answer.headers).header(EARLY_ANSWER_HEADER, 'started-with-page').send(answer.body);
  };

  #expire(now: number): void {
    for (const [url, e] of this.#entries) if (now - e.at > KEEP_MS) this.#entries.delete(url);
  }
}
