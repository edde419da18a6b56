import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { TimeProvider, useTime } from '../shared/time/context.tsx';
import { Layout } from './Layout.tsx';
import { HOME, PAGES } from './pages.ts';
import { arrive } from './prefetch.ts';

function NotFound() {
  const { pathname } = useLocation();
  return (
    <div className="state empty" role="status">
      <h2>No page at {pathname}</h2>
      <p>
        Use the navigation above, or go to <a href={HOME}>Services</a>.
      </p>
    </div>
  );
}

function Home() {
  const { search } = useLocation();
  return <Navigate to={`${HOME}${search}`} replace />;
}

/**
 * On arrival at another page, its code and its data load at once (./prefetch.ts). At mount this repeats what
 * main.tsx started before the first render, which costs nothing: the same queries are in flight.
 */
function Arrivals() {
  const client = useQueryClient();
  const { pathname, search } = useLocation();
  const { resolved } = useTime();
  useEffect(() => {
    void arrive(client, pathname, search, resolved);
    // Only a new page: changes within a page (a filter, a refresh) are fetched by the page that is on screen.
  }, [client, pathname]);
  return null;
}

/** `nowMs`: when main.tsx resolved the time range for its prefetch of the first page (the time provider's first now). */
export function App({ nowMs }: { nowMs?: number }) {
  return (
    <TimeProvider {...(nowMs !== undefined ? { nowMs } : {})}>
      <Arrivals />
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<Home />} />
          {PAGES.map((p) => (
            <Route key={p.path} path={p.path} element={<p.component />} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </TimeProvider>
  );
}
