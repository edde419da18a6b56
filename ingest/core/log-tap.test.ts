import { describe, expect, it } from 'vitest';
import { LogTap } from './log-tap.ts';

function lifecycle() {
  const calls: string[] = [];
  return {
    calls,
    start: () => {
      calls.push('start');
      return Promise.resolve();
    },
    stop: () => {
      calls.push('stop');
      return Promise.resolve();
    },
  };
}

describe('LogTap', () => {
  it('is inactive without listeners, and publishes to every listener', () => {
    const tap = new LogTap('writer');
    expect(tap.active).toBe(false);
    const got: number[] = [];
    const off = tap.subscribe((r) => got.push(r.length));
    tap.subscribe((r) => got.push(r.length * 10));
    expect(tap.active).toBe(true);
    tap.publish([new Uint8Array(1), new Uint8Array(2)]);
    off();
    tap.publish([new Uint8Array(1)]);
    expect(got).toEqual([2, 20, 10]);
  });

  it('keeps a failing listener from failing the publisher', () => {
    const errors: unknown[] = [];
    const tap = new LogTap('writer', undefined, (e) => errors.push(e));
    const got: number[] = [];
    tap.subscribe(() => {
      throw new Error('bug');
    });
    tap.subscribe((r) => got.push(r.length));
    tap.publish([new Uint8Array(1)]);
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('starts its source on the first listener and stops it after the last, once each', async () => {
    const l = lifecycle();
    const tap = new LogTap('kafka', l);
    const a = tap.subscribe(() => undefined);
    const b = tap.subscribe(() => undefined);
    await tap.live();
    a();
    b();
    b(); // twice is once
    const c = tap.subscribe(() => undefined);
    c();
    await tap.close();
    // The quick re-subscription (c) found the source running or restarted it, never twice in a row.
    expect(l.calls.join(',')).toMatch(/^start,stop(,start,stop)?$/);
  });

  it('close stops a running source', async () => {
    const l = lifecycle();
    const tap = new LogTap('kafka', l);
    tap.subscribe(() => undefined);
    await tap.live();
    await tap.close();
    expect(l.calls).toEqual(['start', 'stop']);
    expect(tap.active).toBe(false);
  });
});
