import { describe, expect, it } from 'vitest';
import { CYCLE_MS, INCIDENT_KINDS, INCIDENT_MS, INCIDENT_START_MS, STALL_MS, STALL_START_MS, behaviour, conditionsAt, incidentOfCycle } from './scenario.ts';

const SEED = 7; // 7 % 3 = 1: the first incident is INCIDENT_KINDS[1]

describe('conditionsAt', () => {
  it.each([
    ['calm before the first incident', 0, undefined],
    ['calm just before it', INCIDENT_START_MS - 1, undefined],
    ['the first incident from 30 s', INCIDENT_START_MS, 'catalog-slow-queries'],
    ['still on at its last millisecond', INCIDENT_START_MS + INCIDENT_MS - 1, 'catalog-slow-queries'],
    ['over after 90 s', INCIDENT_START_MS + INCIDENT_MS, undefined],
    ['calm late in the cycle', CYCLE_MS - 1, undefined],
    ['the next cycle brings the next kind', CYCLE_MS + INCIDENT_START_MS + 5_000, 'cart-redis-timeouts'],
    ['and the one after wraps around', 2 * CYCLE_MS + INCIDENT_START_MS, 'payment-provider-outage'],
    ['a negative clock counts as the start', -5_000, undefined],
  ])('%s (t = %d ms)', (_, t, kind) => {
    expect(conditionsAt(SEED, t).incident?.kind).toBe(kind);
  });

  it('names the incident\'s service and its bounds since the demo started', () => {
    expect(conditionsAt(SEED, CYCLE_MS + 40_000).incident).toEqual({
      kind: 'cart-redis-timeouts',
      service: 'cart',
      startMs: CYCLE_MS + INCIDENT_START_MS,
      endMs: CYCLE_MS + INCIDENT_START_MS + INCIDENT_MS,
    });
  });

  it('every kind comes round within three cycles, whatever the seed', () => {
    for (const seed of [0, 1, 2, 12345, 2 ** 31 - 1]) {
      const kinds = [0, 1, 2].map((k) => incidentOfCycle(seed, k * CYCLE_MS).kind);
      expect(new Set(kinds)).toEqual(new Set(INCIDENT_KINDS));
    }
  });

  it.each([
    ['before the stall', STALL_START_MS - 1, 0],
    ['at its start: the whole stall is left', STALL_START_MS, STALL_MS],
    ['half way', STALL_START_MS + STALL_MS / 2, STALL_MS / 2],
    ['after it', STALL_START_MS + STALL_MS, 0],
    ['in the next cycle too', CYCLE_MS + STALL_START_MS + 1_000, STALL_MS - 1_000],
  ])('the consumer stall: %s', (_, t, left) => {
    expect(conditionsAt(SEED, t).stallLeftMs).toBe(left);
  });

  it('the load stays between 0.6 and 1.4 and varies', () => {
    const loads = Array.from({ length: 200 }, (_, i) => conditionsAt(SEED, i * 10_000).load);
    expect(Math.min(...loads)).toBeGreaterThanOrEqual(0.6 - 1e-9);
    expect(Math.max(...loads)).toBeLessThanOrEqual(1.4 + 1e-9);
    expect(Math.max(...loads) - Math.min(...loads)).toBeGreaterThan(0.5);
  });

  it('is a function of seed and clock only', () => {
    for (const t of [0, 31_000, 250_000, 1_000_000]) expect(conditionsAt(99, t)).toEqual(conditionsAt(99, t));
  });
});

describe('behaviour', () => {
  const calm = behaviour({ load: 1, incident: undefined, stallLeftMs: 0 });
  const during = (kind: (typeof INCIDENT_KINDS)[number]) =>
    behaviour({ load: 1, incident: { kind, service: 'payment', startMs: 0, endMs: 1 }, stallLeftMs: 0 });

  it.each([
    ['payment-provider-outage', 'providerFailure'],
    ['payment-provider-outage', 'providerMs'],
    ['catalog-slow-queries', 'slowSearch'],
    ['catalog-slow-queries', 'searchTimeout'],
    ['catalog-slow-queries', 'catalogPoolWaitMs'],
    ['cart-redis-timeouts', 'redisTimeout'],
    ['cart-redis-timeouts', 'cartRedisMs'],
  ] as const)('%s raises %s', (kind, knob) => {
    expect(during(kind)[knob]).toBeGreaterThan(calm[knob]);
  });

  it('an incident leaves the other paths as they are', () => {
    expect(during('payment-provider-outage').slowSearch).toBe(calm.slowSearch);
    expect(during('cart-redis-timeouts').providerFailure).toBe(calm.providerFailure);
    expect(during('catalog-slow-queries').redisTimeout).toBe(calm.redisTimeout);
  });

  it('a busier spell makes orders wait longer in the topic', () => {
    expect(behaviour({ load: 1.4, incident: undefined, stallLeftMs: 0 }).queueWaitMs).toBeGreaterThan(calm.queueWaitMs);
  });
});
