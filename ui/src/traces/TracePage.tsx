/**
 * /traces/:traceId: one trace as a waterfall. Built for 10,000+ spans: the tree and the critical path are
 * computed once per trace (pure modules, O(n log n)), collapse state and search matches are sets, and only the
 * rows in view are in the DOM (TanStack Virtual), each a few plain divs (no chart component per row).
 *
 * View state in the URL: `span` (the open details), `q` (search in the trace), `collapsed` (span ids),
 * `limit` (spans to load, for a trace past the default). Keyboard: j/k or ↓/↑ move between spans, ←/→
 * collapse/expand, Enter opens the details, Esc closes them, / searches, n/N next/previous match.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { formatCount, formatDurationNs } from '../shared/format/format.ts';
import { Empty, ErrorState, Loading } from '../shared/state/States.tsx';
import { formatInstant } from '../shared/time/range.ts';
import { carry } from '../shared/url/state.ts';
import { TextFilter } from '../shared/url/TextFilter.tsx';
import { useUrlState } from '../shared/url/use-url-state.ts';
import { ApiError } from '../shared/api/client.ts';
import { TRACE_LOG_LIMIT, useTrace, useTraceLogs } from './api.ts';
import { TRACE_STATE, traceLimit } from './queries.ts';
import { type PathSegment, criticalPath, pathByNode } from './critical-path.ts';
import { SpanDetails } from './SpanDetails.tsx';
import { type PlacedLog, formatCollapsed, parseCollapsed, placeLogs, rulerTicks, serviceHue } from './timeline.ts';
import { type SpanTree, ancestors, buildTree, mainRoot, searchSpans, visibleRows } from './tree.ts';
import './traces.css';

const ROW_PX = 26;
/** The API's most spans per trace (query/schemas/traces.ts). */
const MAX_LIMIT = 50_000;

function inField(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
}

const pct = (ns: number, total: number) => `${(ns / Math.max(total, 1)) * 100}%`;

function Ruler({ durationNs }: { durationNs: number }) {
  return (
    <div className="ruler" aria-hidden="true">
      {rulerTicks(durationNs).map((t) => (
        <span key={t} style={{ left: pct(t, durationNs) }}>
          {formatDurationNs(t)}
        </span>
      ))}
    </div>
  );
}

function LogMarks({ logs, total }: { logs: readonly PlacedLog[]; total: number }) {
  return (
    <>
      {logs.map((l, i) => (
        <span
          key={i}
          className={`log-mark${l.log.severityNumber >= 17 ? ' bad' : l.log.severityNumber >= 13 ? ' warn' : ''}`}
          style={{ left: pct(Math.min(Math.max(l.atNs, 0), total), total) }}
          title={`${l.log.severityText || 'LOG'} ${formatDurationNs(l.atNs)}: ${l.log.body.slice(0, 200)}`}
        />
      ))}
    </>
  );
}

const NO_PATH = new Map<number, PathSegment[]>();

/**
 * The critical path, computed after the waterfall's first rows are painted (the next frame, then a task): it is a
 * mark on rows already drawn, and on a 10,000-span trace it costs 20-100 ms the first paint need not wait for.
 */
function useCriticalPath(tree: SpanTree | undefined, root: number | undefined): Map<number, PathSegment[]> {
  const [done, setDone] = useState<{ tree: SpanTree; path: Map<number, PathSegment[]> }>();
  useEffect(() => {
    if (!tree || root === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setDone({ tree, path: pathByNode(criticalPath(tree, root)) }), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [tree, root]);
  return done && done.tree === tree ? done.path : NO_PATH;
}

export default function TracePage() {
  const { traceId = '' } = useParams();
  const [params] = useSearchParams();
  const [state, setState] = useUrlState(TRACE_STATE);
  const trace = useTrace(traceId, traceLimit(state));
  const tree = useMemo<SpanTree | undefined>(() => (trace.data ? buildTree(trace.data) : undefined), [trace.data]);
  const root = useMemo(() => (tree ? mainRoot(tree) : undefined), [tree]);
  const path = useCriticalPath(tree, root);
  const logWindow = useMemo(() => {
    if (!tree) return undefined;
    const startMs = Number(tree.startUnixNano / 1_000_000n);
    return { startMs: startMs - 5 * 60_000, endMs: startMs + Math.ceil(tree.durationNs / 1e6) + 5 * 60_000 };
  }, [tree]);
  const logs = useTraceLogs(traceId.toLowerCase(), logWindow);
  const placed = useMemo(() => (tree && logs.data ? placeLogs(tree, logs.data.logs) : undefined), [tree, logs.data]);

  if (!/^[0-9a-fA-F]{32}$/.test(traceId)) {
    return (
      <section className="page">
        <Empty title={`"${traceId}" is not a trace id`}>
          <p>
            A trace id is 32 hexadecimal characters. Find traces on the <Link to={`/traces${carry(params)}`}>traces page</Link>.
          </p>
        </Empty>
      </section>
    );
  }
  if (trace.isPending) return <Loading what={`trace ${traceId}`} />;
  if (trace.isError) {
    if (trace.error instanceof ApiError && trace.error.status === 404) {
      return (
        <section className="page">
          <Empty title={`No span of trace ${traceId} is stored`}>
            <p>
              It may not have arrived yet (retry in a moment), may be older than the traces retention, or the id may be mistyped. Search on the{' '}
              <Link to={`/traces${carry(params)}`}>traces page</Link>.
            </p>
            <button type="button" className="btn" onClick={() => void trace.refetch()}>
              Retry
            </button>
          </Empty>
        </section>
      );
    }
    return <ErrorState error={trace.error} what={`trace ${traceId}`} retry={() => void trace.refetch()} />;
  }
  if (!tree) return <Loading what="the waterfall" />;
  return (
    <Waterfall
      tree={tree}
      path={path}
      placed={placed}
      logsState={logs.isPending ? 'loading' : logs.isError ? 'error' : logs.data?.nextCursor ? 'capped' : 'ok'}
      truncated={trace.data.truncated}
      limit={state.limit}
      state={state}
      setState={setState}
      params={params}
    />
  );
}

type State = { span: string; q: string; collapsed: string; limit: number };

function Waterfall({
  tree,
  path,
  placed,
  logsState,
  truncated,
  limit,
  state,
  setState,
  params,
}: {
  tree: SpanTree;
  path: Map<number, { startNs: number; endNs: number }[]>;
  placed: ReturnType<typeof placeLogs> | undefined;
  logsState: 'loading' | 'error' | 'capped' | 'ok';
  truncated: boolean;
  limit: number;
  state: State;
  setState: (p: Partial<State>, o?: { replace?: boolean }) => void;
  params: URLSearchParams;
}) {
  const collapsed = useMemo(() => parseCollapsed(tree, state.collapsed), [tree, state.collapsed]);
  const rows = useMemo(() => visibleRows(tree, collapsed), [tree, collapsed]);
  const matches = useMemo(() => searchSpans(tree, state.q), [tree, state.q]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const rowOf = useMemo(() => {
    const m = new Int32Array(tree.nodes.length).fill(-1);
    rows.forEach((n, r) => (m[n] = r));
    return m;
  }, [rows, tree]);
  const selected = state.span === '' ? undefined : tree.byId.get(state.span);
  const [focus, setFocus] = useState<number>(selected ?? 0);
  const [matchAt, setMatchAt] = useState(0);
  const scrollRef = useRef<HTMLDivElement>(null);
  const total = tree.durationNs;
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_PX, overscan: 20 });

  const setCollapsed = useCallback((next: Set<number>) => setState({ collapsed: formatCollapsed(tree, next) }, { replace: true }), [setState, tree]);
  const toggle = useCallback(
    (i: number, open?: boolean) => {
      if (tree.nodes[i]!.children.length === 0) return;
      const next = new Set(collapsed);
      const isOpen = !collapsed.has(i);
      if (open ?? !isOpen) next.delete(i);
      else next.add(i);
      setCollapsed(next);
    },
    [collapsed, setCollapsed, tree],
  );
  /** Shows a node: expands its ancestors, scrolls to it and focuses it. */
  const reveal = useCallback(
    (i: number) => {
      const anc = ancestors(tree, i).filter((a) => collapsed.has(a));
      if (anc.length > 0) {
        const next = new Set(collapsed);
        for (const a of anc) next.delete(a);
        setCollapsed(next);
      }
      setFocus(i);
    },
    [collapsed, setCollapsed, tree],
  );
  // Keep the focused row in view once it is a row. On arrival the list is at its top: the first row needs no
  // scroll, and asking the virtualizer would measure the list (a forced layout) before the first rows are painted.
  const arrived = useRef(true);
  useEffect(() => {
    const r = rowOf[focus];
    const first = arrived.current;
    arrived.current = false;
    if (first && r === 0) return;
    if (r !== undefined && r >= 0) virtual.scrollToIndex(r, { align: 'auto' });
  }, [focus, rowOf, virtual]);
  // A span opened by the URL (a link, reload) is revealed once.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current || selected === undefined) return;
    opened.current = true;
    reveal(selected);
  }, [selected, reveal]);
  const open = useCallback((i: number) => setState({ span: tree.nodes[i]!.span.spanId }), [setState, tree]);
  const gotoMatch = useCallback(
    (k: number) => {
      if (matches.length === 0) return;
      const at = ((k % matches.length) + matches.length) % matches.length;
      setMatchAt(at);
      reveal(matches[at]!);
    },
    [matches, reveal],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (inField(e.target)) {
        if (e.key === 'Enter' && (e.target as HTMLElement).dataset['traceSearch'] !== undefined) gotoMatch(matchAt + (e.shiftKey ? -1 : 1));
        return;
      }
      const r = rowOf[focus] ?? -1;
      const move = (d: number) => {
        const next = rows[Math.min(Math.max((r < 0 ? 0 : r) + d, 0), rows.length - 1)];
        if (next !== undefined) setFocus(next);
      };
      switch (e.key) {
        case 'j':
        case 'ArrowDown':
          move(1);
          break;
        case 'k':
        case 'ArrowUp':
          move(-1);
          break;
        case 'End':
          move(rows.length);
          break;
        case 'Home':
          move(-rows.length);
          break;
        case 'ArrowLeft':
          toggle(focus, false);
          break;
        case 'ArrowRight':
          toggle(focus, true);
          break;
        case 'Enter':
          open(focus);
          break;
        case 'Escape':
          if (state.span !== '') setState({ span: '' });
          return;
        case 'n':
          gotoMatch(matchAt + 1);
          break;
        case 'N':
          gotoMatch(matchAt - 1);
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [focus, rows, rowOf, toggle, open, state.span, setState, gotoMatch, matchAt]);

  const rootNode = tree.nodes[mainRoot(tree) ?? 0]!;
  const errors = useMemo(() => tree.nodes.reduce((n, x) => n + (x.span.status?.code === 'Error' ? 1 : 0), 0), [tree]);
  const sel = selected === undefined ? undefined : tree.nodes[selected];
  const traceId = tree.traceId;
  const items = virtual.getVirtualItems();

  return (
    <section className="page trace-page" aria-labelledby="trace-title">
      <div className="page-head">
        <p className="crumbs">
          <Link to={`/traces${carry(params)}`}>Traces</Link> /
        </p>
        <h1 id="trace-title">
          <span className="svc">{rootNode.service}</span> {rootNode.span.name}
        </h1>
      </div>
      <dl className="stats trace-stats" data-testid="trace-stats">
        <div>
          <dt>Duration</dt>
          <dd>{formatDurationNs(total)}</dd>
        </div>
        <div>
          <dt>Spans</dt>
          <dd data-testid="span-count">{formatCount(tree.nodes.length)}</dd>
        </div>
        <div>
          <dt>Services</dt>
          <dd>{tree.services.length}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd className={errors > 0 ? 'bad' : undefined}>{errors}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd className="small">{formatInstant(Number(tree.startUnixNano / 1_000_000n))}</dd>
        </div>
        <div>
          <dt>Trace id</dt>
          <dd className="small">
            <code>{traceId}</code>
          </dd>
        </div>
      </dl>
      {truncated && (
        <p className="banner warn" role="alert" data-testid="truncated">
          This trace has more than {formatCount(limit)} spans; only the first {formatCount(limit)} (by start time) are shown, so some parents may show as
          missing.{' '}
          {limit < MAX_LIMIT && (
            <button type="button" className="btn" onClick={() => setState({ limit: MAX_LIMIT })}>
              Load up to {formatCount(MAX_LIMIT)}
            </button>
          )}
        </p>
      )}
      {tree.orphans > 0 && (
        <p className="banner warn" data-testid="orphans">
          {tree.orphans} span{tree.orphans === 1 ? '' : 's'} whose parent is not in this trace {tree.orphans === 1 ? 'is' : 'are'} shown at the top level,
          marked “missing parent”.
        </p>
      )}
      <div className="trace-tools filters">
        <TextFilter
          type="search"
          placeholder="Find in trace: name, service, attribute  ( / )"
          value={state.q}
          onValue={(q) => {
            setMatchAt(0);
            setState({ q }, { replace: true });
          }}
          aria-label="Find spans in this trace"
          data-search
          data-trace-search
        />
        {state.q !== '' && (
          <span className="muted" data-testid="match-count">
            {matches.length === 0 ? 'no match' : `${Math.min(matchAt + 1, matches.length)} of ${matches.length} matches`} (Enter / n: next)
          </span>
        )}
        <button type="button" className="btn" onClick={() => setCollapsed(new Set())}>
          Expand all
        </button>
        <button type="button" className="btn" onClick={() => setCollapsed(new Set(tree.nodes.filter((n) => n.depth >= 1 && n.children.length > 0).map((n) => n.index)))}>
          Collapse below level 1
        </button>
        <span className="legend-inline muted">
          <span className="cp-swatch" /> critical path · <span className="log-swatch" /> log record · ▲ error
        </span>
        <span className="muted">
          {logsState === 'loading'
            ? 'loading logs…'
            : logsState === 'error'
              ? 'logs could not be loaded'
              : `${formatCount((placed?.traceLevel.length ?? 0) + [...(placed?.bySpan.values() ?? [])].reduce((n, l) => n + l.length, 0))} log records${logsState === 'capped' ? ` (first ${TRACE_LOG_LIMIT})` : ''}`}
        </span>
      </div>
      <div className={`trace-body${sel ? ' with-details' : ''}`}>
        <div className="waterfall" data-testid="waterfall">
          <div className="wf-head">
            <div className="wf-name">Span</div>
            <div className="wf-time">
              <Ruler durationNs={total} />
            </div>
          </div>
          {placed && placed.traceLevel.length > 0 && (
            <div className="wf-row trace-logs" data-testid="trace-level-logs">
              <div className="wf-name muted">Trace-level logs ({placed.traceLevel.length})</div>
              <div className="wf-time">
                <LogMarks logs={placed.traceLevel} total={total} />
              </div>
            </div>
          )}
          <div className="wf-scroll" ref={scrollRef} role="tree" aria-label="Spans" data-testid="wf-scroll">
            <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
              {items.map((vi) => {
                const i = rows[vi.index]!;
                const n = tree.nodes[i]!;
                const s = n.span;
                const onPath = path.get(i);
                const hasKids = n.children.length > 0;
                const isCollapsed = collapsed.has(i);
                const err = s.status?.code === 'Error';
                const hue = serviceHue(n.service);
                const spanLogs = placed?.bySpan.get(s.spanId);
                return (
                  <div
                    key={i}
                    className={`wf-row${i === focus ? ' focused' : ''}${i === selected ? ' selected' : ''}${matchSet.has(i) ? ' match' : ''}`}
                    style={{ transform: `translateY(${vi.start}px)`, height: ROW_PX }}
                    role="treeitem"
                    aria-level={n.depth + 1}
                    aria-expanded={hasKids ? !isCollapsed : undefined}
                    aria-selected={i === selected}
                    data-span={s.spanId}
                    data-row={vi.index}
                    onClick={() => {
                      setFocus(i);
                      open(i);
                    }}
                  >
                    <div className="wf-name" style={{ paddingLeft: 4 + Math.min(n.depth, 40) * 12 }}>
                      {hasKids ? (
                        <button
                          type="button"
                          className="twisty"
                          aria-label={`${isCollapsed ? 'Expand' : 'Collapse'} ${s.name} (${n.size - 1} spans below)`}
                          onClick={(e) => {
                            e.stopPropagation();
                            toggle(i);
                          }}
                        >
                          {isCollapsed ? '▸' : '▾'}
                        </button>
                      ) : (
                        <span className="twisty" />
                      )}
                      <span className="svc-dot" style={{ background: `hsl(${hue} 60% 50%)` }} />
                      <span className="svc">{n.service}</span> <span className="op">{s.name}</span>
                      {err && <span className="bad err-mark" title={s.status?.message || 'error'}> ▲</span>}
                      {isCollapsed && <span className="muted"> +{n.size - 1}</span>}
                      {n.missingParent !== undefined && (
                        <span className="tag warn" title="The parent span is not in this trace">
                          missing parent {n.missingParent}
                        </span>
                      )}
                      {n.cycle && <span className="tag warn">parent cycle</span>}
                      {n.duplicate && <span className="tag">duplicate id</span>}
                    </div>
                    <div className="wf-time">
                      <span
                        className={`bar${err ? ' error' : ''}`}
                        style={{ left: pct(n.startNs, total), width: `max(1px, ${pct(n.endNs - n.startNs, total)})`, background: err ? undefined : `hsl(${hue} 55% 55%)` }}
                      />
                      {onPath?.map((seg, k) => <span key={k} className="cp" style={{ left: pct(seg.startNs, total), width: `max(1px, ${pct(seg.endNs - seg.startNs, total)})` }} />)}
                      {spanLogs && <LogMarks logs={spanLogs} total={total} />}
                      <span className="bar-label" style={{ left: `min(calc(${pct(n.endNs, total)} + 4px), calc(100% - 70px))` }}>
                        {formatDurationNs(n.endNs - n.startNs)}
                      </span>
                    </div>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
        {sel && (
          <SpanDetails
            tree={tree}
            node={sel}
            parentName={sel.parent >= 0 ? tree.nodes[sel.parent]!.span.name : undefined}
            logs={placed?.bySpan.get(sel.span.spanId) ?? []}
            onClose={() => setState({ span: '' })}
            onJump={(id) => {
              const i = tree.byId.get(id);
              if (i !== undefined) {
                reveal(i);
                open(i);
              }
            }}
            searchParams={params}
          />
        )}
      </div>
    </section>
  );
}
