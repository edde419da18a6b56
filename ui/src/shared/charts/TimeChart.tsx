/**
 * A time chart (recharts) over the shared range: the x axis is always the resolved window, so charts of one
 * page line up, and dragging across it zooms the whole page into that window (an absolute range in the URL).
 */
import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MouseHandlerDataParam } from 'recharts';
import { useTime } from '../time/context.tsx';
import { zoom } from '../time/range.ts';

export interface ChartSeries {
  key: string;
  label: string;
  values: readonly (number | null)[];
  /** A CSS colour (a variable of the theme). */
  color: string;
  /** Draw a line across missing points (a series sampled less often than the step). @default false */
  connectNulls?: boolean;
  /** How this series' values read in the tooltip, when it differs from the chart's `format`. */
  format?: (v: number) => string;
}

function tick(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (spanMs > 2 * 86_400_000) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  if (spanMs < 5 * 60_000) return `${hm}:${String(d.getSeconds()).padStart(2, '0')}`;
  return hm;
}

function label(v: MouseHandlerDataParam): number | undefined {
  const n = Number(v.activeLabel);
  return Number.isFinite(n) ? n : undefined;
}

export function TimeChart({
  title,
  timestamps,
  series,
  format,
  height = 180,
  legend = true,
}: {
  title: string;
  timestamps: readonly number[];
  series: ChartSeries[];
  format: (v: number) => string;
  height?: number;
  /** false: the caller draws its own legend (the explorer's toggles series). @default true */
  legend?: boolean;
}) {
  const { resolved, setRange } = useTime();
  const [drag, setDrag] = useState<{ a: number; b: number }>();
  const data = useMemo(
    () => timestamps.map((t, i) => Object.fromEntries([['t', t], ...series.map((s) => [s.key, s.values[i] ?? null])]) as Record<string, number | null>),
    [timestamps, series],
  );
  const span = resolved.endMs - resolved.startMs;
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div style={{ height }} className="chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart
            data={data}
            margin={{ top: 6, right: 12, bottom: 0, left: 0 }}
            onMouseDown={(s) => {
              const a = label(s);
              if (a !== undefined) setDrag({ a, b: a });
            }}
            onMouseMove={(s) => {
              const b = label(s);
              if (drag && b !== undefined) setDrag({ ...drag, b });
            }}
            onMouseUp={() => {
              if (drag) {
                const z = zoom(resolved, drag.a, drag.b);
                if (z) setRange(z);
              }
              setDrag(undefined);
            }}
            onMouseLeave={() => setDrag(undefined)}
          >
            <CartesianGrid stroke="var(--grid)" vertical={false} />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={[resolved.startMs, resolved.endMs]}
              tickFormatter={(v: number) => tick(v, span)}
              stroke="var(--muted)"
              fontSize={11}
              minTickGap={40}
            />
            <YAxis tickFormatter={format} stroke="var(--muted)" fontSize={11} width={56} />
            <Tooltip
              labelFormatter={(v) => new Date(Number(v)).toLocaleString()}
              formatter={(v, _name, item) => (typeof v === 'number' ? (series.find((s) => s.key === item.dataKey)?.format ?? format)(v) : '–')}
              contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)', color: 'var(--text)' }}
              isAnimationActive={false}
            />
            {series.map((s) => (
              // Gaps stay gaps (no request is not zero latency); an isolated point would then be invisible, so sparse series get dots.
              <Line
                key={s.key}
                dataKey={s.key}
                name={s.label}
                stroke={s.color}
                dot={s.values.filter((v) => v !== null).length < 40 ? { r: 2, fill: s.color } : false}
                isAnimationActive={false}
                strokeWidth={1.6}
                connectNulls={s.connectNulls ?? false}
              />
            ))}
            {drag && drag.a !== drag.b && <ReferenceArea x1={Math.min(drag.a, drag.b)} x2={Math.max(drag.a, drag.b)} fill="var(--accent)" fillOpacity={0.15} />}
          </LineChart>
        </ResponsiveContainer>
      </div>
      {legend && (
        <ul className="legend">
          {series.map((s) => (
            <li key={s.key}>
              <span className="swatch" style={{ background: s.color }} /> {s.label}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
