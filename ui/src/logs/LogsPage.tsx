/**
 * /logs: search log records over the shared range (full text, service, minimum severity, namespace, pod, trace,
 * span, any attribute), with a facet sidebar (top values of namespace, pod, service, severity for the search),
 * a histogram by severity (drag to zoom), a virtualized list that loads older pages as it scrolls, a record
 * opened beside the list (body, attributes, resource, trace links, surrounding lines), and live tail (server
 * push, pause/resume, a cap on lines kept). The whole view is in the URL (./view.ts).
 *
 * Keys: j/k move between records, Enter opens one, Esc closes it, / focuses the search.
 */
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import type { LogRecord } from '../../../query/contract.ts';
import { ApiError } from '../shared/api/client.ts';
import { formatCount } from '../shared/format/format.ts';
import { Empty, ErrorState, Loading } from '../shared/state/States.tsx';
import { useTime } from '../shared/time/context.tsx';
import { apiRange, relative } from '../shared/time/range.ts';
import { TextFilter } from '../shared/url/TextFilter.tsx';
import { MAX_LOADED, useLiveTail, useLogByKey, useLogFacets, useLogHistogram, useLogSearch } from './api.ts';
import { Facets } from './Facets.tsx';
import { Histogram } from './Histogram.tsx';
import { LogList } from './LogList.tsx';
import { recordKey } from './record.ts';
import { RecordPanel } from './RecordPanel.tsx';
import { tailStatus } from './tail.ts';
import { CLEAR_FILTERS, type LogsView, SEVERITIES, addAttrFilter, apiFilters, filtered, readView, toggleFacet, writeView } from './view.ts';
import './logs.css';

/** The value after it has stopped changing for `ms`: typing in the search box sends one request, not one per key. */
function useSettled<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function inField(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

function Chip({ label, onRemove }: { label: string; onRemove: () => void }) {
  return (
    <span className="filter-chip">
      {label}
      <button type="button" onClick={onRemove} aria-label={`Remove filter ${label}`}>
        ✕
      </button>
    </span>
  );
}

function TailBar({ state, onPause, onResume, onClear }: { state: ReturnType<typeof useLiveTail>[0]; onPause: () => void; onResume: () => void; onClear: () => void }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (state.connection !== 'reconnecting') return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [state.connection]);
  const s = tailStatus(state, now);
  return (
    <div className={`tail-bar tail-${s.kind}`} role="status" aria-live="polite">
      <span className="tail-dot" aria-hidden="true" />
      <span data-testid="tail-status" data-kind={s.kind}>
        {s.text}
      </span>
      {state.resumed && !state.paused && (
        <span className="muted">
          · resumed: {formatCount(state.resumed.arrived)} arrived while paused{state.resumed.dropped > 0 ? `, ${formatCount(state.resumed.dropped)} dropped` : ''}
        </span>
      )}
      <span className="spacer" />
      {state.paused ? (
        <button type="button" className="btn primary" onClick={onResume} data-testid="tail-resume">
          Resume
        </button>
      ) : (
        <button type="button" className="btn" onClick={onPause} data-testid="tail-pause" disabled={state.connection === 'failed'}>
          Pause
        </button>
      )}
      <button type="button" className="btn" onClick={onClear}>
        Clear
      </button>
    </div>
  );
}

export default function LogsPage() {
  const [params, setParams] = useSearchParams();
  const { view, ignored } = useMemo(() => readView(params), [params]);
  const setView = useCallback(
    (patch: Partial<LogsView>, opts: { replace?: boolean } = {}) => setParams((prev) => writeView(prev, patch), { replace: opts.replace ?? false }),
    [setParams],
  );
  const { resolved, setRange } = useTime();
  const range = useMemo(() => apiRange(resolved), [resolved]);
  const q = useSettled(view.q, 300);
  const filterKey = JSON.stringify(apiFilters({ ...view, q }));
  const filters = useMemo(() => JSON.parse(filterKey) as ReturnType<typeof apiFilters>, [filterKey]);

  const search = useLogSearch(range, filters, !view.live);
  const hist = useLogHistogram(range, filters);
  const facets = useLogFacets(range, filters);
  const [tail, tailDispatch] = useLiveTail(filters, view.live);

  const pages = search.data?.pages;
  const searched = useMemo(() => pages?.flatMap((p) => p.logs) ?? [], [pages]);
  const records = view.live ? tail.lines : searched;

  // Records opened from elsewhere (surrounding lines) stay findable by key.
  const known = useRef(new Map<string, LogRecord>());
  const inList = useMemo(() => (view.open === '' ? undefined : records.find((r) => recordKey(r) === view.open)), [records, view.open]);
  const byKey = useLogByKey(view.open, view.open !== '' && inList === undefined && !known.current.has(view.open));
  const open = inList ?? known.current.get(view.open) ?? byKey.data ?? undefined;

  const [cursor, setCursor] = useState(-1);
  useEffect(() => setCursor(-1), [filterKey, view.live, range.start, range.end]);

  const openRecord = useCallback(
    (r: LogRecord, index?: number) => {
      const k = recordKey(r);
      known.current.set(k, r);
      if (known.current.size > 500) known.current.delete(known.current.keys().next().value!);
      if (index !== undefined) setCursor(index);
      setView({ open: k });
    },
    [setView],
  );

  // Page keys: j/k/Enter/Esc (the shell handles /, g x, r, ?).
  const latest = useRef({ records, cursor, view, openRecord, setView });
  latest.current = { records, cursor, view, openRecord, setView };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || inField(e.target)) return;
      const { records: rs, cursor: c, view: v, openRecord: openIt, setView: set } = latest.current;
      if (e.key === 'j' || e.key === 'k') {
        if (rs.length === 0) return;
        e.preventDefault();
        const next = e.key === 'j' ? Math.min(rs.length - 1, c + 1) : Math.max(0, c - 1);
        setCursor(next);
        if (v.open !== '') openIt(rs[next]!, next);
      } else if (e.key === 'Enter' && c >= 0 && c < rs.length && (e.target as HTMLElement).tagName !== 'BUTTON' && (e.target as HTMLElement).tagName !== 'A') {
        e.preventDefault();
        openIt(rs[c]!, c);
      } else if (e.key === 'Escape' && v.open !== '') {
        set({ open: '', tab: 'details' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const onNearEnd = useCallback(() => {
    if (!view.live && search.hasNextPage && !search.isFetchingNextPage && !search.isError) void search.fetchNextPage();
  }, [view.live, search]);

  const total = facets.data?.total;
  // Without the token every panel fails alike: one place asks for it.
  const unauthorized = [search.error, hist.error, facets.error].find((e) => e instanceof ApiError && e.code === 'UNAUTHORIZED');
  const isFiltered = filtered(view);

  let list: ReactNode;
  if (view.live) {
    list = (
      <>
        <TailBar state={tail} onPause={() => tailDispatch({ type: 'pause' })} onResume={() => tailDispatch({ type: 'resume' })} onClear={() => tailDispatch({ type: 'clear' })} />
        {tail.lines.length === 0 ? (
          <Empty title={tail.connection === 'failed' ? 'Live tail stopped' : 'Waiting for new lines'}>
            <p>
              {tail.connection === 'failed'
                ? `${tail.error ?? 'The server refused the tail.'} Turn live tail off to search stored records.`
                : 'New records matching the filters appear here as they arrive, newest on top. The histogram and facets above cover the time range.'}
            </p>
          </Empty>
        ) : (
          <LogList records={tail.lines} cursor={cursor} openKey={view.open} onOpen={openRecord} anchorTop footer={<span className="muted">Keeps the newest {formatCount(tail.cap)} lines.</span>} />
        )}
      </>
    );
  } else if (unauthorized !== undefined) list = <ErrorState error={unauthorized} what="log records" />;
  else if (search.isPending) list = <Loading what="log records" />;
  else if (search.isError && searched.length === 0) list = <ErrorState error={search.error} what="log records" retry={() => void search.refetch()} />;
  else if (searched.length === 0 && isFiltered) {
    list = (
      <Empty title="No record matches these filters in this time range">
        <p>Remove a filter, search for fewer words, or widen the time range.</p>
        <button type="button" className="btn" onClick={() => setView(CLEAR_FILTERS)}>
          Clear the filters
        </button>{' '}
        <button type="button" className="btn" onClick={() => setRange(relative('7d')!)}>
          Search the last 7 days
        </button>
      </Empty>
    );
  } else if (searched.length === 0) {
    list = (
      <Empty title="No log records in this time range">
        <p>
          Widen the range, or send logs: any OpenTelemetry SDK or Collector exporting OTLP to <code>http://{location.hostname || '127.0.0.1'}:4318/v1/logs</code> (or gRPC on
          :4317) shows up here within a second.
        </p>
        <button type="button" className="btn primary" onClick={() => setRange(relative('7d')!)}>
          Show the last 7 days
        </button>
      </Empty>
    );
  } else {
    let footer: ReactNode;
    if (search.isFetchingNextPage) footer = <span className="muted">Loading older records…</span>;
    else if (search.isError) {
      footer = (
        <span className="bad">
          Could not load older records: {search.error.message}{' '}
          <button type="button" className="link-btn" onClick={() => void search.fetchNextPage()}>
            retry
          </button>
        </span>
      );
    } else if (search.hasNextPage) footer = <span className="muted">Scroll for older records</span>;
    else if (searched.length >= MAX_LOADED && pages?.[pages.length - 1]?.nextCursor !== undefined) {
      footer = <span className="warn">Showing the newest {formatCount(searched.length)} records; narrow the time range or the filters to see older ones.</span>;
    } else footer = <span className="muted">Start of the range: all {formatCount(searched.length)} matching records are listed.</span>;
    list = <LogList records={searched} cursor={cursor} openKey={view.open} onOpen={openRecord} onNearEnd={onNearEnd} footer={footer} />;
  }

  return (
    <section className="page logs-page" aria-labelledby="logs-title">
      <div className="page-head">
        <h1 id="logs-title">Logs</h1>
        <span className="muted" data-testid="logs-total">
          {total === undefined ? '' : `${formatCount(total)} record${total === 1 ? '' : 's'} in range`}
          {!view.live && searched.length > 0 && total !== undefined ? ` · ${formatCount(searched.length)} loaded` : ''}
          {search.isFetching && !search.isFetchingNextPage && !search.isPending ? ' · refreshing…' : ''}
        </span>
        <span className="spacer" />
        <button
          type="button"
          className={`btn${view.live ? ' primary' : ''}`}
          aria-pressed={view.live}
          onClick={() => setView({ live: !view.live })}
          data-testid="live-toggle"
          title="New matching lines appear as they arrive"
        >
          {view.live ? '● Live tail on' : 'Live tail'}
        </button>
      </div>
      <div className="filters" role="search">
        <TextFilter
          type="search"
          placeholder="Search log bodies  ( / )"
          value={view.q}
          onValue={(v) => setView({ q: v }, { replace: true })}
          aria-label="Search log bodies"
          data-search
          maxLength={1000}
        />
        <label>
          Severity{' '}
          <select value={view.severity} onChange={(e) => setView({ severity: e.target.value as LogsView['severity'] })} aria-label="Minimum severity" data-testid="severity-filter">
            <option value="">all</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s} and above
              </option>
            ))}
          </select>
        </label>
        {view.service && <Chip label={`service = ${view.service}`} onRemove={() => setView({ service: '' })} />}
        {view.namespace && <Chip label={`namespace = ${view.namespace}`} onRemove={() => setView({ namespace: '' })} />}
        {view.pod && <Chip label={`pod = ${view.pod}`} onRemove={() => setView({ pod: '' })} />}
        {view.traceId && <Chip label={`trace = ${view.traceId.slice(0, 12)}…`} onRemove={() => setView({ traceId: '', spanId: '' })} />}
        {view.spanId && <Chip label={`span = ${view.spanId}`} onRemove={() => setView({ spanId: '' })} />}
        {view.attrs.map((a) => (
          <Chip key={a} label={a} onRemove={() => setView({ attrs: view.attrs.filter((x) => x !== a) })} />
        ))}
        {isFiltered && (
          <button type="button" className="link-btn" onClick={() => setView(CLEAR_FILTERS)}>
            Clear all
          </button>
        )}
      </div>
      {ignored.length > 0 && (
        <p className="banner warn" role="alert">
          Ignored unreadable parts of the link: {ignored.join(', ')}.
        </p>
      )}
      <div className="logs-layout">
        <div className="logs-side">
          {unauthorized !== undefined ? null : facets.isError ? (
            <p className="bad small" role="alert">
              Could not load the facets: {facets.error.message}.{' '}
              <button type="button" className="link-btn" onClick={() => void facets.refetch()}>
                Retry
              </button>
            </p>
          ) : facets.data ? (
            <Facets data={facets.data} view={view} onPick={(field, value) => setView(toggleFacet(view, field, value))} />
          ) : (
            <Loading what="facets" />
          )}
        </div>
        <div className="logs-main">
          {unauthorized !== undefined ? null : hist.isError ? <ErrorState error={hist.error} what="the histogram" retry={() => void hist.refetch()} /> : hist.data ? <Histogram data={hist.data} /> : <Loading what="the histogram" />}
          {list}
          <p className="hint">
            <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>Enter</kbd> open · <kbd>Esc</kbd> close · <kbd>/</kbd> search. Severity filters take the class and above; namespace and pod
            match resource attributes.
          </p>
        </div>
      </div>
      {view.open !== '' &&
        (open ? (
          <RecordPanel
            record={open}
            tab={view.tab}
            onTab={(tab) => setView({ tab })}
            onClose={() => setView({ open: '', tab: 'details' })}
            onFilter={(k, v) => setView(addAttrFilter(view, k, v))}
            onSearch={(patch) => setView({ ...patch, live: false })}
            onOpen={(r) => openRecord(r)}
          />
        ) : (
          <aside className="record-panel" aria-label="Log record" data-testid="record-panel">
            {byKey.isPending ? (
              <Loading what="the record" />
            ) : byKey.isError ? (
              <ErrorState error={byKey.error} what="the record" retry={() => void byKey.refetch()} />
            ) : (
              <Empty title="The record in the link was not found">
                <p>It may be past the retention period, or the link was cut.</p>
                <button type="button" className="btn" onClick={() => setView({ open: '', tab: 'details' })}>
                  Close
                </button>
              </Empty>
            )}
          </aside>
        ))}
    </section>
  );
}
