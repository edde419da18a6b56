/**
 * index.html's inline script (the build inlines this file's bundle into the page's <head>: ui/vite.config.mjs).
 * It runs while the HTML is parsed, before the entry has downloaded, and starts the first page's API requests
 * (./early-requests.ts) at `now`; the entry resolves its range at the same `now` and the API client adopts
 * those responses (ui/src/shared/api/early.ts says how). It must stay small (it is in every page load) and must
 * never break the page: on any failure the entry asks for the data itself, as before.
 *
 * It also preloads the shell's and the page's code (./page-code.ts).
 *
 * `now` is the server's when it wrote it into the page (<meta name="crowsnest-now">, query/early.ts): the
 * server started these very URLs as it served the page and answers them from those runs. Unless the page says
 * a time far from this browser's clock (a cached or replayed page): then this clock's, and the server's early
 * answers go unused.
 */
import { getToken } from '../shared/api/client.ts';
import { startEarly } from '../shared/api/early.ts';
import { earlyUrls } from './early-requests.ts';
import { codeFor } from './page-code.ts';

/** The build's module → files map (ui/vite.config.mjs writes it into the page before this script). */
declare const __crowsnestCode: Record<string, string[]> | undefined;

/** How far the page's `now` may be from this clock and still be taken. */
const SERVED_NOW_SKEW_MS = 60_000;

try {
  const clock = Date.now();
  const served = Number(document.querySelector('meta[name="crowsnest-now"]')?.getAttribute('content') ?? Number.NaN);
  const now = Number.isFinite(served) && Math.abs(served - clock) <= SERVED_NOW_SKEW_MS ? served : clock;
  startEarly(now, getToken(), earlyUrls(location.pathname, location.search, now));
} catch {
  // The entry starts the requests itself.
}

// The shell's and the page's code, fetched now beside the entry rather than after it has run (./page-code.ts).
try {
  for (const href of codeFor(location.pathname, typeof __crowsnestCode === 'object' ? __crowsnestCode : {})) {
    const link = document.createElement('link');
    link.rel = 'modulepreload';
    link.crossOrigin = ''; // as the build's own module scripts and preloads, so the fetch is reused
    link.href = href;
    document.head.appendChild(link);
  }
} catch {
  // The entry loads them itself.
}
