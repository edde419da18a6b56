/**
 * Labels of metric points, shared by the points read and the series: a label is `ServiceName` or a key of the
 * point's `Attributes`; filters compare label values the PromQL way; a true series is identified by its hash.
 */
import { join, param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import type { LabelFilter } from '../../params/filters.ts';

/**
 * A true series: one (ServiceName, ResourceAttributes, ScopeName, Attributes) combination, so two pods exporting
 * the same attributes stay two counters.
 */
export const SERIES_ID = unsafeRaw('cityHash64(ServiceName, ResourceAttributes, ScopeName, Attributes)');

/** The value of one label of a stored row (`ServiceName` or an attribute; an absent attribute reads as ''). */
export function labelValue(key: string): Sql {
  return key === 'ServiceName' ? sql`toString(ServiceName)` : sql`Attributes[${param('String', key)}]`;
}

/**
 * The label set of an output series: every label (`groupBy` undefined), none (`[]`, everything merges), or the
 * given keys.
 */
export function labelsExpr(groupBy: readonly string[] | undefined): Sql {
  if (groupBy === undefined) return sql`mapUpdate(CAST(Attributes, 'Map(String, String)'), map('ServiceName', toString(ServiceName)))`;
  if (groupBy.length === 0) return sql`CAST(map(), 'Map(String, String)')`;
  const pairs = groupBy.map((k) => sql`${param('String', k)}, ${labelValue(k)}`);
  // A series without the label is grouped under "absent", as PromQL does, not under an empty-string value.
  return sql`mapFilter((lk, lv) -> lv != '', map(${join(pairs, ', ')}))`;
}

/** A label filter as a condition on the stored rows; the value is always a bound parameter. */
export function filterCondition(f: LabelFilter): Sql {
  // ServiceName leads the sort key: compare the column itself so the primary index applies.
  const v = f.key === 'ServiceName' ? sql`ServiceName` : labelValue(f.key);
  switch (f.op) {
    case '=':
      return sql`${v} = ${param('String', f.value)}`;
    case '!=':
      return sql`${v} != ${param('String', f.value)}`;
    // Anchored like PromQL: the whole value must match. RE2 syntax.
    case '=~':
      return sql`match(${v}, ${param('String', `^(?:${f.value})$`)})`;
    case '!~':
      return sql`NOT match(${v}, ${param('String', `^(?:${f.value})$`)})`;
  }
}
