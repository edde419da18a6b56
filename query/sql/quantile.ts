/**
 * Quantiles from histogram buckets, computed by ClickHouse the way Prometheus' `histogram_quantile` does
 * (promql/quantile.go `bucketQuantile`):
 * - buckets sorted by upper bound, the last one +Inf; fewer than two buckets or no observations → NaN;
 * - rank = q × total; the first bucket whose cumulative count reaches the rank holds the quantile;
 * - inside it, linear interpolation between its lower bound (the previous upper bound, 0 for the first bucket)
 *   and its upper bound;
 * - a rank in the +Inf bucket → the largest finite upper bound; a first bucket with upper bound ≤ 0 → that bound.
 *
 * The steps are separate columns of one SELECT (`_hq_*`), which keeps every intermediate value visible when
 * the expression is checked by hand and lets ClickHouse compute each once.
 */
import { param, sql, unsafeRaw, type Sql } from '#storage/sql.ts';

/**
 * SELECT items computing the `q` quantile into column `out` from the columns `bounds` (ascending upper
 * bounds, +Inf last) and `counts` (non-cumulative counts per bucket, same length) of the same SELECT.
 * Column names are chosen by the code (they go in as SQL text).
 */
export function histogramQuantileColumns(q: number, bounds: string, counts: string, out: string): Sql {
  const B = unsafeRaw(bounds);
  return sql`${param('Float64', q)} AS _hq_q,
  arrayCumSum(${unsafeRaw(counts)}) AS _hq_cum,
  _hq_cum[-1] AS _hq_total,
  _hq_q * _hq_total AS _hq_rank,
  arrayFirstIndex(c -> c >= _hq_rank, arrayPopBack(_hq_cum)) AS _hq_b,
  if(_hq_b > 1, ${B}[_hq_b - 1], 0) AS _hq_lo,
  if(_hq_b > 1, _hq_cum[_hq_b - 1], 0) AS _hq_below,
  multiIf(
    length(${B}) < 2 OR _hq_total <= 0, nan,
    _hq_b = 0, ${B}[-2],
    _hq_b = 1 AND ${B}[1] <= 0, ${B}[1],
    _hq_lo + (${B}[_hq_b] - _hq_lo) * ((_hq_rank - _hq_below) / (_hq_cum[_hq_b] - _hq_below))
  ) AS ${unsafeRaw(out)}`;
}
