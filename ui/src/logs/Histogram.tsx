/**
 * Records per time bucket, stacked by severity class (GET /api/v1/logs/histogram?by=severity), over the shared
 * range: dragging across it zooms every chart and query of the page to that window, as on the other pages.
 */
import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MouseHandlerDataParam } from 'recharts';
import type { LogHistogramResponse } from '../../../query/contract.ts';
import { formatCount } from '../shared/format/format.ts';
import { useTime } from '../shared/time/context.tsx';
import { zoom } from '../shared/time/range.ts';

/** Stack order, bottom up, and colours (CSS variables of ./logs.css). */
export const CLASS_ORDER = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

function tick(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (spanMs > 2 * 86_400_000) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  if (spanMs < 5 * 60_000) return `${hm}:${String(d.getSeconds()).padStart(2, '0')}`;
  return hm;
}

const at = (v: MouseHandlerDataParam): number | undefined => {
  const n = Number(v.activeLabel);
  return Number.isFinite(n) ? n : undefined;
};

export function Histogram({ data }: { data: LogHistogramResponse }) {
  const { resolved, setRange } = useTime();
  const [drag, setDrag] = useState<{ a: number; b: number }>();
  const present = useMemo(() => CLASS_ORDER.filter((c) => data.buckets.some((b) => (b.bySeverity?.[c] ?? 0) > 0)), [data]);
  const rows = useMemo(() => data.buckets.map((b) => ({ t: b.t, ...Object.fromEntries(CLASS_ORDER.map((c) => [c, b.bySeverity?.[c] ?? 0])) })), [data]);
  const span = resolved.endMs - resolved.startMs;
  return (
    <figure className="chart logs-histogram" aria-label="Log records over time by severity" data-testid="logs-histogram">
      <figcaption>
        Records over time by severity <span className="muted">· drag to zoom</span>
      </figcaption>
      <div style={{ height: 130 }} className="chart-body">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart
            data={rows}
            margin={{ top: 4, right: 12, bottom: 0, left: 0 }}
            barCategoryGap={1}
            onMouseDown={(s) => {
              const a = at(s);
              if (a !== undefined) setDrag({ a, b: a });
            }}
            onMouseMove={(s) => {
              const b = at(s);
              if (drag && b !== undefined) setDrag({ ...drag, b });
            }}
            onMouseUp={() => {
              if (drag) {
                // A drag covers whole buckets: to the end of the last one.
                const z = zoom(resolved, Math.min(drag.a, drag.b), Math.max(drag.a, drag.b) + data.bucketMs);
                if (z && drag.a !== drag.b) setRange(z);
              }
              setDrag(undefined);
            }}
            onMouseLeave={() => setDrag(undefined)}
          >
            <CartesianGrid stroke="var(--grid)" vertical={false} />
            <XAxis dataKey="t" tickFormatter={(v: number) => tick(v, span)} stroke="var(--muted)" fontSize={11} minTickGap={40} />
            <YAxis tickFormatter={(v: number) => formatCount(v)} stroke="var(--muted)" fontSize={11} width={48} allowDecimals={false} />
            <Tooltip
              labelFormatter={(v) => new Date(Number(v)).toLocaleString()}
              formatter={(v, name) => [formatCount(Number(v)), name]}
              contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)', color: 'var(--text)' }}
              isAnimationActive={false}
              cursor={{ fill: 'var(--row-hover)' }}
            />
            {present.map((c) => (
              <Bar key={c} dataKey={c} stackId="s" fill={`var(--sev-${c.toLowerCase()})`} isAnimationActive={false} />
            ))}
            {drag && drag.a !== drag.b && <ReferenceArea x1={Math.min(drag.a, drag.b)} x2={Math.max(drag.a, drag.b)} fill="var(--accent)" fillOpacity={0.15} />}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <ul className="legend">
        {present.map((c) => (
          <li key={c}>
            <span className="swatch sev" style={{ background: `var(--sev-${c.toLowerCase()})` }} /> {c.toLowerCase()}
          </li>
        ))}
      </ul>
    </figure>
  );
}
