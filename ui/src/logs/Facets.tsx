/**
 * The facet sidebar: the top values and counts of namespace, pod, service and severity for the current search
 * (GET /api/v1/logs/facets). A value filters on it; clicking the selected one clears that filter.
 */
import type { LogFacetsResponse } from '../../../query/contract.ts';
import { formatCount } from '../shared/format/format.ts';
import { type LogsView, facetSelection } from './view.ts';

const TITLES: Record<string, string> = {
  'k8s.namespace.name': 'Namespace',
  'k8s.pod.name': 'Pod',
  'service.name': 'Service',
  'severity': 'Severity (this and above)',
};

export function Facets({ data, view, onPick }: { data: LogFacetsResponse; view: LogsView; onPick: (field: string, value: string) => void }) {
  const max = Math.max(1, data.total);
  return (
    <nav className="facets" aria-label="Facets" data-testid="facets">
      {data.facets.map((f) => {
        const selected = facetSelection(view, f.field);
        return (
          <section key={f.field} className="facet" data-field={f.field}>
            <h2>
              {TITLES[f.field] ?? f.field} <span className="muted">{f.distinct > f.values.length ? `top ${f.values.length} of ${formatCount(f.distinct)}` : ''}</span>
            </h2>
            {f.values.length === 0 && <p className="muted">No values</p>}
            <ul>
              {f.values.map((v) => {
                const none = v.value === '';
                const unpickable = none || (f.field === 'severity' && v.value === 'UNSPECIFIED');
                const active = selected !== '' && selected === v.value;
                return (
                  <li key={v.value}>
                    <button
                      type="button"
                      className={`facet-value${active ? ' active' : ''}`}
                      disabled={unpickable}
                      aria-pressed={active}
                      title={unpickable ? 'Records without this field' : active ? 'Remove this filter' : `Only ${v.value}`}
                      onClick={() => onPick(f.field, v.value)}
                      data-value={v.value}
                    >
                      <span className="facet-bar" style={{ width: `${(100 * v.count) / max}%` }} aria-hidden="true" />
                      <span className={`facet-name${f.field === 'severity' ? ` sev-text sev-${v.value.toLowerCase()}` : ''}`}>{none ? '(none)' : v.value}</span>
                      <span className="facet-count">{formatCount(v.count)}</span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </section>
        );
      })}
    </nav>
  );
}
