/**
 * Runs an API query and turns the engine's refusals into the error model: a bad regular expression in a
 * filter is the caller's mistake (400), a query past its deadline or memory limit is overload (503). Anything
 * else stays a 500 and is logged by the error handler.
 */
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type { Sql } from '#storage/sql.ts';
import { QUERY_SETTINGS } from './sql/common.ts';

const OVERLOAD = new Set(['TIMEOUT_EXCEEDED', 'TOO_SLOW', 'MEMORY_LIMIT_EXCEEDED', 'TOO_MANY_ROWS', 'TOO_MANY_BYTES', 'TOO_MANY_SIMULTANEOUS_QUERIES']);

export async function runQuery<T>(store: Store, query: Sql): Promise<T[]> {
  try {
    return await store.rows<T>(query, QUERY_SETTINGS);
  } catch (err) {
    throw mapStoreError(err);
  }
}

/**
 * Trims the rows of a query that asked for one row past `limit` (to learn whether more matched) back to `limit`;
 * true when there were more.
 */
export function trimToLimit(rows: unknown[], limit: number): boolean {
  if (rows.length <= limit) return false;
  rows.length = limit;
  return true;
}

export function mapStoreError(err: unknown): unknown {
  if (!(err instanceof Error) || !('type' in err) || typeof err.type !== 'string') return err;
  if (err.type === 'CANNOT_COMPILE_REGEXP') {
    const detail = /error: ([^:.]+)/.exec(err.message)?.[1] ?? 'invalid syntax';
    return new AppError('BAD_REQUEST', `querystring/filter has an invalid regular expression (RE2 syntax): ${detail}`);
  }
  if (OVERLOAD.has(err.type)) return new AppError('OVERLOADED', 'the query exceeded its time or memory limit; narrow the time range or add filters', 5);
  return err;
}
