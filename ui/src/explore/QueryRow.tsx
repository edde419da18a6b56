/**
 * One query of the explorer (A, B, …): its metric (picker), aggregation (only those valid for the metric's
 * type), label filters (chips, and a form whose value field suggests the label's values from the API) and
 * group-by (every series, all merged, or by chosen labels). Every change goes straight to the URL.
 */
import { useId, useState } from 'react';
import type { MetricInfo } from '../../../query/contract.ts';
import { describeUnit } from '../shared/format/units.ts';
import { AGG_LABEL, aggsFor, describeAgg, effectiveAgg } from './aggs.ts';
import { useLabelValues } from './api.ts';
import { kindLabel } from './catalogue.ts';
import { MetricPicker } from './MetricPicker.tsx';
import { type Agg, type ExploreQuery, FILTER_OPS, type FilterOp, type LabelFilter, MAX_FILTERS, filterParams, formatQuery } from './query.ts';

export interface QueryRowProps {
  letter: string;
  index: number;
  query: ExploreQuery;
  info: MetricInfo | undefined;
  metrics: readonly MetricInfo[];
  catalogueLoading: boolean;
  range: { start: string; end: string };
  hidden: boolean;
  color: string;
  canRemove: boolean;
  onChange: (q: ExploreQuery) => void;
  onPick: (m: MetricInfo) => void;
  onToggle: () => void;
  onRemove: () => void;
}

function groupText(groupBy: string[] | undefined): string {
  if (groupBy === undefined) return 'every series';
  if (groupBy.length === 0) return 'all merged';
  return `by ${groupBy.join(', ')}`;
}

function GroupBy({ query, labels, onChange }: { query: ExploreQuery; labels: readonly string[]; onChange: (g: string[] | undefined) => void }) {
  const [open, setOpen] = useState(false);
  const g = query.groupBy;
  const keys = [...new Set([...labels, ...(g ?? [])])];
  return (
    <div className="popover-anchor">
      <button type="button" className="btn" aria-expanded={open} aria-label="Group by" onClick={() => setOpen(!open)} data-testid="group-by">
        {groupText(g)} ▾
      </button>
      {open && (
        <div
          className="popover group-pop"
          role="dialog"
          aria-label="Group by"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          <label>
            <input type="radio" checked={g === undefined} onChange={() => onChange(undefined)} /> every series apart
          </label>
          <label>
            <input type="radio" checked={g !== undefined && g.length === 0} onChange={() => onChange([])} /> all merged into one
          </label>
          <fieldset>
            <legend>one series per value of</legend>
            {keys.length === 0 && <p className="hint">Pick a metric to see its labels.</p>}
            {keys.map((k) => (
              <label key={k}>
                <input
                  type="checkbox"
                  checked={g?.includes(k) ?? false}
                  onChange={(e) => {
                    const next = e.target.checked ? [...(g ?? []), k] : (g ?? []).filter((x) => x !== k);
                    onChange(next);
                  }}
                />{' '}
                {k}
              </label>
            ))}
          </fieldset>
          <button type="button" className="btn" onClick={() => setOpen(false)}>
            Done
          </button>
        </div>
      )}
    </div>
  );
}

function AddFilter({ query, info, range, onAdd }: { query: ExploreQuery; info: MetricInfo | undefined; range: { start: string; end: string }; onAdd: (f: LabelFilter) => void }) {
  const [open, setOpen] = useState(false);
  const [key, setKey] = useState('');
  const [op, setOp] = useState<FilterOp>('=');
  const [value, setValue] = useState('');
  const listId = useId();
  const labels = info?.labels ?? [];
  const k = key || labels[0] || '';
  // Values of the key under the other filters (a picker offers what still matches).
  const values = useLabelValues(
    { name: query.metric, type: info?.type, key: k, filter: filterParams(query.filters.filter((f) => f.key !== k)), ...range, limit: 200 },
    open && query.metric !== '' && k !== '',
  );
  if (!open) {
    return (
      <button type="button" className="btn" onClick={() => setOpen(true)} disabled={query.metric === '' || query.filters.length >= MAX_FILTERS} data-testid="add-filter">
        + filter
      </button>
    );
  }
  return (
    <form
      className="add-filter"
      aria-label="Add a label filter"
      onSubmit={(e) => {
        e.preventDefault();
        if (k === '') return;
        onAdd({ key: k, op, value });
        setOpen(false);
        setValue('');
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <select aria-label="Label" value={k} onChange={(e) => setKey(e.target.value)} data-testid="filter-key">
        {labels.map((l) => (
          <option key={l} value={l}>
            {l}
          </option>
        ))}
      </select>
      <select aria-label="Operator" value={op} onChange={(e) => setOp(e.target.value as FilterOp)} data-testid="filter-op">
        {FILTER_OPS.map((o) => (
          <option key={o} value={o} title={o.includes('~') ? 'regular expression (RE2), whole value' : undefined}>
            {o}
          </option>
        ))}
      </select>
      <input
        aria-label="Value"
        list={listId}
        value={value}
        autoFocus
        onChange={(e) => setValue(e.target.value)}
        placeholder={op.includes('~') ? 'regex, e.g. 5..' : 'value'}
        data-testid="filter-value"
      />
      <datalist id={listId}>
        {values.data?.values.map((v) => (
          <option key={v.value} value={v.value}>
            {`${v.series} series`}
          </option>
        ))}
      </datalist>
      <button type="submit" className="btn primary">
        Add
      </button>
      <button type="button" className="btn" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {values.isError && <span className="bad">values unavailable: {(values.error).message}</span>}
    </form>
  );
}

export function QueryRow(p: QueryRowProps) {
  const { query, info } = p;
  const aggs = info ? aggsFor(info) : [];
  const agg: Agg | undefined = info ? effectiveAgg(info, query.agg) : query.agg;
  return (
    <div className={`query-row${p.hidden ? ' off' : ''}`} data-testid={`query-${p.letter}`} aria-label={`Query ${p.letter}`} role="group">
      <div className="query-line">
        <button
          type="button"
          className="letter"
          style={{ borderColor: p.color }}
          onClick={p.onToggle}
          aria-pressed={!p.hidden}
          title={p.hidden ? `Show query ${p.letter} on the chart` : `Hide query ${p.letter} from the chart`}
        >
          {p.letter}
        </button>
        <MetricPicker metrics={p.metrics} value={query.metric} loading={p.catalogueLoading} onPick={p.onPick} searchTarget={p.index === 0} label={`Metric of query ${p.letter}`} />
        <select
          aria-label={`Aggregation of query ${p.letter}`}
          value={agg ?? ''}
          disabled={info === undefined}
          onChange={(e) => p.onChange({ ...query, agg: e.target.value as Agg })}
          title={info && agg ? describeAgg(info.type, agg) : 'Pick a metric first'}
          data-testid="agg"
        >
          {info === undefined && <option value={agg ?? ''}>{agg ? AGG_LABEL[agg] : 'aggregation'}</option>}
          {aggs.map((a) => (
            <option key={a} value={a} title={info ? describeAgg(info.type, a) : undefined}>
              {AGG_LABEL[a]}
            </option>
          ))}
        </select>
        <GroupBy query={query} labels={info?.labels ?? []} onChange={(groupBy) => p.onChange({ ...query, groupBy })} />
        <div className="spacer" />
        {p.canRemove && (
          <button type="button" className="btn" onClick={p.onRemove} aria-label={`Remove query ${p.letter}`} title="Remove this query">
            ✕
          </button>
        )}
      </div>
      <div className="query-line filters-line">
        {query.filters.map((f, i) => (
          <span className="chip filter-chip" key={`${f.key}${f.op}${f.value}${i}`} data-testid="filter-chip">
            <code>
              {f.key}
              {f.op}
              {JSON.stringify(f.value)}
            </code>
            <button type="button" aria-label={`Remove filter ${f.key}${f.op}${f.value}`} onClick={() => p.onChange({ ...query, filters: query.filters.filter((_, j) => j !== i) })}>
              ✕
            </button>
          </span>
        ))}
        <AddFilter query={query} info={info} range={p.range} onAdd={(f) => p.onChange({ ...query, filters: [...query.filters, f] })} />
        {info ? (
          <span className="muted metric-info" data-testid="metric-info">
            <span className={`type-badge t-${info.type}`}>{kindLabel(info)}</span> {info.unit !== '' && info.unit !== '1' ? `${describeUnit(info.unit) || info.unit} · ` : ''}
            {info.description}
          </span>
        ) : query.metric !== '' && !p.catalogueLoading ? (
          <span className="warn">No data points for {query.metric} in this time range.</span>
        ) : null}
        <code className="query-text muted" title="This query as written in the URL">
          {query.metric === '' ? '' : formatQuery({ ...query, ...(agg ? { agg } : {}) })}
        </code>
      </div>
    </div>
  );
}
