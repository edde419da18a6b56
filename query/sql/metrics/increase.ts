/**
 * The reset-aware per-series increase of cumulative values: written once here for every cumulative kind
 * (monotonic and up-down sums, histogram count and sum, histogram buckets, exponential histogram buckets).
 *
 * Each stored sample is compared with the previous sample of the same true series (`lagInFrame` over the
 * series in time order). A sample whose start time changed, or that meets a kind's own reset condition (a count
 * that went down, other bucket bounds, another scale…), starts a new counter: its whole value is its increase.
 * Otherwise its increase is its value minus the previous one. The first sample of a series has nothing to
 * compare with and gives no increase, which is why a series scan starts a look-back before the range; samples
 * of the look-back only serve as previous samples.
 *
 * Output columns: `labels`, `t` (bucket start, ms), `series`, the carried values, `isReset`, each increase, and
 * `dt` (nanoseconds since the previous sample, for rates).
 */
import { join, sql, unsafeRaw, type Sql } from '#storage/sql.ts';
import { SERIES_ID } from './labels.ts';

/** The rows a series statement reads, and how each is labelled and bucketed. */
export interface SeriesScan {
  /** The metric table. */
  from: Sql;
  /** `WHERE …` on the stored rows (name, time, temporality, label filters). */
  where: Sql;
  /** The label set of the output series a row belongs to. */
  labels: Sql;
  /** The start (ms, Float64) of the bucket a row falls in. */
  bucket: Sql;
  /** The first bucket of the range: rows of earlier buckets (the look-back) only serve as previous samples. */
  firstBucket: Sql;
}

/** A value compared with the previous sample's: `cur` in this sample, `prev` in the previous one. */
export interface Tracked {
  readonly cur: Sql;
  readonly prev: Sql;
  readonly select: Sql;
  readonly lag: Sql;
}

/**
 * A stored column tracked as it is (`tracked('Sum')`), or an expression under a name
 * (`tracked('cnt', sql\`toFloat64(Count)\`)`). The previous sample's is `prev<Name>`.
 */
export function tracked(name: string, expr?: Sql): Tracked {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`invalid column name: ${name}`);
  const cur = unsafeRaw(name);
  const prev = unsafeRaw(`prev${name[0]!.toUpperCase()}${name.slice(1)}`);
  const value = expr ?? cur;
  return { cur, prev, select: expr ? sql`${expr} AS ${cur}` : cur, lag: sql`lagInFrame(${value}) OVER w AS ${prev}` };
}

export interface Increase {
  /** Its column name in the output. */
  as: string;
  of: Tracked;
  /** The increase when the sample is no reset. @default `cur - prev` */
  diff?: Sql;
}

export interface IncreaseSpec {
  /** Every value compared with the previous sample (for a reset condition, an increase or both). */
  tracked: readonly Tracked[];
  /** What makes a sample a reset besides a new start time, over `cur`/`prev` of the tracked values. */
  resets: readonly Sql[];
  increases: readonly Increase[];
  /** Tracked values passed on as they are in this sample. */
  carry?: readonly Tracked[];
}

/** One row per stored sample in the range that has a previous sample in its series: its increases (above). */
export function perSeriesIncreases(s: SeriesScan, spec: IncreaseSpec): Sql {
  const isReset = join([sql`StartTimeUnix != prevStart`, ...spec.resets], ' OR ');
  const increases = spec.increases.map(
    (i) => sql`if(isReset, ${i.of.cur}, ${i.diff ?? sql`${i.of.cur} - ${i.of.prev}`}) AS ${unsafeRaw(i.as)}`,
  );
  const carried = join(
    (spec.carry ?? []).map((t) => sql`, ${t.cur}`),
    '',
  );
  const selects = join(
    spec.tracked.map((t) => t.select),
    ', ',
  );
  const lags = join(
    spec.tracked.map((t) => sql`${t.lag},\n          `),
    '',
  );
  return sql`SELECT labels, t, series${carried},
        ${isReset} AS isReset,
        ${join(increases, ',\n        ')},
        toFloat64(toUnixTimestamp64Nano(TimeUnix) - toUnixTimestamp64Nano(assumeNotNull(prevTime))) AS dt
      FROM (
        SELECT ${s.labels} AS labels, ${s.bucket} AS t, ${SERIES_ID} AS series, TimeUnix, StartTimeUnix, ${selects},
          ${lags}lagInFrame(toNullable(TimeUnix)) OVER w AS prevTime,
          lagInFrame(StartTimeUnix) OVER w AS prevStart
        FROM ${s.from}
        ${s.where}
        WINDOW w AS (PARTITION BY series ORDER BY TimeUnix ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
      )
      WHERE prevTime IS NOT NULL AND t >= ${s.firstBucket}`;
}
