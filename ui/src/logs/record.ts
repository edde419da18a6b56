/**
 * What the page derives from a log record: a stable key (for the list, the URL's `open` and keyboard
 * selection), the body for reading (JSON pretty-printed, maps included: they are stored as JSON), the source of
 * its surrounding lines, its severity class. Pure.
 */
import type { LogContextQuery, LogRecord } from '../../../query/contract.ts';

/** FNV-1a, 32 bits: enough to tell records with the same nanosecond apart in a key. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `<timeUnixNano>-<hash>`: the same record gives the same key in the search, the context and the tail. */
export function recordKey(r: LogRecord): string {
  return `${r.timeUnixNano}-${fnv1a(`${r.serviceName}\0${r.body}\0${r.traceId}\0${r.spanId}\0${r.severityNumber}\0${JSON.stringify(r.resource.attributes)}`).toString(36)}`;
}

/** The record time of a key, for finding a record that is not on the loaded pages. */
export function keyTimeNs(key: string): bigint | undefined {
  const m = /^(\d{1,20})-/.exec(key);
  return m ? BigInt(m[1]!) : undefined;
}

/** Most characters pretty-printed; a larger body is shown as stored (formatting it would freeze the page). */
export const PRETTY_MAX = 256 * 1024;

/** The body to read: JSON objects and arrays indented, anything else as is. */
export function prettyBody(body: string): { json: boolean; text: string } {
  const t = body.trim();
  if (t.length <= PRETTY_MAX && ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']')))) {
    try {
      return { json: true, text: JSON.stringify(JSON.parse(t), null, 2) };
    } catch {
      // Not JSON after all.
    }
  }
  return { json: false, text: body };
}

/** The body on one line of the list: whitespace runs collapsed, cut at `max`. */
export function oneLine(body: string, max = 2000): string {
  const s = body.length > max * 2 ? body.slice(0, max * 2) : body;
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Where a record's surrounding lines come from: its pod and container (namespace too) when it carries
 * `k8s.pod.name`, otherwise its service; with a label for the page.
 */
export function contextSource(r: LogRecord): { params: Omit<LogContextQuery, 'time' | 'before' | 'after'>; label: string } {
  const a = r.resource.attributes;
  const pod = a['k8s.pod.name'];
  if (pod !== undefined && pod !== '') {
    const container = a['k8s.container.name'] ?? '';
    const namespace = a['k8s.namespace.name'];
    const params: Omit<LogContextQuery, 'time' | 'before' | 'after'> = { pod, container };
    if (namespace !== undefined && namespace !== '') params.namespace = namespace;
    return { params, label: `pod ${namespace ? `${namespace}/` : ''}${pod}${container ? `, container ${container}` : ''}` };
  }
  return { params: { service: r.serviceName }, label: `service ${r.serviceName || '(unnamed)'}` };
}

export type SeverityClass = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL' | 'UNSPECIFIED';
const CLASSES: SeverityClass[] = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/** The OTel class of a SeverityNumber (1-4 TRACE … 21-24 FATAL, 0 UNSPECIFIED), as the API's histogram and facets. */
export function severityClass(n: number): SeverityClass {
  return CLASSES[Math.min(6, Math.max(0, Math.floor((n + 3) / 4)))]!;
}

/** The label of a record's severity: its text when it has one, else its class. */
export function severityLabel(r: LogRecord): string {
  if (r.severityText !== '') return r.severityText.length > 8 ? r.severityText.slice(0, 8) : r.severityText;
  return r.severityNumber === 0 ? '–' : severityClass(r.severityNumber);
}

/** `2023-11-14 22:13:20.123` in local time, from the record's RFC 3339 time (nanoseconds cut to ms). */
export function formatLogTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** RFC 3339 with nanoseconds from a `timeUnixNano` (the API takes it as a start/end). */
export function isoFromNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}
