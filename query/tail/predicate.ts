/**
 * The search's filters (query/sql/logs.ts `logConditions`) as an in-memory predicate, equal in meaning, so a
 * tailing viewer sees exactly the new records GET /api/v1/logs would return for the same filters:
 *
 *   service    ServiceName = service
 *   severity   SeverityNumber >= minimum
 *   traceId    TraceId = id (lowercase hex, as stored)
 *   spanId     SpanId = id
 *   attr       LogAttributes[k] = v OR ResourceAttributes[k] = v, where a missing key reads as '' (ClickHouse's
 *              map subscript), so `k=` matches records without k
 *   q          every word of q (params/filters.ts `textTokens`) is a whole word of lower(Body) (`hasToken`), and
 *              unless q is exactly one such word, q appears in Body ASCII-case-insensitively
 *              (`positionCaseInsensitive`); an empty q filters nothing
 *
 * The time range is the one filter the tail does not take: it shows what arrives from now on.
 * Cheap checks first; the body's lowercase and tokens are computed once per record (record.ts), not per viewer.
 */
import type { AttrFilter } from '../params/filters.ts';
import { textTokens } from '../params/filters.ts';
import type { LogFilters } from '../sql/logs.ts';
import { type TailRecord, asciiLower } from './record.ts';

export type TailFilters = Omit<LogFilters, 'range'>;

export type Predicate = (r: TailRecord) => boolean;

function attrValue(map: Readonly<Record<string, string>>, key: string): string {
  return Object.hasOwn(map, key) ? map[key]! : '';
}

function attrMatches(r: TailRecord, f: AttrFilter): boolean {
  return attrValue(r.record.attributes, f.key) === f.value || attrValue(r.record.resource.attributes, f.key) === f.value;
}

export function compilePredicate(f: TailFilters): Predicate {
  const checks: Predicate[] = [];
  const { service, minSeverity, traceId, spanId, attrs, q } = f;
  if (service !== undefined) checks.push((r) => r.record.serviceName === service);
  if (minSeverity !== undefined) checks.push((r) => r.record.severityNumber >= minSeverity);
  if (traceId !== undefined) checks.push((r) => r.record.traceId === traceId);
  if (spanId !== undefined) checks.push((r) => r.record.spanId === spanId);
  for (const a of attrs) checks.push((r) => attrMatches(r, a));
  if (q !== undefined && q !== '') {
    const tokens = textTokens(q);
    const lowered = asciiLower(q);
    if (tokens.length > 0) checks.push((r) => tokens.every((t) => r.tokens.has(t)));
    if (!(tokens.length === 1 && tokens[0] === lowered)) checks.push((r) => r.bodyLower.includes(lowered));
  }
  return (r) => {
    for (const check of checks) if (!check(r)) return false;
    return true;
  };
}
