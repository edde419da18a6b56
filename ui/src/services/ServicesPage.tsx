/**
 * /services: every service's RED figures over the shared range, sortable, filterable by name, namespace and
 * environment (all in the URL), with sparklines of its traffic and errors.
 */
import { createColumnHelper } from '@tanstack/react-table';
import { type ReactNode, useMemo } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useServiceSeries, useServices } from '../shared/api/hooks.ts';
import { Sparkline } from '../shared/charts/Sparkline.tsx';
import { formatDurationNs, formatPercent, formatRate } from '../shared/format/format.ts';
import { Empty, ErrorState, Loading, SendDataHelp } from '../shared/state/States.tsx';
import { DataTable } from '../shared/table/DataTable.tsx';
import { useTime } from '../shared/time/context.tsx';
import { relative } from '../shared/time/range.ts';
import { carry } from '../shared/url/state.ts';
import { TextFilter } from '../shared/url/TextFilter.tsx';
import { useUrlState } from '../shared/url/use-url-state.ts';
import { SERVICES_STATE, rowsArrived, servicesQueries } from './queries.ts';
import { type ServiceRow, type SortColumn, choices, serviceRows } from './rows.ts';

const col = createColumnHelper<ServiceRow>();

function columns(params: URLSearchParams) {
  return [
    col.accessor('serviceName', {
      id: 'serviceName',
      header: 'Service',
      cell: (c) => (
        <Link to={`/services/${encodeURIComponent(c.getValue())}${carry(params)}`} className="service-link">
          {c.getValue()}
        </Link>
      ),
    }),
    col.accessor((r) => r.namespaces.join(', '), { id: 'namespace', header: 'Namespace', enableSorting: false, cell: (c) => <span className="muted">{c.getValue() || '–'}</span> }),
    col.accessor('requestRate', { id: 'requestRate', header: 'Req/s', meta: { numeric: true }, cell: (c) => formatRate(c.getValue()) }),
    col.accessor('errorRate', {
      id: 'errorRate',
      header: 'Error %',
      meta: { numeric: true },
      cell: (c) => <span className={c.getValue() > 0.05 ? 'bad' : c.getValue() > 0 ? 'warn' : undefined}>{formatPercent(c.getValue())}</span>,
    }),
    col.accessor((r) => r.latencyNano.p50, { id: 'p50', header: 'p50', meta: { numeric: true }, cell: (c) => formatDurationNs(c.getValue()) }),
    col.accessor((r) => r.latencyNano.p95, { id: 'p95', header: 'p95', meta: { numeric: true }, cell: (c) => formatDurationNs(c.getValue()) }),
    col.accessor((r) => r.latencyNano.p99, { id: 'p99', header: 'p99', meta: { numeric: true }, cell: (c) => formatDurationNs(c.getValue()) }),
    col.display({
      id: 'traffic',
      header: 'Requests / errors',
      cell: (c) => {
        const s = c.row.original.series;
        return s ? (
          <Sparkline
            label={`requests and errors of ${c.row.original.serviceName} over the range`}
            series={[
              { values: s.requests, className: 'spark-requests' },
              { values: s.errors, className: 'spark-errors' },
            ]}
          />
        ) : (
          <span className="muted">…</span>
        );
      },
    }),
  ];
}

export default function ServicesPage() {
  const [state, setState] = useUrlState(SERVICES_STATE);
  const [params] = useSearchParams();
  const { resolved, setRange } = useTime();
  // The same parameters the registry's prefetch computed (./queries.ts), so these find its requests; the rows
  // first, the filters' choices and the sparklines once they are here.
  const q = servicesQueries(state, resolved);
  const services = useServices(q.services);
  const after = rowsArrived(services);
  const unfiltered = useServices(q.unfiltered, { enabled: after });
  const series = useServiceSeries(q.series, { enabled: after });
  const filtered = state.namespace !== '' || state.environment !== '';
  const empty = services.data !== undefined && services.data.services.length === 0 && !filtered;
  // Only when the range is empty: has anything ever arrived (the last week)?
  const week = useServices({ start: 'now-7d', limit: 1 }, { enabled: empty });

  const rows = useMemo(() => serviceRows(services.data?.services ?? [], series.data, state.q), [services.data, series.data, state.q]);
  const cols = useMemo(() => columns(params), [params]);
  const opts = useMemo(() => choices(unfiltered.data?.services), [unfiltered.data]);

  const table = (placeholder?: ReactNode) => (
    <DataTable
      data={rows}
      columns={cols}
      label="Services"
      rowId={(r) => r.serviceName}
      sorting={[{ id: state.sort.column, desc: state.sort.desc }]}
      onSortingChange={(s) => {
        const first = s[0];
        setState({ sort: first ? { column: first.id as SortColumn, desc: first.desc } : { column: 'requestRate', desc: true } });
      }}
      testId="services-table"
      placeholder={placeholder}
    />
  );
  let body;
  // While the rows are on their way the table is already there (headers, a loading row): see DataTable's placeholder.
  if (services.isPending) body = table(<Loading what="services" />);
  else if (services.isError) body = <ErrorState error={services.error} what="services" retry={() => void services.refetch()} />;
  else if (empty && week.data?.services.length === 0) body = <SendDataHelp />;
  else if (empty && week.isPending) body = <Loading what="services" />;
  else if (empty) {
    body = (
      <Empty title="No requests in this time range">
        <p>Services have sent data in the last 7 days, but none in this window.</p>
        <button type="button" className="btn primary" onClick={() => setRange(relative('7d')!)}>
          Show the last 7 days
        </button>
      </Empty>
    );
  } else if (rows.length === 0) {
    body = (
      <Empty title="No service matches these filters">
        <button type="button" className="btn" onClick={() => setState({ q: '', namespace: '', environment: '' })}>
          Clear the filters
        </button>
      </Empty>
    );
  } else {
    body = table();
  }

  return (
    <section className="page" aria-labelledby="services-title">
      <div className="page-head">
        <h1 id="services-title">Services</h1>
        {services.data && (
          <span className="muted" data-testid="services-count">
            {rows.length} of {services.data.services.length} services {services.isFetching ? '· refreshing…' : ''}
          </span>
        )}
      </div>
      <div className="filters" role="search">
        <TextFilter
          type="search"
          placeholder="Filter by name  ( / )"
          value={state.q}
          onValue={(q) => setState({ q }, { replace: true })}
          aria-label="Filter services by name"
          data-search
        />
        <label>
          Namespace{' '}
          <select value={state.namespace} onChange={(e) => setState({ namespace: e.target.value })} aria-label="Namespace" data-testid="namespace-filter">
            <option value="">all</option>
            {[...new Set([...opts.namespaces, ...(state.namespace ? [state.namespace] : [])])].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Environment{' '}
          <select value={state.environment} onChange={(e) => setState({ environment: e.target.value })} aria-label="Environment" data-testid="environment-filter">
            <option value="">all</option>
            {[...new Set([...opts.environments, ...(state.environment ? [state.environment] : [])])].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      {body}
      <p className="hint">
        A service&apos;s requests are its Server and Consumer spans (root spans for a service without any). Quantiles are exact up to 8,192 requests per
        service, estimated beyond.
      </p>
    </section>
  );
}
