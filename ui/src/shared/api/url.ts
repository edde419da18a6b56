/**
 * The query API's URLs as the UI requests them. Pure: index.html's early script (ui/src/shell/early.ts) computes
 * the first page's URLs with it, without the rest of the API client.
 */

export const API_BASE = '/api/v1';

export type ParamValue = string | number | readonly string[] | undefined;
/** A route's query as the UI sends it: every parameter optional, undefined ones left out. */
export type Params<Q> = { [K in keyof Q]?: Q[K] | undefined };

/** `?a=1&b=x&b=y`, parameters in the given order, undefined and empty strings left out. */
export function queryString(params: Record<string, ParamValue>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const item of v as readonly string[]) sp.append(k, item);
    else sp.set(k, String(v));
  }
  const s = sp.toString();
  return s === '' ? '' : `?${s}`;
}

/** The URL apiGet requests for `path` and `params`. */
export function apiUrl(path: string, params: Record<string, ParamValue> = {}): string {
  return `${API_BASE}${path}${queryString(params)}`;
}
