import { sparkPath } from './sparkline.ts';

export interface SparkSeries {
  values: readonly (number | null)[];
  className: string;
}

/** Lines drawn on one scale (requests and errors of a service compare), no axes: a shape at a glance. */
export function Sparkline({ series, label, width = 120, height = 24 }: { series: SparkSeries[]; label: string; width?: number; height?: number }) {
  const max = Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`-1 -1 ${width + 2} ${height + 2}`} role="img" aria-label={label}>
      {series.map((s) => (
        <path key={s.className} className={s.className} d={sparkPath(s.values, width, height, max)} fill="none" />
      ))}
    </svg>
  );
}
