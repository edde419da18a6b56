/**
 * index.html's inline script (the build inlines this file's bundle into the page's <head>: ui/vite.config.mjs).
 * It runs while the HTML is parsed, before the entry has downloaded, and starts the first page's API requests
 * (./early-requests.ts) at `now`; the entry resolves its range at the same `now` and the API client adopts
 * those responses (ui/src/shared/api/early.ts says how). It must stay small (it is in every page load) and must
 * never break the page: on any failure the entry asks for the data itself, as before.
 */
import { getToken } from '../shared/api/client.ts';
import { startEarly } from '../shared/api/early.ts';
import { earlyUrls } from './early-requests.ts';

try {
  const now = Date.now();
  startEarly(now, getToken(), earlyUrls(location.pathname, location.search, now));
} catch {
  // The entry starts the requests itself.
}
