/**
 * The UI's entry. Libraries: react-router (routes and the URL as the view state), TanStack Query (server state
 * in a cache: deduplication, cancellation, refetch on refresh), TanStack Table and Virtual (headless sorting and
 * virtualized long lists), recharts (the project's chart library). See ui/README.md for the layout.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { ApiError } from './shared/api/client.ts';
import { App } from './shell/App.tsx';
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

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
