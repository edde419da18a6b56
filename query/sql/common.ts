/**
 * Pieces every query builder shares: table references, time predicates on the partition/sort keys, attribute
 * filters. Everything a user typed goes in as a bound parameter.
 */
import type { ClickHouseSettings } from '@clickhouse/client';
import { ident, join, param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import type { DataTableName } from '#storage/tables.ts';
import type { AttrFilter } from '../params/filters.ts';
import type { TimeRange } from '../params/time.ts';

/** A table the API reads: a name from the table registry. */
export type Table = DataTableName;

/**
 * Settings of every API query: a deadline, so one heavy request cannot hold the engine. A query past it fails
 * with TIMEOUT_EXCEEDED, which the routes answer with 503.
 */
export const QUERY_SETTINGS: ClickHouseSettings = {
  max_execution_time: 60,
};

export function table(db: string, name: Table): Sql {
  return sql`${ident(db)}.${ident(name)}`;
}

/** A DateTime64(9) constant from nanoseconds; folded before index analysis, so it prunes partitions and granules. */
export function ts(ns: bigint): Sql {
  return sql`fromUnixTimestamp64Nano(${param('Int64', ns.toString())})`;
}

/** `column >= start AND column <= end`, on a DateTime64(9) column chosen by the code. */
export function within(column: 'Timestamp' | 'TimeUnix', range: TimeRange): Sql {
  const c = unsafeRaw(column);
  return sql`${c} >= ${ts(range.startNs)} AND ${c} <= ${ts(range.endNs)}`;
}

/** Each filter matches when any of the given map columns has key = value (span or resource attributes, …). */
export function attrFilters(filters: readonly AttrFilter[], maps: readonly ('SpanAttributes' | 'ResourceAttributes' | 'LogAttributes')[]): Sql[] {
  return filters.map((f) => {
    const alternatives = maps.map((m) => sql`${unsafeRaw(m)}[${param('String', f.key)}] = ${param('String', f.value)}`);
    return sql`(${join(alternatives, ' OR ')})`;
  });
}

/** `WHERE a AND b …` of the non-empty conditions. */
export function where(conditions: readonly Sql[]): Sql {
  return conditions.length === 0 ? unsafeRaw('') : sql`WHERE ${join(conditions, '\n  AND ')}`;
}
