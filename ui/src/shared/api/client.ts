/**
 * The HTTP client of the query API: same origin, `/api/v1`, typed by the API contract (query/contract.ts,
 * types only). Errors come back as `ApiError` with the API's stable code, so pages say what to do next: a 401
 * asks for the bearer token (kept in this browser's localStorage and sent as `Authorization: Bearer`, exactly
 * as any API client authenticates), a 503 suggests a narrower range, a network failure says the API is down.
 */
import type { ErrorResponse } from '../../../../query/contract.ts';
import { takeEarly } from './early.ts';
import { type ParamValue, apiUrl } from './url.ts';

export { API_BASE, type ParamValue, type Params, apiUrl, queryString } from './url.ts';

const TOKEN_KEY = 'crowsnest.token';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the API could not be reached. */
    readonly status: number,
    /** The API's stable code (BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, OVERLOADED, UNAVAILABLE, …) or NETWORK. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function getToken(): string | undefined {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function setToken(token: string | undefined): void {
  if (token === undefined || token === '') localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token);
}

export async function apiGet<T>(path: string, params: Record<string, ParamValue> = {}, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const url = apiUrl(path, params);
  let res: Response;
  try {
    // The first page's requests were started by index.html's early script (./early.ts): adopt them once.
    res = await (takeEarly(url, token, signal) ?? fetch(url, { headers, ...(signal ? { signal } : {}) }));
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'NETWORK', `the query API at ${location.origin} cannot be reached (${(err as Error).message})`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BAD_RESPONSE', `the API answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = (body as Partial<ErrorResponse> | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `the API answered ${res.status}`);
  }
  return body as T;
}
