/**
 * Duration over time as points (plain SVG: a recharts scatter of a few thousand points re-renders far slower,
 * and its events give no data coordinates for a brush). The x axis is the shared range's window, the y axis
 * logarithmic. A click on a point calls `onPick` with it; dragging a rectangle calls `onBrush` with the data
 * rectangle it covers (time range and duration range). Errors are drawn in the theme's bad colour.
 */
import { type MouseEvent, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { formatDurationNs } from '../format/format.ts';
import { brushed, decadeTicks, durationDomain, linearScale, logScale, timeTicks } from './scatter.ts';

export interface ScatterDatum {
  id: string;
  /** Epoch ms. */
  x: number;
  /** Nanoseconds. */
  y: number;
  error: boolean;
  label: string;
}

export interface Brush {
  fromMs: number;
  toMs: number;
  minNs: number;
  maxNs: number;
}

const M = { top: 8, right: 12, bottom: 22, left: 58 };
/** A drag shorter than this (px) is a click. */
const CLICK_PX = 4;
/** How near (px) a click must be to a point to pick it. */
const PICK_PX = 8;

function tick(ms: number, spanMs: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
  if (spanMs > 2 * 86_400_000) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  if (spanMs < 5 * 60_000) return `${hm}:${p(d.getSeconds())}`;
  return hm;
}

export function ScatterChart({
  title,
  points,
  startMs,
  endMs,
  onPick,
  onBrush,
  height = 200,
  testId,
}: {
  title: string;
  points: readonly ScatterDatum[];
  startMs: number;
  endMs: number;
  onPick: (d: ScatterDatum) => void;
  onBrush: (b: Brush) => void;
  height?: number;
  testId?: string;
}) {
  const svg = useRef<SVGSVGElement>(null);
  const box = useRef<HTMLDivElement>(null);
  // Drawn at the container's pixel width (text stays undistorted), followed as the window resizes.
  const [width, setWidth] = useState(1000);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, Math.round(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const [drag, setDrag] = useState<{ a: { x: number; y: number }; b: { x: number; y: number } }>();
  const [hover, setHover] = useState<ScatterDatum>();
  const yDomain = useMemo(() => durationDomain(points.map((p) => p.y)), [points]);
  const x = useMemo(() => linearScale([startMs, endMs], [M.left, width - M.right]), [startMs, endMs, width]);
  const y = useMemo(() => logScale(yDomain, [height - M.bottom, M.top]), [yDomain, height]);
  const xTicks = useMemo(() => timeTicks(startMs, endMs), [startMs, endMs]);
  const yTicks = useMemo(() => decadeTicks(yDomain), [yDomain]);

  /** Pointer position in the chart's pixels. */
  const at = (e: MouseEvent) => {
    const r = svg.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const nearest = (p: { x: number; y: number }) => {
    let best: ScatterDatum | undefined;
    let bestD = PICK_PX * PICK_PX;
    for (const d of points) {
      const dx = x(d.x) - p.x;
      const dy = y(d.y) - p.y;
      const dd = dx * dx + dy * dy;
      if (dd <= bestD) {
        best = d;
        bestD = dd;
      }
    }
    return best;
  };

  return (
    <figure className="chart scatter" aria-label={title} data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={box}>
      <svg
        ref={svg}
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={`${title}: ${points.length} points`}
        onMouseDown={(e) => {
          const p = at(e);
          setDrag({ a: p, b: p });
        }}
        onMouseMove={(e) => {
          const p = at(e);
          if (drag) setDrag({ ...drag, b: p });
          else setHover(nearest(p));
        }}
        onMouseUp={(e) => {
          if (!drag) return;
          const b = at(e);
          setDrag(undefined);
          if (Math.abs(b.x - drag.a.x) < CLICK_PX && Math.abs(b.y - drag.a.y) < CLICK_PX) {
            const d = nearest(b);
            if (d) onPick(d);
            return;
          }
          const r = brushed(x, y, drag.a, b);
          onBrush({ fromMs: Math.max(startMs, r.x0), toMs: Math.min(endMs, r.x1), minNs: r.y0, maxNs: r.y1 });
        }}
        onMouseLeave={() => {
          setDrag(undefined);
          setHover(undefined);
        }}
      >
        {yTicks.map((t) => (
          <g key={t}>
            <line x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} stroke="var(--grid)" vectorEffect="non-scaling-stroke" />
            <text x={M.left - 6} y={y(t) + 4} textAnchor="end" className="axis">
              {formatDurationNs(t)}
            </text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text key={t} x={x(t)} y={height - 6} textAnchor="middle" className="axis">
            {tick(t, endMs - startMs)}
          </text>
        ))}
        {points.map((d) => (
          <circle key={d.id} cx={x(d.x)} cy={y(d.y)} r={3} className={d.error ? 'pt error' : 'pt'} data-id={d.id} />
        ))}
        {hover && <circle cx={x(hover.x)} cy={y(hover.y)} r={6} className="pt-hover" />}
        {drag && (
          <rect
            x={Math.min(drag.a.x, drag.b.x)}
            y={Math.min(drag.a.y, drag.b.y)}
            width={Math.abs(drag.b.x - drag.a.x)}
            height={Math.abs(drag.b.y - drag.a.y)}
            className="brush"
          />
        )}
      </svg>
      </div>
      <p className="scatter-hover muted" aria-live="polite">
        {hover ? `${hover.label} · ${formatDurationNs(hover.y)} · ${new Date(hover.x).toLocaleTimeString()} — click to open` : 'Click a point to open its trace; drag a rectangle to list the traces inside it.'}
      </p>
    </figure>
  );
}
