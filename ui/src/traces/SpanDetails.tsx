/**
 * The details of one span: status, timing, attributes, events, links, resource, scope, its log records, and a
 * link to its logs on the logs page.
 */
import { Link } from 'react-router';
import { formatDurationNs } from '../shared/format/format.ts';
import { type PlacedLog, spanLogsHref } from './timeline.ts';
import { type SpanTree, type TreeNode, resourceOf, scopeOf, startUnixNanoOf, statusOf } from './tree.ts';

/** `quiet`: nothing at all when empty (an event or a link without attributes reads as a stray "None." otherwise). */
function Attrs({ attrs, testId, quiet = false }: { attrs: Record<string, string>; testId?: string; quiet?: boolean }) {
  const entries = Object.entries(attrs).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return quiet ? null : <p className="muted">None.</p>;
  return (
    <dl className="kv" data-testid={testId}>
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function offset(ns: number): string {
  return `${ns < 0 ? '−' : '+'}${formatDurationNs(Math.abs(ns))}`;
}

export function SpanDetails({
  tree,
  node,
  parentName,
  logs,
  onClose,
  onJump,
  searchParams,
}: {
  tree: SpanTree;
  node: TreeNode;
  parentName: string | undefined;
  logs: readonly PlacedLog[];
  onClose: () => void;
  onJump: (spanId: string) => void;
  searchParams: URLSearchParams;
}) {
  const s = node.span;
  const startUnixNano = startUnixNanoOf(tree, node);
  const startNs = BigInt(startUnixNano);
  const status = statusOf(s);
  const resource = resourceOf(tree, s);
  const scope = scopeOf(tree, s);
  const events = s.events ?? [];
  const links = s.links ?? [];
  return (
    <aside className="span-details" aria-label={`Span ${s.name}`} data-testid="span-details">
      <div className="details-head">
        <h2>{s.name}</h2>
        <button type="button" className="btn" onClick={onClose} aria-label="Close the span details (Esc)">
          ×
        </button>
      </div>
      <dl className="kv compact">
        <div>
          <dt>Service</dt>
          <dd>{node.service}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-testid="detail-duration">{formatDurationNs(Number(s.duration))}</dd>
        </div>
        <div>
          <dt>Starts at</dt>
          <dd>{offset(node.startNs)} into the trace</dd>
        </div>
        <div>
          <dt>Kind</dt>
          <dd>{s.kind}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd className={status.code === 'Error' ? 'bad' : undefined} data-testid="detail-status">
            {status.code}
            {status.message ? `: ${status.message}` : ''}
          </dd>
        </div>
        <div>
          <dt>Span id</dt>
          <dd>
            <code>{s.spanId}</code>
          </dd>
        </div>
        <div>
          <dt>Parent</dt>
          <dd>
            {s.parentSpanId === '' ? (
              'none (root)'
            ) : node.missingParent !== undefined ? (
              <span className="warn">missing: {s.parentSpanId} is not in this trace</span>
            ) : (
              <button type="button" className="linkish" onClick={() => onJump(s.parentSpanId)}>
                {parentName ?? s.parentSpanId}
              </button>
            )}
          </dd>
        </div>
      </dl>
      <p>
        <Link className="btn" to={spanLogsHref(tree.traceId, s.spanId, startUnixNano, String(s.duration))} data-testid="span-logs-link">
          Logs of this span →
        </Link>
      </p>
      <section>
        <h3>Attributes</h3>
        <Attrs attrs={s.attributes} testId="detail-attributes" />
      </section>
      <section>
        <h3>Events ({events.length})</h3>
        {events.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ol className="events" data-testid="detail-events">
            {events.map((e, i) => (
              <li key={i}>
                <span className="muted">{offset(Number(BigInt(e.timeUnixNano) - startNs))}</span> <strong>{e.name}</strong>
                <Attrs attrs={e.attributes} quiet />
              </li>
            ))}
          </ol>
        )}
      </section>
      <section>
        <h3>Links ({links.length})</h3>
        {links.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="links" data-testid="detail-links">
            {links.map((l, i) => (
              <li key={i}>
                <Link to={`/traces/${l.traceId}?span=${l.spanId}${searchParams.get('from') ? `&from=${searchParams.get('from')}` : ''}${searchParams.get('to') ? `&to=${searchParams.get('to')}` : ''}`}>
                  {l.traceId === tree.traceId ? 'this trace' : `trace ${l.traceId.slice(0, 8)}…`} / span {l.spanId}
                </Link>
                <Attrs attrs={l.attributes} quiet />
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h3>Log records ({logs.length})</h3>
        {logs.length === 0 ? (
          <p className="muted">No record of this trace names this span.</p>
        ) : (
          <ol className="span-logs" data-testid="detail-logs">
            {logs.map((l, i) => (
              <li key={i} className={l.log.severityNumber >= 17 ? 'bad' : l.log.severityNumber >= 13 ? 'warn' : undefined}>
                <span className="muted">{offset(l.atNs - node.startNs)}</span> <span className="sev">{l.log.severityText || 'LOG'}</span> {l.log.body}
              </li>
            ))}
          </ol>
        )}
      </section>
      <section>
        <h3>Resource</h3>
        <Attrs attrs={resource.attributes} testId="detail-resource" />
      </section>
      <section>
        <h3>Scope</h3>
        <p data-testid="detail-scope">
          {scope.name || <span className="muted">unnamed</span>} {scope.version && <span className="muted">{scope.version}</span>}
        </p>
        {s.traceState && (
          <p>
            Trace state: <code>{s.traceState}</code>
          </p>
        )}
      </section>
    </aside>
  );
}
