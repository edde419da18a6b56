/**
 * View state in the URL: each page declares its parameters once (name → codec with a default), reads them
 * from the query string and writes patches back. Defaults are left out of URLs, so links stay short and a
 * default can change without old links pinning the old one; parameters a page does not declare (the shared
 * time range, another page's state on back/forward) pass through untouched. Pure: react-router's
 * `useSearchParams` is wired to it in ./use-url-state.ts.
 */

export interface Codec<T> {
  /** The value of a raw parameter; the default when missing or unreadable (a mangled link still opens). */
  parse(raw: string | null): T;
  /** The raw form; null leaves the parameter out (the default). */
  format(value: T): string | null;
}

export function text(dflt = ''): Codec<string> {
  return { parse: (raw) => raw ?? dflt, format: (v) => (v === dflt ? null : v) };
}

export function oneOf<const V extends string>(values: readonly V[], dflt: V): Codec<V> {
  return {
    parse: (raw) => (values.includes(raw as V) ? (raw as V) : dflt),
    format: (v) => (v === dflt ? null : v),
  };
}

export function integer(dflt: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Codec<number> {
  return {
    parse: (raw) => {
      if (raw === null || !/^-?\d+$/.test(raw)) return dflt;
      const n = Number(raw);
      return n >= min && n <= max ? n : dflt;
    },
    format: (v) => (v === dflt ? null : String(v)),
  };
}

/** A sort order as `column` (ascending) or `-column` (descending), the column one of `columns`. */
export interface Sort<C extends string> {
  column: C;
  desc: boolean;
}

export function sort<const C extends string>(columns: readonly C[], dflt: Sort<C>): Codec<Sort<C>> {
  return {
    parse: (raw) => {
      if (raw === null) return dflt;
      const desc = raw.startsWith('-');
      const column = (desc ? raw.slice(1) : raw) as C;
      return columns.includes(column) ? { column, desc } : dflt;
    },
    format: (v) => (v.column === dflt.column && v.desc === dflt.desc ? null : `${v.desc ? '-' : ''}${v.column}`),
  };
}

export type Schema = Record<string, Codec<unknown>>;
export type StateOf<S extends Schema> = { [K in keyof S]: S[K] extends Codec<infer T> ? T : never };

export function readState<S extends Schema>(schema: S, params: URLSearchParams): StateOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, codec] of Object.entries(schema)) out[name] = codec.parse(params.get(name));
  return out as StateOf<S>;
}

/** `params` with `patch` applied: changed keys set or removed (defaults), every other parameter kept in place. */
export function writeState<S extends Schema>(schema: S, params: URLSearchParams, patch: Partial<StateOf<S>>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(patch)) {
    const codec = schema[name];
    if (codec === undefined) continue;
    const raw = codec.format(value);
    if (raw === null) next.delete(name);
    else next.set(name, raw);
  }
  return next;
}

/**
 * Parameters to carry when moving to another page: the shared ones (the time range and refresh), so a link from
 * the services table to a service keeps the window the user was looking at.
 */
export const SHARED_PARAMS = ['from', 'to', 'refresh'] as const;

export function carry(params: URLSearchParams, extra: Record<string, string | undefined> = {}): string {
  const next = new URLSearchParams();
  for (const name of SHARED_PARAMS) {
    const v = params.get(name);
    if (v !== null) next.set(name, v);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') next.set(k, v);
  const s = next.toString();
  return s === '' ? '' : `?${s}`;
}
