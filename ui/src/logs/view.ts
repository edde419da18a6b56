/**
 * The logs page's view state in the URL: the search (full text, service, minimum severity, trace and span,
 * namespace, pod, further `key=value` attribute filters), live tail on or off, the open record and its tab.
 * Everything a user sees is here, so reload, a shared link and back/forward reproduce it; the shared time range
 * (`from`/`to`/`refresh`) and anything else in the URL pass through untouched. Unreadable values are ignored and
 * reported (a mangled link still opens, and says what it dropped). Pure; the page wires it to the router.
 *
 * `attr` is repeatable (`attr=http.route=/pay&attr=…`), which the shared single-value codecs do not express.
 * The trace view links here with `traceId`, `spanId`, `from`, `to`.
 */
import type { LogSearchQuery } from '../../../query/contract.ts';

export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type Tab = 'details' | 'context';

export interface LogsView {
  q: string;
  service: string;
  /** Minimum severity class; '' for all. */
  severity: Severity | '';
  traceId: string;
  spanId: string;
  namespace: string;
  pod: string;
  /** Further filters, each `key=value`. */
  attrs: string[];
  live: boolean;
  /** The open record's key (./record.ts recordKey). */
  open: string;
  tab: Tab;
}

export const EMPTY_VIEW: LogsView = { q: '', service: '', severity: '', traceId: '', spanId: '', namespace: '', pod: '', attrs: [], live: false, open: '', tab: 'details' };

/** Most attribute filters (the API's limit is 20, namespace and pod included). */
export const MAX_ATTRS = 18;

const TEXT_MAX = 1000;

export function readView(params: URLSearchParams): { view: LogsView; ignored: string[] } {
  const ignored: string[] = [];
  const str = (name: string, ok: (v: string) => boolean = () => true): string => {
    const v = params.get(name);
    if (v === null || v === '') return '';
    if (v.length > TEXT_MAX || !ok(v)) {
      ignored.push(name);
      return '';
    }
    return v;
  };
  const sev = str('severity', (v) => (SEVERITIES as readonly string[]).includes(v.toUpperCase())).toUpperCase() as Severity | '';
  const attrs: string[] = [];
  for (const a of params.getAll('attr')) {
    if (attrs.includes(a)) continue;
    if (a.indexOf('=') > 0 && a.length <= TEXT_MAX && attrs.length < MAX_ATTRS) attrs.push(a);
    else ignored.push(`attr ${a.slice(0, 40)}`);
  }
  const view: LogsView = {
    q: str('q'),
    service: str('service'),
    severity: sev,
    traceId: str('traceId', (v) => /^[0-9a-fA-F]{32}$/.test(v)).toLowerCase(),
    spanId: str('spanId', (v) => /^[0-9a-fA-F]{16}$/.test(v)).toLowerCase(),
    namespace: str('namespace'),
    pod: str('pod'),
    attrs,
    live: params.get('live') === '1',
    open: str('open', (v) => /^\d{1,20}-[0-9a-z]{1,13}$/.test(v)),
    tab: params.get('tab') === 'context' ? 'context' : 'details',
  };
  return { view, ignored };
}

/** `params` with `patch` applied; defaults are left out of the URL, other parameters kept. */
export function writeView(params: URLSearchParams, patch: Partial<LogsView>): URLSearchParams {
  const next = new URLSearchParams(params);
  const set = (name: string, v: string) => (v === '' ? next.delete(name) : next.set(name, v));
  for (const [k, v] of Object.entries(patch) as [keyof LogsView, LogsView[keyof LogsView]][]) {
    if (k === 'attrs') {
      next.delete('attr');
      for (const a of v as string[]) next.append('attr', a);
    } else if (k === 'live') set('live', v ? '1' : '');
    else if (k === 'tab') set('tab', v === 'details' ? '' : (v as string));
    else set(k, v as string);
  }
  return next;
}

/** The search filters the API takes (the same for search, histogram, facets and tail). */
export type LogFilterQuery = Pick<LogSearchQuery, 'q' | 'service' | 'severity' | 'traceId' | 'spanId' | 'attr'>;

export function apiFilters(v: LogsView): { [K in keyof LogFilterQuery]?: LogFilterQuery[K] | undefined } {
  const attr = [...(v.namespace ? [`k8s.namespace.name=${v.namespace}`] : []), ...(v.pod ? [`k8s.pod.name=${v.pod}`] : []), ...v.attrs];
  return {
    q: v.q || undefined,
    service: v.service || undefined,
    severity: v.severity || undefined,
    traceId: v.traceId || undefined,
    spanId: v.spanId || undefined,
    attr: attr.length > 0 ? attr : undefined,
  };
}

/** Whether any filter narrows the search (the empty state then offers to clear them). */
export function filtered(v: LogsView): boolean {
  return v.q !== '' || v.service !== '' || v.severity !== '' || v.traceId !== '' || v.spanId !== '' || v.namespace !== '' || v.pod !== '' || v.attrs.length > 0;
}

export const CLEAR_FILTERS: Partial<LogsView> = { q: '', service: '', severity: '', traceId: '', spanId: '', namespace: '', pod: '', attrs: [] };

/** The facet fields and the view field each one filters. */
const FACET_VIEW: Record<string, 'namespace' | 'pod' | 'service' | 'severity'> = {
  'k8s.namespace.name': 'namespace',
  'k8s.pod.name': 'pod',
  'service.name': 'service',
  'severity': 'severity',
};

/** The value a facet field is filtered on in the view ('' when not). */
export function facetSelection(v: LogsView, field: string): string {
  const k = FACET_VIEW[field];
  return k === undefined ? '' : v[k];
}

/** Clicking a facet value: filter on it, or clear the filter when it is already the one. */
export function toggleFacet(v: LogsView, field: string, value: string): Partial<LogsView> {
  const k = FACET_VIEW[field];
  if (k === undefined || value === '') return {};
  if (k === 'severity') {
    if (!(SEVERITIES as readonly string[]).includes(value)) return {};
    return { severity: v.severity === value ? '' : (value as Severity) };
  }
  return { [k]: v[k] === value ? '' : value };
}

/** Adds a `key=value` filter from a record's attribute (no duplicates; the well-known keys use their own field). */
export function addAttrFilter(v: LogsView, key: string, value: string): Partial<LogsView> {
  if (key === 'k8s.namespace.name') return { namespace: value };
  if (key === 'k8s.pod.name') return { pod: value };
  if (key === 'service.name') return { service: value };
  const a = `${key}=${value}`;
  if (v.attrs.includes(a) || v.attrs.length >= MAX_ATTRS) return {};
  return { attrs: [...v.attrs, a] };
}
