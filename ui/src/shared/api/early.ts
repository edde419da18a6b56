/**
 * Requests started before the app's code. index.html carries a small inline script (ui/src/shell/early.ts,
 * inlined by the build) that runs while the HTML is parsed, before the entry has even downloaded: it resolves
 * the time range at `now`, works out the first page's API requests (ui/src/shell/early-requests.ts, the same
 * parameters the page's prefetch computes) and starts them. The entry then resolves its range at that same `now`
 * (`earlyNow`), so the page's queries have the very URLs already in flight, and `apiGet` adopts each such
 * response once (`takeEarly`) instead of asking again.
 *
 * Measured over the 5M-span bench data set (`npm run bench -- ui`), the services page's request used to start
 * only after the entry had downloaded and run; the query then ran while the page's code loaded, not after.
 *
 * The two scripts are separate bundles, so they meet on one window property. A response is adopted only by a
 * request for the same URL with the same bearer token, at most once, and within ADOPT_MS of the start: a later
 * request asks afresh rather than take an old answer.
 */

/** How long after the page started an early response may still be adopted. */
export const ADOPT_MS = 30_000;

interface EarlyState {
  /** When the early script resolved the time range (Date.now()). */
  now: number;
  /** The bearer token the requests were sent with. */
  token: string | undefined;
  /** URL → the response promise and the controller that can cancel it; removed when adopted. */
  pending: Map<string, { response: Promise<Response>; controller: AbortController }>;
}

const KEY = '__crowsnestEarly';
type Holder = { [KEY]?: EarlyState };

/** Starts GETs of `urls` (same-origin API URLs) with the headers apiGet would send; the early script calls this. */
export function startEarly(now: number, token: string | undefined, urls: readonly string[]): void {
  const pending = new Map<string, { response: Promise<Response>; controller: AbortController }>();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  for (const url of urls) {
    if (pending.has(url)) continue;
    const controller = new AbortController();
    const response = fetch(url, { headers, signal: controller.signal });
    // Adopted or not, a failure is the adopter's to report (apiGet); never an unhandled rejection.
    response.catch(() => undefined);
    pending.set(url, { response, controller });
  }
  (globalThis as Holder)[KEY] = { now, token, pending };
}

/** When the early script resolved the range, if it ran on this page. */
export function earlyNow(): number | undefined {
  return (globalThis as Holder)[KEY]?.now;
}

/**
 * The response started early for `url`, if any, with the same token and still fresh: removed, so it is adopted
 * once. `signal` (the adopter's) cancels it as it would have cancelled its own fetch.
 */
export function takeEarly(url: string, token: string | undefined, signal?: AbortSignal, nowMs = Date.now()): Promise<Response> | undefined {
  const state = (globalThis as Holder)[KEY];
  const entry = state?.pending.get(url);
  if (!state || !entry) return undefined;
  state.pending.delete(url);
  if (state.token !== token || nowMs - state.now > ADOPT_MS) {
    entry.controller.abort();
    return undefined;
  }
  if (signal) {
    if (signal.aborted) entry.controller.abort();
    else signal.addEventListener('abort', () => entry.controller.abort(), { once: true });
  }
  return entry.response;
}
