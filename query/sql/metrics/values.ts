/**
 * The values one label takes in one metric's points: what a filter picker offers (`route` → `/a`, `/b`, …), most
 * used first. "Used" counts true series (`SERIES_ID`), not points, so a chatty pod does not push a rare value out
 * of the list. Other label filters narrow the answer the way they would narrow the series query, so a picker
 * offers only values that still match what the user already chose.
 */
import { param, sql, type Sql } from '#storage/sql.ts';
import { type MetricType, metricTable } from '#storage/tables.ts';
import type { LabelFilter } from '../../params/filters.ts';
import type { TimeRange } from '../../params/time.ts';
import { table, where, within } from '../common.ts';
import { SERIES_ID, filterCondition, labelValue } from './labels.ts';

export interface LabelValuesQuery {
  name: string;
  type: MetricType;
  range: TimeRange;
  /** `ServiceName` or an attribute key. */
  key: string;
  filters: readonly LabelFilter[];
  /** Case-insensitive substring of the value. */
  search?: string | undefined;
  limit: number;
}

/** `value`, `series` (true series carrying it) rows, most series first; `limit + 1` rows to tell a truncated answer. */
export function labelValuesSql(db: string, q: LabelValuesQuery): Sql {
  const value = labelValue(q.key);
  const c: Sql[] = [sql`MetricName = ${param('String', q.name)}`, within('TimeUnix', q.range)];
  // A point without the attribute has no value for it (not an empty one).
  if (q.key !== 'ServiceName') c.push(sql`mapContains(Attributes, ${param('String', q.key)})`);
  if (q.search !== undefined && q.search !== '') c.push(sql`positionCaseInsensitive(${value}, ${param('String', q.search)}) > 0`);
  c.push(...q.filters.map(filterCondition));
  return sql`SELECT value, toUInt32(uniqExact(series)) AS series FROM (
  SELECT ${value} AS value, ${SERIES_ID} AS series
  FROM ${table(db, metricTable(q.type).name)}
  ${where(c)}
)
GROUP BY value
ORDER BY series DESC, value
LIMIT ${param('UInt32', q.limit + 1)}`;
}
