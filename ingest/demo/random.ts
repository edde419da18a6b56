/**
 * A seeded pseudo-random source (mulberry32) and the draws the demo needs. Everything the demo varies (pod
 * names, which requests fail, how slow a query is) is drawn from one of these, so a seed and a clock give the
 * same traffic every time: the scenario's unit tests rely on it. Not for anything secret.
 */
export type Random = () => number;

/** Uniform in [0, 1), from a 32-bit seed. */
export function seeded(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const chance = (r: Random, p: number): boolean => r() < p;

export const between = (r: Random, lo: number, hi: number): number => lo + (hi - lo) * r();

export function pick<T>(r: Random, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(r() * items.length)]!;
}

/** One of `items` with probability proportional to its weight. */
export function weighted<T>(r: Random, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [item, w] of items) {
    x -= w;
    if (x < 0) return item;
  }
  return items[items.length - 1]![0];
}

/**
 * A latency with a long tail, as request latencies are: log-normal around `medianMs`, where `spread` is the
 * ratio of the p84 to the median (1.5 is a well-behaved endpoint, 3 a noisy one).
 */
export function latencyMs(r: Random, medianMs: number, spread: number): number {
  // Box-Muller: a standard normal from two uniforms (1 - r() keeps log away from 0).
  const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return medianMs * Math.exp(z * Math.log(spread));
}

/** Exponentially distributed waiting time of a Poisson process at `perSecond`: the gap to the next request. */
export function gapMs(r: Random, perSecond: number): number {
  return (-Math.log(1 - r()) / perSecond) * 1000;
}

/** `n` lowercase hex or base-36 characters, as Kubernetes names pod hashes. */
export function token(r: Random, n: number, alphabet = 'bcdfghjklmnpqrstvwxz2456789'): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/** A version 4 UUID drawn from `r` (a pod's uid). */
export function uuid(r: Random): string {
  const hex = token(r, 32, '0123456789abcdef').split('');
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(r() * 4)]!;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
