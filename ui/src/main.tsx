/**
 * The UI's entry. Libraries: react-router (routes and the URL as the view state), TanStack Query (server state
 * in a cache: deduplication, cancellation, refetch on refresh), TanStack Table and Virtual (headless sorting and
 * virtualized long lists), recharts (the project's chart library). See ui/README.md for the layout.
 *
 * The start is in two steps, so that the first page's data does not wait for code. This entry is small (the
 * query cache, the page registry's prefetches, pure modules): it resolves the time range once, at `now`, and
 * starts the first page's queries and its chunk (shell/prefetch.ts), loads shell/start.tsx (React's DOM
 * renderer, the router, the shell: the bulk) beside it, and renders once both are here, with the same `now`, so the page asks for exactly
 * the window that was prefetched and finds it in the cache. Measured over the 5M-span bench data set, the
 * request used to start after the whole start-up code and then the page's chunk had run.
 */
import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './shared/api/client.ts';
import { earlyNow } from './shared/api/early.ts';
import { parseRange, resolve } from './shared/time/range.ts';
import { arrive } from './shell/prefetch.ts';
import './shell/theme.css';

const client = new QueryClient({
  defaultOptions: {
    queries: {
      // Data changes only on refresh (the time range moves then); refetching on focus would make numbers jump.
      refetchOnWindowFocus: false,
      staleTime: 30_000,
      // A refused request (4xx) will be refused again; an unreachable or busy API is worth two more tries.
      retry: (n, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && n < 2,
    },
  },
});

// The `now` index.html's early script resolved the range at, when it ran: its requests are then the very ones
// the first page asks for (shared/api/early.ts).
const now = earlyNow() ?? Date.now();
const search = new URLSearchParams(location.search);
const page = arrive(client, location.pathname, location.search, resolve(parseRange(search.get('from'), search.get('to')).range, now));

const root = document.getElementById('root')!;
// The page's chunk loads beside the shell's; rendering once both are here draws the page at once, where a
// suspended page would be held back by React's 300 ms Suspense reveal throttle (shell/pages.ts).
Promise.all([import('./shell/start.tsx'), page]).then(
  ([{ start }]) => start(root, client, now),
  (err: unknown) => {
    // The app's own code failed to load (a deploy replaced it, the server went away): say so rather than a blank page.
    const p = document.createElement('p');
    p.className = 'state error';
    p.setAttribute('role', 'alert');
    p.textContent = `The UI failed to load (${err instanceof Error ? err.message : String(err)}). Reload the page.`;
    root.replaceChildren(p);
  },
);
