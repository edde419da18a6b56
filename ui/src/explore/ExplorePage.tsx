/**
 * /explore: the metrics explorer. Several queries (A, B, …), each a metric, label filters, a group-by and an
 * aggregation valid for the metric's type, drawn together on one time chart (drag to zoom the shared range) with
 * a legend that toggles series, and every series in a sortable, virtualized table under it (last, avg, min and
 * max over the range, in the metric's unit).
 *
 * The whole view lives in the URL, so reload, share and back/forward work: `q` per query in a PromQL-like text
 * form (query.ts), `hide` (queries off the chart), `off` (series toggled off in the legend), `step` (resolution)
 * and `sort` (the table). Query edits push history entries; nothing is kept only in component state except
 * what is being typed.
 */
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useSearchParams } from 'react-router';
import type { MetricInfo, MetricSeriesQuery } from '../../../query/contract.ts';
import type { Params } from '../shared/api/client.ts';
import { TimeChart } from '../shared/charts/TimeChart.tsx';
import { describeUnit, formatNumber, formatUnit } from '../shared/format/units.ts';
import { Empty, ErrorState, Loading } from '../shared/state/States.tsx';
import { DataTable } from '../shared/table/DataTable.tsx';
import { useTime } from '../shared/time/context.tsx';
import { apiRange, formatDuration, parseDuration, relative } from '../shared/time/range.ts';
import { oneOf, sort } from '../shared/url/state.ts';
import { useUrlState } from '../shared/url/use-url-state.ts';
import { effectiveAgg, resultUnit } from './aggs.ts';
import { CATALOGUE_LIMIT, useMetricCatalog, useMetricSeries } from './api.ts';
import { findMetric, isAmbiguous } from './catalogue.ts';
import { QueryRow } from './QueryRow.tsx';
import { type ExploreQuery, EMPTY_QUERY, MAX_QUERIES, filterParams, formatQuery, letter, readQueries, removeQuery, writeQueries } from './query.ts';
import { CHART_CAP, PALETTE, type SeriesRow, chartData, chartSelection, seriesRows } from './series.ts';
import './explore.css';

const STEPS = ['auto', '10s', '30s', '1m', '5m', '15m', '1h'] as const;
const SORT_COLUMNS = ['name', 'last', 'avg', 'min', 'max'] as const;
const SCHEMA = { step: oneOf(STEPS, 'auto'), sort: sort(SORT_COLUMNS, { column: 'name', desc: false }) };
/** The API's most series per query. */
const SERIES_LIMIT = 1000;
/** The API's most points per series (query/params/time.ts MAX_POINTS). */
const MAX_POINTS = 11_000;
/** Most series toggled off that the URL keeps. */
const MAX_OFF = 100;

const col = createColumnHelper<SeriesRow>();

function valueCell(v: number | null, unit: string) {
  if (v === null) return <span className="muted">–</span>;
  return (
    <span title={`${v} ${unit}`} data-value={v}>
      {formatUnit(v, unit)}
    </span>
  );
}

function columns(off: ReadonlySet<string>, toggle: (id: string) => void) {
  return [
    col.accessor('name', {
      id: 'name',
      header: 'Series',
      cell: (c) => {
        const r = c.row.original;
        const on = !off.has(r.id);
        return (
          <label className="series-cell" title={`${r.letter} ${Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`}>
            <input type="checkbox" checked={on} onChange={() => toggle(r.id)} aria-label={`Show ${r.name} on the chart`} />
            <span className="swatch" style={{ background: r.color }} /> {r.name}
          </label>
        );
      },
    }),
    col.accessor('last', { id: 'last', header: 'Last', meta: { numeric: true }, sortUndefined: 'last', cell: (c) => valueCell(c.getValue(), c.row.original.unit) }),
    col.accessor('avg', { id: 'avg', header: 'Avg', meta: { numeric: true }, cell: (c) => valueCell(c.getValue(), c.row.original.unit) }),
    col.accessor('min', { id: 'min', header: 'Min', meta: { numeric: true }, cell: (c) => valueCell(c.getValue(), c.row.original.unit) }),
    col.accessor('max', { id: 'max', header: 'Max', meta: { numeric: true }, cell: (c) => valueCell(c.getValue(), c.row.original.unit) }),
  ];
}

/** The step parameter: the API's own choice (about 300 points) for auto, and never more points than it allows. */
function stepParam(step: (typeof STEPS)[number], spanMs: number): string | undefined {
  if (step === 'auto') return undefined;
  const ms = parseDuration(step)!;
  return spanMs / ms > MAX_POINTS ? formatDuration(Math.ceil(spanMs / MAX_POINTS / 1000) * 1000) : step;
}

export default function ExplorePage() {
  const [params, setParams] = useSearchParams();
  const [view, setView] = useUrlState(SCHEMA);
  const { resolved, setRange } = useTime();
  const range = apiRange(resolved);
  const { queries, errors } = useMemo(() => readQueries(params), [params]);
  const hiddenQueries = useMemo(() => new Set((params.get('hide') ?? '').split(',').filter((l) => l !== '')), [params]);
  const off = useMemo(() => new Set(params.getAll('off')), [params]);

  const catalogue = useMetricCatalog({ ...range, limit: CATALOGUE_LIMIT });
  const metrics = useMemo(() => catalogue.data?.metrics ?? [], [catalogue.data]);
  const infos = queries.map((q) => findMetric(metrics, q.metric, q.type));
  const step = stepParam(view.step, resolved.endMs - resolved.startMs);

  const requests: (Params<MetricSeriesQuery> | undefined)[] = queries.map((q, i) => {
    if (q.metric === '') return undefined;
    const info = infos[i];
    const agg = info ? effectiveAgg(info, q.agg) : q.agg;
    return {
      name: q.metric,
      type: q.type,
      ...range,
      step,
      agg,
      filter: filterParams(q.filters),
      // The API reads an empty groupBy= as "merge everything"; leaving it out keeps every series.
      groupBy: q.groupBy === undefined ? undefined : q.groupBy.length === 0 ? [''] : [q.groupBy.join(',')],
      limit: SERIES_LIMIT,
    };
  });
  const answers = useMetricSeries(requests);

  const setQueries = (next: ExploreQuery[]) => setParams((prev) => writeQueries(prev, next));
  const update = (i: number, q: ExploreQuery) => setQueries(queries.map((x, j) => (j === i ? q : x)));
  const pick = (i: number, m: MetricInfo) => {
    const old = queries[i]!;
    const has = (k: string) => m.labels.includes(k);
    // Filters and group-by keys the new metric also has are kept (a ServiceName filter usually applies to both).
    update(i, {
      metric: m.name,
      ...(isAmbiguous(metrics, m.name) ? { type: m.type } : {}),
      filters: old.filters.filter((f) => has(f.key)),
      ...(old.groupBy ? { groupBy: old.groupBy.filter(has) } : {}),
    });
  };
  const toggleQuery = (l: string) =>
    setParams((prev) => {
      const sp = new URLSearchParams(prev);
      const set = new Set(hiddenQueries);
      if (set.has(l)) set.delete(l);
      else set.add(l);
      if (set.size === 0) sp.delete('hide');
      else sp.set('hide', [...set].sort().join(','));
      return sp;
    });
  const toggleSeries = (id: string, only = false) =>
    setParams((prev) => {
      const sp = new URLSearchParams(prev);
      sp.delete('off');
      let next: string[];
      if (only) next = rows.filter((r) => r.id !== id).map((r) => r.id);
      else next = off.has(id) ? [...off].filter((x) => x !== id) : [...off, id];
      for (const x of next.slice(0, MAX_OFF)) sp.append('off', x);
      return sp;
    });

  const results = queries.flatMap((q, i) => {
    const data = answers[i]?.data;
    const info = infos[i];
    if (!data || q.metric === '') return [];
    const agg = info ? effectiveAgg(info, q.agg) : q.agg;
    const unit = info && agg ? resultUnit(info, agg, info.unit) : '';
    return [{ letter: letter(i), title: formatQuery({ ...q, ...(agg ? { agg } : {}) }), unit, series: data.series, truncated: data.truncated, stepMs: data.stepMs }];
  });
  // Cheap (a pass over the points), so computed every render rather than memoized on unstable query results.
  const rows = seriesRows(results);
  const visibleRows = rows.filter((r) => !hiddenQueries.has(r.letter));
  const drawn = chartSelection(visibleRows, off);
  const drawnIds = new Set(drawn.map((r) => r.id));
  const drawable = visibleRows.filter((r) => !off.has(r.id) && r.points.length > 0).length;
  const stepMs = results[0]?.stepMs ?? 60_000;
  const chart = chartData(drawn, stepMs);
  const units = [...new Set(drawn.map((r) => r.unit))];
  const axisUnit = units[0] ?? '';
  const cols = columns(off, (id) => toggleSeries(id));

  const picked = queries.filter((q) => q.metric !== '');
  const pending = answers.some((a, i) => requests[i] !== undefined && a.isPending);
  const failed = answers.map((a, i) => ({ a, l: letter(i) })).filter(({ a }) => a.isError);
  const fetching = answers.some((a) => a.isFetching) || catalogue.isFetching;

  let body;
  if (catalogue.isError) body = <ErrorState error={catalogue.error} what="the metric catalogue" retry={() => void catalogue.refetch()} />;
  else if (picked.length === 0) {
    body =
      catalogue.data && metrics.length === 0 ? (
        <Empty title="No metrics in this time range">
          <p>
            Nothing has sent metric data points in this window. Widen the range, or point an OpenTelemetry SDK or Collector at this Crow&apos;s Nest
            (OTLP <code>/v1/metrics</code> on port 4318, or gRPC on 4317); Prometheus <code>remote_write</code> works too.
          </p>
          <button type="button" className="btn primary" onClick={() => setRange(relative('7d')!)}>
            Show the last 7 days
          </button>
        </Empty>
      ) : (
        <Empty title="Pick a metric to start">
          <p>
            {catalogue.data ? `${metrics.length} metrics have data in this range. ` : ''}Press <kbd>/</kbd> to search them by name or description, <kbd>↑</kbd>{' '}
            <kbd>↓</kbd> to move, <kbd>Enter</kbd> to pick. Counters start as a rate per second, histograms as p95, gauges as the average.
          </p>
        </Empty>
      );
  } else if (pending && rows.length === 0) body = <Loading what="series" />;
  else {
    body = (
      <>
        {failed.map(({ a, l }) => (
          <ErrorState key={l} error={a.error} what={`query ${l}`} retry={() => void a.refetch()} />
        ))}
        {results
          .filter((r) => r.truncated)
          .map((r) => (
            <p key={r.letter} className="banner warn" role="status">
              Query {r.letter} matched more than {SERIES_LIMIT} series; the first {SERIES_LIMIT} are shown. Add a filter or group by fewer labels.
            </p>
          ))}
        {rows.length === 0 && failed.length === 0 ? (
          <Empty title={`No data for ${picked.map((q) => q.metric).join(', ')} in this time range`}>
            <p>
              {queries.some((q) => q.filters.length > 0) ? 'The filters may match nothing: remove one, or ' : ''}widen the time range. A summary has only the
              quantiles its application computes.
            </p>
            <button type="button" className="btn" onClick={() => setRange(relative('24h')!)}>
              Show the last 24 hours
            </button>
          </Empty>
        ) : rows.length > 0 ? (
          <>
            {drawn.length > 0 ? (
              <TimeChart
                title={results.map((r) => `${results.length > 1 ? `${r.letter}: ` : ''}${r.title}`).join('   ')}
                timestamps={chart.timestamps}
                series={chart.series.map((s, i) => ({ ...s, format: (v: number) => formatUnit(v, drawn[i]!.unit) }))}
                format={(v) => (units.length > 1 ? formatNumber(v) : formatUnit(v, axisUnit))}
                height={320}
                legend={false}
              />
            ) : (
              <Empty title="Every series is off">
                <p>Turn series back on in the legend or the table, or show the hidden queries.</p>
              </Empty>
            )}
            <div className="legend-bar">
              <ul className="legend explore-legend" aria-label="Legend: click a series to show or hide it, shift-click to show only it">
                {visibleRows.slice(0, 60).map((r) => {
                  const on = !off.has(r.id);
                  // On, but left out by the cap on drawn series.
                  const capped = on && r.points.length > 0 && !drawnIds.has(r.id);
                  return (
                    <li key={r.id}>
                      <button
                        type="button"
                        className={`legend-item${on ? '' : ' off'}${capped ? ' capped' : ''}`}
                        aria-pressed={on}
                        data-series={r.id}
                        onClick={(e) => toggleSeries(r.id, e.shiftKey)}
                        title={
                          capped
                            ? `Not drawn: the chart draws the ${CHART_CAP} largest series. Shift-click to show only this one.`
                            : on
                              ? 'Click to hide; shift-click to show only this series'
                              : 'Click to show'
                        }
                      >
                        <span className="swatch" style={{ background: r.color }} /> {r.name}
                      </button>
                    </li>
                  );
                })}
                {visibleRows.length > 60 && <li className="muted">and {visibleRows.length - 60} more in the table</li>}
              </ul>
              <p className="hint" data-testid="chart-note">
                {drawable > drawn.length
                  ? `The chart draws ${drawn.length} of ${drawable} series (each query's largest by average); the table lists all ${rows.length}.`
                  : `${rows.length} series.`}
                {units.length > 1
                  ? ` The series are in different units (${units.map((u) => describeUnit(u) || 'plain numbers').join(', ')}): the axis shows plain numbers, the tooltip and the table each series in its own unit.`
                  : ''}
                {' '}Drag across the chart to zoom.
              </p>
            </div>
            <DataTable
              data={rows}
              columns={cols}
              label="Series"
              rowId={(r) => r.id}
              sorting={[{ id: view.sort.column, desc: view.sort.desc }]}
              onSortingChange={(s) => {
                const first = s[0];
                setView({ sort: first ? { column: first.id as (typeof SORT_COLUMNS)[number], desc: first.desc } : { column: 'name', desc: false } });
              }}
              maxHeight={480}
              rowHeight={34}
              testId="series-table"
            />
          </>
        ) : null}
      </>
    );
  }

  return (
    <section className="page explore" aria-labelledby="explore-title">
      <div className="page-head">
        <h1 id="explore-title">Metrics explorer</h1>
        <span className="muted" data-testid="explore-status">
          {catalogue.data ? `${metrics.length}${metrics.length >= CATALOGUE_LIMIT ? '+' : ''} metrics` : ''}
          {fetching ? ' · refreshing…' : ''}
        </span>
        <div className="spacer" />
        <label>
          Resolution{' '}
          <select value={view.step} onChange={(e) => setView({ step: e.target.value as (typeof STEPS)[number] })} aria-label="Resolution (step)" data-testid="step">
            {STEPS.map((s) => (
              <option key={s} value={s}>
                {s === 'auto' ? 'auto (~300 points)' : s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {errors.map((e) => (
        <p key={e} className="banner warn" role="alert">
          Ignored {e}.
        </p>
      ))}
      <div className="queries">
        {queries.map((q, i) => (
          <QueryRow
            key={i}
            index={i}
            letter={letter(i)}
            query={q}
            info={infos[i]}
            metrics={metrics}
            catalogueLoading={catalogue.isPending}
            range={range}
            hidden={hiddenQueries.has(letter(i))}
            color={PALETTE[i % PALETTE.length]!}
            canRemove={queries.length > 1 || q.metric !== ''}
            onChange={(nq) => update(i, nq)}
            onPick={(m) => pick(i, m)}
            onToggle={() => toggleQuery(letter(i))}
            onRemove={() => setParams((prev) => (queries.length > 1 ? removeQuery(prev, queries, i) : writeQueries(prev, [{ ...EMPTY_QUERY }])))}
          />
        ))}
        {queries.length < MAX_QUERIES && (
          <button type="button" className="btn" onClick={() => setQueries([...queries, { ...EMPTY_QUERY }])} disabled={queries[queries.length - 1]?.metric === ''} data-testid="add-query">
            + Add query {letter(queries.length)}
          </button>
        )}
      </div>
      {body}
    </section>
  );
}
