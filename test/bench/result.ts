/**
 * One figure of a benchmark, as every `test/bench/*.bench.ts` `run()` returns them: a measured value beside a
 * reference measured the same way on the same machine (the engine alone, the direct SQL, a real peer), so a
 * result reads as a ratio rather than an absolute number that depends on the machine.
 */
export interface BenchResult {
  /** Dotted, stable name: `<area>.<what>.<statistic>` (`query.trace_by_id.p50`). */
  name: string;
  value: number;
  /** Unit of `value` and `reference` (`ms`, `spans/s`, `MiB`). */
  unit: string;
  /** The same quantity for the reference; null when the figure has none (peak memory). */
  reference: number | null;
  /** value / reference; null without a reference. */
  ratio: number | null;
  /** What was measured and the target, for the report. */
  note?: string | undefined;
}
