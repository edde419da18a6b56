/**
 * /services/:name: one service over the shared range: its RED charts (drag to zoom), top operations, slowest
 * and failing traces, and a way to its logs.
 */
import { createColumnHelper } from '@tanstack/react-table';
import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { OperationStats, TraceSummary } from '../../../query/contract.ts';
import { useOperations, useServiceSeries, useServices, useTraceSearch } from '../shared/api/hooks.ts';
import { TimeChart } from '../shared/charts/TimeChart.tsx';
import { formatCount, formatDurationNs, formatPercent, formatRate } from '../shared/format/format.ts';
import { Empty, ErrorState, Loading } from '../shared/state/States.tsx';
import { DataTable } from '../shared/table/DataTable.tsx';
import { useTime } from '../shared/time/context.tsx';
import { apiRange, formatInstant } from '../shared/time/range.ts';
import { carry } from '../shared/url/state.ts';
import { serviceQueries } from './queries.ts';

const opCol = createColumnHelper<OperationStats>();
const OP_COLUMNS = [
  opCol.accessor('operation', { header: 'Operation' }),
  opCol.accessor('requestRate', { header: 'Req/s', meta: { numeric: true }, cell: (c) => formatRate(c.getValue()) }),
  opCol.accessor('errorRate', { header: 'Error %', meta: { numeric: true }, cell: (c) => formatPercent(c.getValue()) }),
  opCol.accessor((o) => o.latencyNano.p95, { id: 'p95', header: 'p95', meta: { numeric: true }, cell: (c) => formatDurationNs(c.getValue()) }),
];

function TraceList({ traces, params, empty }: { traces: TraceSummary[]; params: URLSearchParams; empty: string }) {
  if (traces.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ol className="trace-list">
      {traces.map((t) => (
        <li key={t.traceId}>
          <Link to={`/traces/${t.traceId}${carry(params)}`}>
            <span className="trace-name">{t.rootSpanName || '(no root span)'}</span>
            <span className="num">{formatDurationNs(Number(t.durationNano))}</span>
            <span className="muted">
              {formatInstant(Date.parse(t.startTime))} · {t.spanCount} {t.spanCount === 1 ? 'span' : 'spans'}
              {t.errorCount > 0 ? ` · ${t.errorCount} ${t.errorCount === 1 ? 'error' : 'errors'}` : ''}
            </span>
          </Link>
        </li>
      ))}
    </ol>
  );
}

export default function ServicePage() {
  const { name = '' } = useParams();
  const [params] = useSearchParams();
  const { resolved } = useTime();
  const range = apiRange(resolved);
  // The same parameters the registry's prefetch computed (./queries.ts), so these find its requests.
  const q = serviceQueries(name, resolved);
  const stats = useServices(q.stats);
  const series = useServiceSeries(q.series);
  const operations = useOperations(q.operations);
  const s = stats.data?.services[0];
  const errors = useTraceSearch(q.errors);
  // The slowest requests: traces with a span of this service at or above its p99, slowest first.
  const slow = useTraceSearch({ ...range, service: name, minDuration: s ? `${Math.floor(s.latencyNano.p99)}` : undefined, limit: 50 }, { enabled: s !== undefined });
  const slowest = useMemo(() => [...(slow.data?.traces ?? [])].sort((a, b) => Number(b.durationNano) - Number(a.durationNano)).slice(0, 10), [slow.data]);

  const sr = series.data?.services[0];
  const stepS = (series.data?.stepMs ?? 1000) / 1000;
  const charts = sr && series.data && (
    <div className="charts">
      <TimeChart
        title="Requests and errors per second"
        timestamps={series.data.timestamps}
        series={[
          { key: 'rps', label: 'requests/s', values: sr.requests.map((v) => v / stepS), color: 'var(--series-1)' },
          { key: 'eps', label: 'errors/s', values: sr.errors.map((v) => v / stepS), color: 'var(--bad)' },
        ]}
        format={formatRate}
      />
      <TimeChart
        title="Error rate"
        timestamps={series.data.timestamps}
        series={[{ key: 'err', label: 'error %', values: sr.requests.map((r, i) => (r > 0 ? sr.errors[i]! / r : null)), color: 'var(--bad)' }]}
        format={formatPercent}
      />
      <TimeChart
        title="Latency"
        timestamps={series.data.timestamps}
        series={[
          { key: 'p50', label: 'p50', values: sr.p50, color: 'var(--series-1)' },
          { key: 'p95', label: 'p95', values: sr.p95, color: 'var(--series-2)' },
          { key: 'p99', label: 'p99', values: sr.p99, color: 'var(--series-3)' },
        ]}
        format={formatDurationNs}
      />
    </div>
  );

  let body;
  if (stats.isPending) body = <Loading what={name} />;
  else if (stats.isError) body = <ErrorState error={stats.error} what={name} retry={() => void stats.refetch()} />;
  else if (s === undefined) {
    body = (
      <Empty title={`No requests from ${name} in this time range`}>
        <p>
          Widen the time range, or check the name on the <Link to={`/services${carry(params)}`}>services list</Link>.
        </p>
      </Empty>
    );
  } else {
    body = (
      <>
        <dl className="stats" data-testid="service-stats">
          <div>
            <dt>Requests</dt>
            <dd>{formatCount(s.requests)}</dd>
          </div>
          <div>
            <dt>Req/s</dt>
            <dd>{formatRate(s.requestRate)}</dd>
          </div>
          <div>
            <dt>Error %</dt>
            <dd>{formatPercent(s.errorRate)}</dd>
          </div>
          <div>
            <dt>p50</dt>
            <dd>{formatDurationNs(s.latencyNano.p50)}</dd>
          </div>
          <div>
            <dt>p95</dt>
            <dd>{formatDurationNs(s.latencyNano.p95)}</dd>
          </div>
          <div>
            <dt>p99</dt>
            <dd>{formatDurationNs(s.latencyNano.p99)}</dd>
          </div>
        </dl>
        {series.isError ? <ErrorState error={series.error} what="the charts" retry={() => void series.refetch()} /> : (charts ?? <Loading what="charts" />)}
        <div className="grid-2">
          <section aria-labelledby="ops-title">
            <h2 id="ops-title">Top operations</h2>
            {operations.isError ? (
              <ErrorState error={operations.error} what="operations" />
            ) : operations.data ? (
              <DataTable data={operations.data.operations} columns={OP_COLUMNS} label="Top operations" rowId={(o) => o.operation} maxHeight={420} testId="operations-table" />
            ) : (
              <Loading what="operations" />
            )}
          </section>
          <div>
            <section aria-labelledby="slow-title">
              <h2 id="slow-title">Slowest traces</h2>
              <p className="hint">Traces where a span of {name} took at least its p99 ({formatDurationNs(s.latencyNano.p99)}), slowest first.</p>
              {slow.isError ? <ErrorState error={slow.error} what="traces" /> : slow.data ? <TraceList traces={slowest} params={params} empty="None in this range." /> : <Loading what="traces" />}
            </section>
            <section aria-labelledby="err-title">
              <h2 id="err-title">Recent error traces</h2>
              {errors.isError ? (
                <ErrorState error={errors.error} what="traces" />
              ) : errors.data ? (
                <TraceList traces={errors.data.traces} params={params} empty="No failing request in this range." />
              ) : (
                <Loading what="traces" />
              )}
            </section>
          </div>
        </div>
      </>
    );
  }

  return (
    <section className="page" aria-labelledby="service-title">
      <div className="page-head">
        <p className="crumbs">
          <Link to={`/services${carry(params)}`}>Services</Link> /
        </p>
        <h1 id="service-title">{name}</h1>
        <Link className="btn" to={`/logs${carry(params, { service: name })}`}>
          Logs of {name} →
        </Link>
      </div>
      {body}
    </section>
  );
}
