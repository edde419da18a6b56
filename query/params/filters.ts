/**
 * Attribute and label filters given in query strings (`attr=http.method=GET`, `filter=code!~5..`), and the
 * other small enumerations of the API. Values are only ever bound as SQL parameters.
 */
import { AppError } from '#core/errors.ts';

export interface AttrFilter {
  key: string;
  value: string;
}

export type LabelOp = '=' | '!=' | '=~' | '!~';

export interface LabelFilter {
  key: string;
  op: LabelOp;
  value: string;
}

/** Longest attribute key or value accepted in a filter. */
const MAX_KEY = 256;
const MAX_VALUE = 4096;
/** Most filters of one kind on one request. */
export const MAX_FILTERS = 20;

function bad(name: string, message: string): AppError {
  return new AppError('BAD_REQUEST', `querystring/${name} ${message}`);
}

/** `key=value` (the first `=` splits; the value may contain more). */
export function parseAttrFilters(name: string, raw: readonly string[] | undefined): AttrFilter[] {
  if (raw === undefined) return [];
  if (raw.length > MAX_FILTERS) throw bad(name, `accepts at most ${MAX_FILTERS} filters`);
  return raw.map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw bad(name, `must be key=value, got "${short(f)}"`);
    const key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    if (key.length > MAX_KEY || value.length > MAX_VALUE) throw bad(name, 'has a key or value that is too long');
    return { key, value };
  });
}

const LABEL = /^([^=!~]+?)(=~|!~|!=|=)([\s\S]*)$/;

/** `key=value`, `key!=value`, `key=~regex`, `key!~regex` (regexes are RE2, anchored like PromQL). */
export function parseLabelFilters(name: string, raw: readonly string[] | undefined): LabelFilter[] {
  if (raw === undefined) return [];
  if (raw.length > MAX_FILTERS) throw bad(name, `accepts at most ${MAX_FILTERS} filters`);
  return raw.map((f) => {
    const m = LABEL.exec(f);
    if (!m) throw bad(name, `must be key=value, key!=value, key=~regex or key!~regex, got "${short(f)}"`);
    const [, key, op, value] = m as unknown as [string, string, LabelOp, string];
    if (key.length > MAX_KEY || value.length > MAX_VALUE) throw bad(name, 'has a key or value that is too long');
    return { key, op, value };
  });
}

/** Label keys to group by: comma-separated and/or repeated. `[]` (an empty `groupBy=`) merges every series. */
export function parseGroupBy(raw: readonly string[] | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const keys = [...new Set(raw.flatMap((r) => r.split(',')).map((k) => k.trim()).filter((k) => k !== ''))];
  if (keys.length > MAX_FILTERS) throw bad('groupBy', `accepts at most ${MAX_FILTERS} keys`);
  if (keys.some((k) => k.length > MAX_KEY)) throw bad('groupBy', 'has a key that is too long');
  return keys;
}

/** OTel severity number ranges: TRACE 1–4, DEBUG 5–8, INFO 9–12, WARN 13–16, ERROR 17–20, FATAL 21–24. */
const SEVERITY_TEXT: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, WARNING: 13, ERROR: 17, FATAL: 21 };

/** Minimum severity: a number 1–24 or a level name (case-insensitive). */
export function parseSeverity(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim();
  if (/^\d{1,2}$/.test(s) && +s >= 1 && +s <= 24) return +s;
  const n = SEVERITY_TEXT[s.toUpperCase()];
  if (n === undefined) throw bad('severity', `must be a number 1-24 or one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got "${short(s)}"`);
  return n;
}

/** 32 hex characters, normalised to lowercase as stored. */
export function parseTraceId(raw: string, name = 'traceId', where = 'params'): string {
  if (!/^[0-9a-fA-F]{32}$/.test(raw)) throw new AppError('BAD_REQUEST', `${where}/${name} must be 32 hexadecimal characters`);
  return raw.toLowerCase();
}

/**
 * Splits full-text input into the word tokens ClickHouse's tokenbf index knows (runs of ASCII letters and
 * digits, and of bytes ≥ 0x80), lowercased as ClickHouse's `lower` does (ASCII only) because the index is built
 * on `lower(Body)`: a JavaScript `toLowerCase` would turn `É` into `é`, a token `lower(Body)` never contains.
 */
export function textTokens(q: string): string[] {
  // eslint-disable-next-line no-control-regex -- the separators are exactly ASCII minus letters and digits
  const tokens = q.replace(/[A-Z]/g, (c) => c.toLowerCase()).split(/[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/);
  return [...new Set(tokens.filter((t) => t !== ''))].slice(0, 32);
}

function short(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
