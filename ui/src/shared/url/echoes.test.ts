import { describe, expect, it } from 'vitest';
import { Echoes } from './echoes.ts';

describe('Echoes', () => {
  it('takes late echoes of fast typing as echoes, in order', () => {
    const e = new Echoes();
    for (const v of ['c', 'ca', 'car', 'cart']) e.wrote(v);
    // "ca" lands after "car" was typed: an echo, not an outside change (the draft must stay "car…").
    expect(e.seen('c')).toBe(true);
    expect(e.seen('ca')).toBe(true);
    expect(e.seen('cart')).toBe(true);
  });

  it('takes a value never written as an outside change and forgets what is pending', () => {
    const e = new Echoes();
    e.wrote('a');
    e.wrote('ab');
    expect(e.seen('zzz')).toBe(false);
    expect(e.seen('ab')).toBe(false);
  });

  it('follows typing that comes back to an earlier value, and a router that skipped values', () => {
    const e = new Echoes();
    for (const v of ['x', 'xy', 'x', 'xz']) e.wrote(v);
    expect(e.seen('x')).toBe(true);
    expect(e.seen('xy')).toBe(true);
    expect(e.seen('xz')).toBe(true); // the second "x" was never shown on its own
    expect(e.seen('xy')).toBe(false); // nothing is pending: from elsewhere
  });
});
