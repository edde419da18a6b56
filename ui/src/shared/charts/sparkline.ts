/**
 * Sparkline geometry: a series → an SVG path, as a pure function. Rows of the services table draw these in
 * plain SVG, since a chart component per cell (a hundred services, two each) costs far more than a path.
 */

/**
 * `M x,y L x,y …` scaling `values` into width × height (y grows downwards; `max` shared by lines drawn
 * together so they compare). Nulls break the line. Empty or all-null: ''.
 */
export function sparkPath(values: readonly (number | null)[], width: number, height: number, max?: number): string {
  const n = values.length;
  if (n === 0) return '';
  const top = max ?? Math.max(0, ...values.map((v) => v ?? 0));
  const x = (i: number) => (n === 1 ? width / 2 : (i * width) / (n - 1));
  const y = (v: number) => (top <= 0 ? height : height - (v / top) * height);
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${round(x(i))},${round(y(v))}`;
    pen = true;
  });
  return d;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
