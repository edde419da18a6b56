/**
 * /traces: search traces by service, operation, duration range, status and attributes over the shared range.
 * A duration-over-time scatter of the matching spans (click a point: its trace; drag a rectangle: the list
 * narrows to that time and duration window, the time becoming the shared range), and the matching traces,
 * newest first, in pages of PAGE_SIZE (cursor-paged; the walked cursors live in the URL, so Back and reload
 * return to the same page). Everything is in the URL.
 */
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { TraceSummary } from '../../../query/contract.ts';
import { type Brush, type ScatterDatum, ScatterChart } from '../shared/charts/ScatterChart.tsx';
import { formatCount, formatDurationNs } from '../shared/format/format.ts';
import { Empty, ErrorState, Loading } from '../shared/state/States.tsx';
import { DataTable } from '../shared/table/DataTable.tsx';
import { useTime } from '../shared/time/context.tsx';
import { apiRange, formatInstant } from '../shared/time/range.ts';
import { carry } from '../shared/url/state.ts';
import { TextFilter } from '../shared/url/TextFilter.tsx';
import { useUrlState } from '../shared/url/use-url-state.ts';
import { useOperations, useServices, useTracePage, useTraceScatter } from './api.ts';
import { PAGE_SIZE, SEARCH_SCHEMA, STATUSES, apiFilters, cursorStack, durationParam, validAttr, validDuration } from './search.ts';
import './traces.css';

const col = createColumnHelper<TraceSummary>();

function columns(params: URLSearchParams, maxNs: number) {
  return [
    col.accessor('rootSpanName', {
      id: 'trace',
      header: 'Trace',
      enableSorting: false,
      cell: (c) => {
        const t = c.row.original;
        return (
          <Link to={`/traces/${t.traceId}${carry(params)}`} className="trace-link">
            <span className="svc">{t.rootServiceName}</span> {t.rootSpanName || '(no root span)'}
          </Link>
        );
      },
    }),
    col.accessor('startTime', { id: 'start', header: 'Start', enableSorting: false, cell: (c) => <span className="muted">{formatInstant(Date.parse(c.getValue()))}</span> }),
    col.accessor((t) => Number(t.durationNano), {
      id: 'duration',
      header: 'Duration',
      enableSorting: false,
      meta: { numeric: true },
      cell: (c) => (
        <span className="dur-cell">
          <span className="dur-bar" style={{ width: `${Math.max(2, (c.getValue() / Math.max(maxNs, 1)) * 100)}%` }} />
          <span className="dur-text">{formatDurationNs(c.getValue())}</span>
        </span>
      ),
    }),
    col.accessor('spanCount', { id: 'spans', header: 'Spans', enableSorting: false, meta: { numeric: true }, cell: (c) => formatCount(c.getValue()) }),
    col.accessor('errorCount', {
      id: 'errors',
      header: 'Errors',
      enableSorting: false,
      meta: { numeric: true },
      cell: (c) => <span className={c.getValue() > 0 ? 'bad' : 'muted'}>{c.getValue()}</span>,
    }),
    col.accessor((t) => t.services.join(', '), { id: 'services', header: 'Services', enableSorting: false, cell: (c) => <span className="muted services-cell">{c.getValue()}</span> }),
  ];
}

function AttrFilters({ attrs, onChange }: { attrs: string[]; onChange: (next: string[]) => void }) {
  const [draft, setDraft] = useState('');
  const bad = draft !== '' && !validAttr(draft);
  return (
    <div className="attr-filters">
      <input
        type="text"
        placeholder="attribute=value, Enter"
        value={draft}
        aria-label="Add an attribute filter (key=value)"
        aria-invalid={bad}
        data-testid="attr-input"
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && validAttr(draft)) {
            onChange([...attrs.filter((a) => a !== draft), draft]);
            setDraft('');
          }
        }}
      />
      {bad && <span className="form-error">key=value</span>}
      {attrs.map((a) => (
        <span key={a} className="chip active" data-testid="attr-chip">
          {a}{' '}
          <button type="button" className="chip-x" aria-label={`Remove filter ${a}`} onClick={() => onChange(attrs.filter((x) => x !== a))}>
            ×
          </button>
        </span>
      ))}
    </div>
  );
}

export default function TracesPage() {
  const [state, setState] = useUrlState(SEARCH_SCHEMA);
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const { resolved } = useTime();
  const range = apiRange(resolved);
  const attrs = params.getAll('attr');
  const filters = apiFilters({ ...state, attrs });
  const cursors = cursorStack(state.cursors);
  const cursor = cursors[cursors.length - 1];

  const services = useServices({ ...range, limit: 1000 });
  const operations = useOperations({ ...range, service: state.service, limit: 200 }, { enabled: state.service !== '' });
  const scatter = useTraceScatter({ ...range, ...filters, limit: 2000 });
  const page = useTracePage({ ...range, ...filters, limit: PAGE_SIZE, cursor });

  /** Filter changes start again from the first page. */
  const setFilter = (patch: Partial<typeof state>, replace = false) => setState({ ...patch, cursors: '' }, { replace });
  const setAttrs = (next: string[]) =>
    setParams((prev) => {
      const sp = new URLSearchParams(prev);
      sp.delete('attr');
      sp.delete('cursors');
      for (const a of next) sp.append('attr', a);
      return sp;
    });

  const points = useMemo<ScatterDatum[]>(
    () =>
      (scatter.data?.points ?? []).map((p) => ({
        id: `${p.traceId}:${p.spanId}`,
        x: Number(BigInt(p.startTimeUnixNano) / 1_000_000n),
        y: Number(p.durationNano),
        error: p.status === 'Error',
        label: `${p.serviceName}: ${p.name}`,
      })),
    [scatter.data],
  );
  const traces = page.data?.traces ?? [];
  const maxNs = traces.reduce((m, t) => Math.max(m, Number(t.durationNano)), 0);
  const cols = useMemo(() => columns(params, maxNs), [params, maxNs]);
  const onBrush = (b: Brush) => {
    setParams((prev) => {
      const sp = new URLSearchParams(prev);
      sp.set('from', new Date(Math.floor(b.fromMs)).toISOString());
      sp.set('to', new Date(Math.ceil(b.toMs)).toISOString());
      sp.set('minDuration', durationParam(Math.floor(b.minNs)));
      sp.set('maxDuration', durationParam(Math.ceil(b.maxNs * 1.001)));
      sp.delete('cursors');
      return sp;
    });
  };

  const filtered = Object.values(filters).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined));
  const first = cursors.length * PAGE_SIZE + 1;

  let list;
  if (page.isPending) list = <Loading what="traces" />;
  else if (page.isError) list = <ErrorState error={page.error} what="traces" retry={() => void page.refetch()} />;
  else if (traces.length === 0) {
    list = (
      <Empty title={filtered ? 'No trace matches these filters in this time range' : 'No traces in this time range'}>
        <p>{filtered ? 'Loosen a filter (the duration bounds apply to single spans), or widen the time range.' : 'Widen the time range, or send traces to the OTLP endpoint (the Services page shows how).'}</p>
        {filtered && (
          <button type="button" className="btn" onClick={() => setParams((prev) => {
            const sp = new URLSearchParams(prev);
            for (const k of ['service', 'operation', 'minDuration', 'maxDuration', 'status', 'attr', 'cursors']) sp.delete(k);
            return sp;
          })}>
            Clear the filters
          </button>
        )}
      </Empty>
    );
  } else {
    list = <DataTable data={traces} columns={cols} label="Traces" rowId={(t) => t.traceId} maxHeight={720} testId="traces-table" />;
  }

  const svcNames = [...new Set([...(services.data?.services.map((s) => s.serviceName) ?? []), ...(state.service ? [state.service] : [])])].sort();
  const opNames = [...new Set([...(operations.data?.operations.map((o) => o.operation) ?? []), ...(state.operation ? [state.operation] : [])])];

  return (
    <section className="page traces-page" aria-labelledby="traces-title">
      <div className="page-head">
        <h1 id="traces-title">Traces</h1>
        {scatter.data && (
          <span className="muted" data-testid="scatter-count">
            {formatCount(scatter.data.total)} {filters.service || filters.operation ? 'matching spans' : 'traces (root spans)'}
            {scatter.data.sampled ? ` · ${formatCount(scatter.data.points.length)} plotted (a uniform sample)` : ''}
          </span>
        )}
      </div>
      <div className="filters" role="search">
        <label>
          Service{' '}
          <select value={state.service} onChange={(e) => setFilter({ service: e.target.value, operation: '' })} aria-label="Service" data-testid="service-filter">
            <option value="">all</option>
            {svcNames.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Operation{' '}
          <select value={state.operation} disabled={state.service === ''} onChange={(e) => setFilter({ operation: e.target.value })} aria-label="Operation" data-testid="operation-filter">
            <option value="">all</option>
            {opNames.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Duration{' '}
          <TextFilter
            className="dur-input"
            placeholder="min (250ms)"
            value={state.minDuration}
            onValue={(v) => setFilter({ minDuration: v }, true)}
            aria-label="Minimum duration"
            aria-invalid={!validDuration(state.minDuration)}
            data-testid="min-duration"
            data-search
          />
          {' – '}
          <TextFilter
            className="dur-input"
            placeholder="max (2s)"
            value={state.maxDuration}
            onValue={(v) => setFilter({ maxDuration: v }, true)}
            aria-label="Maximum duration"
            aria-invalid={!validDuration(state.maxDuration)}
            data-testid="max-duration"
          />
        </label>
        <label>
          Status{' '}
          <select value={state.status} onChange={(e) => setFilter({ status: e.target.value as (typeof STATUSES)[number] })} aria-label="Status" data-testid="status-filter">
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s === '' ? 'any' : s}
              </option>
            ))}
          </select>
        </label>
        <AttrFilters attrs={attrs} onChange={setAttrs} />
      </div>
      {(!validDuration(state.minDuration) || !validDuration(state.maxDuration)) && (
        <p className="form-error" role="alert">
          A duration is a number with a unit (250ms, 1.5s, 2m) or nanoseconds; the invalid bound is ignored.
        </p>
      )}
      {scatter.isError ? (
        <ErrorState error={scatter.error} what="the chart" retry={() => void scatter.refetch()} />
      ) : (
        <ScatterChart
          title="Duration over time"
          points={points}
          startMs={resolved.startMs}
          endMs={resolved.endMs}
          onPick={(d) => void navigate(`/traces/${d.id.slice(0, 32)}${carry(params)}`)}
          onBrush={onBrush}
          testId="traces-scatter"
        />
      )}
      <div className="list-head">
        <h2>Matching traces</h2>
        {page.data && traces.length > 0 && (
          <span className="muted" data-testid="page-range">
            {page.isPlaceholderData ? (
              'loading…'
            ) : (
              <>
                {first}–{first + traces.length - 1}
                {page.data.nextCursor ? ' · more' : ''} · newest first{page.isFetching ? ' · refreshing…' : ''}
              </>
            )}
          </span>
        )}
        <div className="spacer" />
        <button type="button" className="btn" disabled={cursors.length === 0} onClick={() => setState({ cursors: cursors.slice(0, -1).join('.') })}>
          ← Newer
        </button>
        <button
          type="button"
          className="btn"
          disabled={!page.data?.nextCursor}
          data-testid="next-page"
          onClick={() => page.data?.nextCursor && setState({ cursors: [...cursors, page.data.nextCursor].join('.') })}
        >
          Older →
        </button>
      </div>
      {list}
    </section>
  );
}
