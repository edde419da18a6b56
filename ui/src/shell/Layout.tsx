/**
 * The frame of every page: header (navigation from the page registry, the shared time range, ingest health,
 * theme), keyboard shortcuts, and the page below. A page that fails to render shows an error, not a blank.
 */
import { Component, type ReactNode, Suspense, useEffect, useRef, useState } from 'react';
import { NavLink, Outlet, useLocation, useNavigate, useSearchParams } from 'react-router';
import { useTime } from '../shared/time/context.tsx';
import { TimePicker } from '../shared/time/TimePicker.tsx';
import { carry } from '../shared/url/state.ts';
import { Loading } from '../shared/state/States.tsx';
import { IngestHealth } from './IngestHealth.tsx';
import { GLOBAL_SHORTCUTS, type KeyState, onKey } from './keys.ts';
import { PAGES } from './pages.ts';
import { useTheme } from './theme.ts';

class PageBoundary extends Component<{ children: ReactNode; resetKey: string }, { error?: Error | undefined }> {
  override state: { error?: Error | undefined } = {};
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: undefined });
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="state error" role="alert">
          <h2>This page failed to render</h2>
          <p className="error-message">{this.state.error.message}</p>
          <p>Reload the page; if it persists, this is a bug: please report it with the URL.</p>
        </div>
      );
    }
    return this.props.children;
  }
}

function inField(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

export function Layout() {
  const [theme, toggleTheme] = useTheme();
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const time = useTime();
  const [help, setHelp] = useState(false);
  const keys = useRef<KeyState>({});
  const nav = PAGES.filter((p) => p.nav !== undefined);

  useEffect(() => {
    const handler = (e: KeyboardEvent) => {
      const r = onKey(keys.current, { key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, altKey: e.altKey, inField: inField(e.target) }, Date.now());
      keys.current = r.state;
      const a = r.action;
      if (!a) return;
      if (a.kind === 'go') {
        const page = nav.find((p) => p.nav?.key === a.key);
        if (page) void navigate(`${page.path}${carry(params)}`);
      } else if (a.kind === 'search') {
        const el = document.querySelector<HTMLElement>('[data-search]');
        if (el) {
          e.preventDefault();
          el.focus();
        }
      } else if (a.kind === 'help') setHelp((h) => !h);
      else if (a.kind === 'refresh') time.refresh();
      else if (a.kind === 'escape') {
        setHelp(false);
        if (inField(e.target)) (e.target as HTMLElement).blur();
      }
    };
    window.addEventListener('keydown', handler);
    return () => window.removeEventListener('keydown', handler);
  }, [nav, navigate, params, time]);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="header">
        <NavLink to={`/services${carry(params)}`} className="brand">
          Crow&apos;s Nest
        </NavLink>
        <nav aria-label="Main">
          {nav.map((p) => (
            <NavLink key={p.path} to={`${p.path}${carry(params)}`} className={({ isActive }) => (isActive ? 'active' : '')} title={`g ${p.nav!.key}`}>
              {p.nav!.label}
            </NavLink>
          ))}
        </nav>
        <div className="spacer" />
        <IngestHealth />
        <TimePicker />
        <button type="button" className="btn" onClick={toggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`} data-testid="theme-toggle">
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <button type="button" className="btn" onClick={() => setHelp(!help)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
          ?
        </button>
      </header>
      {time.rangeError && (
        <p className="banner warn" role="alert">
          Ignored the time range in the link: {time.rangeError}. Showing the last hour.
        </p>
      )}
      {help && (
        <div className="popover help" role="dialog" aria-label="Keyboard shortcuts">
          <h2>Keyboard shortcuts</h2>
          <dl>
            {nav.map((p) => (
              <div key={p.path}>
                <dt>
                  <kbd>g</kbd> <kbd>{p.nav!.key}</kbd>
                </dt>
                <dd>Go to {p.nav!.label}</dd>
              </div>
            ))}
            {GLOBAL_SHORTCUTS.map((s) => (
              <div key={s.keys}>
                <dt>
                  <kbd>{s.keys}</kbd>
                </dt>
                <dd>{s.description}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        <PageBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading what="the page" />}>
            <Outlet />
          </Suspense>
        </PageBoundary>
      </main>
    </div>
  );
}
