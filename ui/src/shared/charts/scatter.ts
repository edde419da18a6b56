/**
 * Scales of the duration-over-time scatter: linear time on x, logarithmic duration on y (latencies spread over
 * orders of magnitude: a linear axis squashes every fast request onto the floor), their ticks, and the inverse
 * mapping a brushed rectangle needs. Pure, tested in scatter.test.ts.
 */

export interface Scale {
  (v: number): number;
  invert(px: number): number;
}

export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): Scale {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = ((v: number) => r0 + (v - d0) * k) as Scale;
  f.invert = (px) => (k === 0 ? d0 : d0 + (px - r0) / k);
  return f;
}

/** log10 scale; values ≤ 0 are drawn at the domain floor. */
export function logScale([d0, d1]: readonly [number, number], range: readonly [number, number]): Scale {
  const lin = linearScale([Math.log10(d0), Math.log10(d1)], range);
  const f = ((v: number) => lin(Math.log10(Math.max(v, d0)))) as Scale;
  f.invert = (px) => 10 ** lin.invert(px);
  return f;
}

/** The y domain for durations (ns): whole decades around the data, at least one decade tall. */
export function durationDomain(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = 0;
  for (const v of values) {
    if (v > 0 && v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || hi <= 0) return [1e3, 1e9];
  let a = 10 ** Math.floor(Math.log10(lo));
  let b = 10 ** Math.ceil(Math.log10(hi));
  if (b <= a) b = a * 10;
  if (a < 1) a = 1;
  return [a, b];
}

/** One tick per decade of the domain. */
export function decadeTicks([d0, d1]: readonly [number, number]): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(d0) - 1e-9); 10 ** e <= d1 * (1 + 1e-9); e++) out.push(10 ** e);
  return out;
}

const NICE_MS = [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000];

/** Time ticks at a "nice" step giving at most `max` ticks. */
export function timeTicks(startMs: number, endMs: number, max = 8): number[] {
  const span = endMs - startMs;
  const step = NICE_MS.find((s) => span / s <= max) ?? Math.ceil(span / max / 86_400_000) * 86_400_000;
  const out: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) out.push(t);
  return out;
}

/** The data rectangle between two pixel corners (a brush), in domain units, ordered low → high. */
export function brushed(x: Scale, y: Scale, a: { x: number; y: number }, b: { x: number; y: number }) {
  const xs = [x.invert(a.x), x.invert(b.x)].sort((p, q) => p - q) as [number, number];
  const ys = [y.invert(a.y), y.invert(b.y)].sort((p, q) => p - q) as [number, number];
  return { x0: xs[0], x1: xs[1], y0: ys[0], y1: ys[1] };
}
