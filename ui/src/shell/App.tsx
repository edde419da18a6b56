import { Navigate, Route, Routes, useLocation } from 'react-router';
import { TimeProvider } from '../shared/time/context.tsx';
import { Layout } from './Layout.tsx';
import { HOME, PAGES } from './pages.ts';

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

export function App() {
  return (
    <TimeProvider>
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
