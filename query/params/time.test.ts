import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors.ts';
import { bucketCount, isoNs, parseDurationNs, parseInstantNs, resolveRange, resolveStepMs } from './time.ts';

const NOW = 1_700_000_000_000;

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(400);
    return (err as AppError).message;
  }
  throw new Error('expected a 400');
}

describe('parseDurationNs', () => {
  it('reads unit sequences exactly, without floating point', () => {
    expect(parseDurationNs('250ms', 'ns')).toBe(250_000_000n);
    expect(parseDurationNs('1.5s', 'ns')).toBe(1_500_000_000n);
    expect(parseDurationNs('1h30m', 'ns')).toBe(5_400_000_000_000n);
    expect(parseDurationNs('100us', 'ns')).toBe(100_000n);
    expect(parseDurationNs('100µs', 'ns')).toBe(100_000n);
    expect(parseDurationNs('7ns', 'ns')).toBe(7n);
    expect(parseDurationNs('0.000000001s', 'ns')).toBe(1n);
    expect(parseDurationNs('2d', 's')).toBe(172_800_000_000_000n);
  });
  it('reads a bare number in the given unit', () => {
    expect(parseDurationNs('1500', 'ns')).toBe(1500n);
    expect(parseDurationNs('60', 's')).toBe(60_000_000_000n);
    expect(parseDurationNs('0.5', 's')).toBe(500_000_000n);
  });
  it('rejects anything else', () => {
    for (const s of ['', 'ms', '5 ms', '-5ms', '1x', '1h30', 'fast', '1e3ms', '1.ms']) expect(parseDurationNs(s, 'ns'), s).toBeUndefined();
  });
});

describe('parseInstantNs', () => {
  it('reads epoch milliseconds', () => {
    expect(parseInstantNs('start', '1700000000123', NOW)).toBe(1_700_000_000_123_000_000n);
  });
  it('reads RFC 3339 with up to nine fraction digits and any offset', () => {
    expect(parseInstantNs('start', '2023-11-14T22:13:20.123456789Z', NOW)).toBe(1_700_000_000_123_456_789n);
    expect(parseInstantNs('start', '2023-11-14T22:13:20Z', NOW)).toBe(1_700_000_000_000_000_000n);
    expect(parseInstantNs('start', '2023-11-14t22:13:20.5z', NOW)).toBe(1_700_000_000_500_000_000n);
    expect(parseInstantNs('start', '2023-11-14 23:13:20.000000001+01:00', NOW)).toBe(1_700_000_000_000_000_001n);
    expect(parseInstantNs('start', '2023-11-14T17:43:20-04:30', NOW)).toBe(1_700_000_000_000_000_000n);
  });
  it('reads now and now-<duration>', () => {
    expect(parseInstantNs('end', 'now', NOW)).toBe(BigInt(NOW) * 1_000_000n);
    expect(parseInstantNs('start', 'now-15m', NOW)).toBe(BigInt(NOW - 900_000) * 1_000_000n);
    expect(parseInstantNs('start', 'now-1h30m', NOW)).toBe(BigInt(NOW - 5_400_000) * 1_000_000n);
  });
  it('rejects impossible dates and other text, naming the parameter', () => {
    for (const s of ['2023-02-30T00:00:00Z', '2023-13-01T00:00:00Z', '2023-11-14T24:00:00Z', '2023-11-14T22:13:20', '2023-11-14', 'yesterday', '1.5', '-5', 'now-']) {
      expect(badRequest(() => parseInstantNs('start', s, NOW)), s).toContain('querystring/start');
    }
  });
});

describe('resolveRange', () => {
  it('defaults to the hour before now', () => {
    expect(resolveRange({}, NOW)).toEqual({ startNs: BigInt(NOW - 3_600_000) * 1_000_000n, endNs: BigInt(NOW) * 1_000_000n });
    expect(resolveRange({ end: String(NOW - 10_000) }, NOW).startNs).toBe(BigInt(NOW - 3_610_000) * 1_000_000n);
  });
  it('requires start before end and bounds the length', () => {
    expect(badRequest(() => resolveRange({ start: String(NOW), end: String(NOW) }, NOW))).toContain('must be before end');
    expect(badRequest(() => resolveRange({ start: '0', end: String(NOW) }, NOW))).toContain('at most 366 days');
  });
});

describe('resolveStepMs', () => {
  const day = { startNs: 0n, endNs: 86_400_000n * 1_000_000n };
  it('chooses the smallest nice step within the target point count', () => {
    expect(resolveStepMs('step', undefined, day, 300)).toBe(300_000);
    expect(resolveStepMs('step', undefined, { startNs: 0n, endNs: 3_600_000n * 1_000_000n }, 120)).toBe(60_000);
    expect(resolveStepMs('step', undefined, { startNs: 0n, endNs: 10_000_000n }, 100, 1000)).toBe(1000);
  });
  it('accepts a given step that keeps the series within 11000 points', () => {
    expect(resolveStepMs('step', '30s', day, 300)).toBe(30_000);
    expect(resolveStepMs('step', '60', day, 300)).toBe(60_000);
    expect(bucketCount(day, 8_000)).toBe(10_801);
    expect(resolveStepMs('step', '8s', day, 300)).toBe(8_000);
  });
  it('refuses steps that are too small, too fine or not durations', () => {
    expect(badRequest(() => resolveStepMs('step', '7s', day, 300))).toContain('at most 11000 points');
    expect(badRequest(() => resolveStepMs('step', '500ms', day, 300, 1000))).toContain('at least 1000ms');
    expect(badRequest(() => resolveStepMs('bucket', '1500us', day, 300))).toContain('querystring/bucket');
    expect(badRequest(() => resolveStepMs('step', 'often', day, 300))).toContain('must be a duration');
  });
});

describe('isoNs', () => {
  it('keeps nine fraction digits', () => {
    expect(isoNs(1_700_000_000_000_000_001n)).toBe('2023-11-14T22:13:20.000000001Z');
  });
});
