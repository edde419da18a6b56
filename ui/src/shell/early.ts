/**
 * index.html's inline script (the build inlines this file's bundle into the page's <head>: ui/vite.config.mjs).
 * It runs while the HTML is parsed, before the entry has downloaded, and starts the first page's API requests
 * (./early-requests.ts) at `now`; the entry resolves its range at the same `now` and the API client adopts
 * those responses (ui/src/shared/api/early.ts says how). It must stay small (it is in every page load) and must
 * never break the page: on any failure the entry asks for the data itself, as before.
 *
 * It also preloads the shell's and the page's code (./page-code.ts).
 *
 * (Starting the queries on the server as it serves the page was tried and measured: with the query role on one
 * core the page's code then waited behind the query, and the 10,000-span trace view took ~1 s instead of ~0.7.)
 */
import { getToken } from '../shared/api/client.ts';
import { startEarly } from '../shared/api/early.ts';
import { earlyUrls } from './early-requests.ts';
import { codeFor } from './page-code.ts';

/** The build's module → files map (ui/vite.config.mjs writes it into the page before this script). */
declare const __crowsnestCode: Record<string, string[]> | undefined;

try {
  const now = Date.now();
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
