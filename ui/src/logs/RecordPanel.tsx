/**
 * One record, opened beside the list: its body (JSON pretty-printed), attributes, resource and scope, links to
 * its trace and span, and a tab with its surrounding lines from the same pod and container (or service),
 * GET /api/v1/logs/context. Attribute values can be added to the search as filters. Esc closes it.
 */
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { LogRecord } from '../../../query/contract.ts';
import { ErrorState, Loading } from '../shared/state/States.tsx';
import { carry } from '../shared/url/state.ts';
import { useLogContext } from './api.ts';
import { contextSource, formatLogTime, oneLine, prettyBody, recordKey, severityClass, severityLabel } from './record.ts';
import type { Tab } from './view.ts';

const STEP = 50;
const MAX_CONTEXT = 500;

function Attributes({ title, attrs, onFilter, testId }: { title: string; attrs: Record<string, string>; onFilter: (k: string, v: string) => void; testId: string }) {
  const keys = Object.keys(attrs).sort();
  return (
    <section className="record-section">
      <h3>{title}</h3>
      {keys.length === 0 ? (
        <p className="muted">None</p>
      ) : (
        <table className="attrs" data-testid={testId}>
          <tbody>
            {keys.map((k) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>
                  <code>{attrs[k]}</code>
                </td>
                <td className="attr-actions">
                  <button type="button" className="link-btn" onClick={() => onFilter(k, attrs[k]!)} title={`Search for ${k}=${attrs[k]}`} aria-label={`Filter by ${k}`}>
                    filter
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Context({ record, onOpen }: { record: LogRecord; onOpen: (r: LogRecord) => void }) {
  const [before, setBefore] = useState(STEP);
  const [after, setAfter] = useState(STEP);
  const src = contextSource(record);
  const ctx = useLogContext({ time: record.timeUnixNano, before, after, ...src.params });
  const key = recordKey(record);
  if (ctx.isPending) return <Loading what="surrounding lines" />;
  if (ctx.isError) return <ErrorState error={ctx.error} what="surrounding lines" retry={() => void ctx.refetch()} />;
  const d = ctx.data;
  return (
    <div className="context" data-testid="context">
      <p className="muted">
        Lines of {src.label}, oldest first, within an hour of this record.
      </p>
      {d.moreBefore ? (
        <button type="button" className="btn small" disabled={before >= MAX_CONTEXT} onClick={() => setBefore(Math.min(MAX_CONTEXT, before + STEP))}>
          {before >= MAX_CONTEXT ? `At most ${MAX_CONTEXT} earlier lines` : 'Show earlier lines'}
        </button>
      ) : (
        <p className="muted context-edge">No earlier lines within the hour.</p>
      )}
      <ol className="context-lines">
        {d.logs.map((r) => {
          const k = recordKey(r);
          return (
            <li key={k} className={k === key ? 'anchor' : undefined} aria-current={k === key ? 'true' : undefined}>
              <button type="button" className="context-line" onClick={() => onOpen(r)} title="Open this record">
                <span className="log-time">{formatLogTime(r.time)}</span>
                <span className={`log-sev sev-text sev-${severityClass(r.severityNumber).toLowerCase()}`}>{severityLabel(r)}</span>
                <span className="log-body">{oneLine(r.body, 400)}</span>
              </button>
            </li>
          );
        })}
      </ol>
      {d.moreAfter ? (
        <button type="button" className="btn small" disabled={after >= MAX_CONTEXT} onClick={() => setAfter(Math.min(MAX_CONTEXT, after + STEP))}>
          {after >= MAX_CONTEXT ? `At most ${MAX_CONTEXT} later lines` : 'Show later lines'}
        </button>
      ) : (
        <p className="muted context-edge">No later lines within the hour.</p>
      )}
    </div>
  );
}

export interface RecordPanelProps {
  record: LogRecord;
  tab: Tab;
  onTab: (t: Tab) => void;
  onClose: () => void;
  onFilter: (key: string, value: string) => void;
  onSearch: (patch: { traceId: string; spanId: string }) => void;
  onOpen: (r: LogRecord) => void;
}

export function RecordPanel({ record: r, tab, onTab, onClose, onFilter, onSearch, onOpen }: RecordPanelProps) {
  const [params] = useSearchParams();
  const body = prettyBody(r.body);
  const cls = severityClass(r.severityNumber).toLowerCase();
  return (
    <aside className="record-panel" aria-label="Log record" data-testid="record-panel">
      <header className="record-head">
        <div>
          <span className={`log-sev sev-text sev-${cls}`}>{severityLabel(r)}</span> <strong>{r.serviceName || '(no service)'}</strong>{' '}
          <span className="muted" title={`${r.time} (${r.timeUnixNano} ns)`}>
            {formatLogTime(r.time)}
          </span>
        </div>
        <button type="button" className="btn" onClick={onClose} aria-label="Close the record (Esc)">
          ✕
        </button>
      </header>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'details'} className={tab === 'details' ? 'active' : ''} onClick={() => onTab('details')}>
          Details
        </button>
        <button type="button" role="tab" aria-selected={tab === 'context'} className={tab === 'context' ? 'active' : ''} onClick={() => onTab('context')}>
          Surrounding lines
        </button>
      </div>
      <div className="record-body">
        {tab === 'context' ? (
          <Context record={r} onOpen={onOpen} />
        ) : (
          <>
            {r.traceId !== '' && (
              <p className="record-links" data-testid="record-links">
                <Link to={`/traces/${r.traceId}${carry(params, { span: r.spanId || undefined })}`}>Trace {r.traceId.slice(0, 8)}…</Link>
                {r.spanId !== '' && <span className="muted"> · span {r.spanId}</span>}
                {' · '}
                <button type="button" className="link-btn" onClick={() => onSearch({ traceId: r.traceId, spanId: '' })}>
                  logs of this trace
                </button>
                {r.spanId !== '' && (
                  <>
                    {' · '}
                    <button type="button" className="link-btn" onClick={() => onSearch({ traceId: r.traceId, spanId: r.spanId })}>
                      logs of this span
                    </button>
                  </>
                )}
              </p>
            )}
            <section className="record-section">
              <h3>Body {body.json && <span className="badge">JSON</span>}</h3>
              <pre className="record-text" data-testid="record-body">
                {body.text}
              </pre>
            </section>
            {r.eventName !== '' && (
              <p>
                Event <code>{r.eventName}</code>
              </p>
            )}
            <Attributes title="Attributes" attrs={r.attributes} onFilter={onFilter} testId="record-attributes" />
            <Attributes title="Resource" attrs={r.resource.attributes} onFilter={onFilter} testId="record-resource" />
            <section className="record-section">
              <h3>Scope</h3>
              <p>
                <code>{r.scope.name || '(none)'}</code> {r.scope.version && <span className="muted">{r.scope.version}</span>}
              </p>
            </section>
            <p className="muted small">
              Severity {r.severityText || '–'} ({r.severityNumber}) · {r.timeUnixNano} ns{r.resource.schemaUrl ? ` · ${r.resource.schemaUrl}` : ''}
            </p>
          </>
        )}
      </div>
    </aside>
  );
}
