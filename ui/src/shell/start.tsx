/**
 * The second half of the UI's start (main.tsx is the first): React's DOM renderer, the router and the shell,
 * rendered into #root. A chunk of its own, so that the entry can start the first page's requests before this,
 * the bulk of the start-up code (react-dom alone is ~180 KB), has even been parsed.
 */
import { type QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.tsx';

/** `nowMs`: when main.tsx resolved the time range for the first page's prefetch (the time provider's first now). */
export function start(root: HTMLElement, client: QueryClient, nowMs: number): void {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <BrowserRouter>
          <App nowMs={nowMs} />
        </BrowserRouter>
      </QueryClientProvider>
    </StrictMode>,
  );
}
