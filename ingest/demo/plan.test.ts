import { describe, expect, it } from 'vitest';
import { type Step, extentMs, newOrderLog, planRequest, walk } from './plan.ts';
import { seeded } from './random.ts';
import { type Conditions, type IncidentKind, INCIDENT_SERVICE } from './scenario.ts';

const calm: Conditions = { load: 1, incident: undefined, stallLeftMs: 0 };
const during = (kind: IncidentKind): Conditions => ({ load: 1, incident: { kind, service: INCIDENT_SERVICE[kind], startMs: 0, endMs: 90_000 }, stallLeftMs: 0 });

function plans(c: Conditions, n: number, seed = 1): Step[] {
  const r = seeded(seed);
  const orders = newOrderLog();
  return Array.from({ length: n }, () => planRequest(r, c, orders));
}

const steps = (p: Step) => [...walk(p)].map((x) => x.step);
const route = (p: Step) => String(p.attributes['http.route']);
const errorShare = (ps: Step[]) => ps.filter((p) => p.error).length / Math.max(1, ps.length);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('planRequest', () => {
  it('gives the same requests for the same seed and conditions', () => {
    expect(plans(during('payment-provider-outage'), 50, 42)).toEqual(plans(during('payment-provider-outage'), 50, 42));
    expect(plans(calm, 50, 42)).not.toEqual(plans(calm, 50, 43));
  });

  it('a checkout crosses six services, with PostgreSQL, Redis, the provider and a Kafka producer/consumer pair', () => {
    const checkout = plans(calm, 400).find((p) => route(p) === '/checkout' && !p.error && p.attributes['http.response.status_code'] === 200)!;
    const all = steps(checkout);
    expect(new Set(all.map((s) => s.service))).toEqual(new Set(['frontend', 'checkout', 'cart', 'payment', 'fulfillment', 'notification']));
    const pg = all.find((s) => s.attributes['db.system'] === 'postgresql')!;
    expect(pg.kind).toBe('client');
    expect(pg.attributes['db.query.text']).toBe(pg.attributes['db.statement']);
    expect(all.some((s) => s.attributes['db.system'] === 'redis')).toBe(true);
    expect(all.find((s) => s.attributes['server.address'] === 'api.payment-provider.example')).toMatchObject({ kind: 'client', service: 'payment' });
    const producer = all.find((s) => s.kind === 'producer')!;
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' });
    // The consumer is the producer's child: the message's headers carry the producer's context.
    expect(producer.children).toEqual([expect.objectContaining({ kind: 'consumer', service: 'fulfillment', attributes: expect.objectContaining({ 'messaging.system': 'kafka' }) })]);
    expect(extentMs(checkout)).toBeGreaterThan(checkout.durationMs);
  });

  it('every HTTP client span between our services wraps exactly one server span of the callee', () => {
    for (const p of plans(calm, 300)) {
      for (const s of steps(p)) {
        if (s.kind !== 'client' || s.attributes['http.request.method'] === undefined) continue;
        const external = s.attributes['server.address'] === 'api.payment-provider.example';
        expect(s.children.map((c) => c.kind)).toEqual(external ? [] : ['server']);
        if (!external) expect(s.children[0]!.service).not.toBe(s.service);
      }
    }
  });

  it('children start and end inside their parent, except the consumer that reads the topic later', () => {
    for (const p of plans(during('catalog-slow-queries'), 300)) {
      for (const { step, parent } of walk(p)) {
        expect(step.durationMs).toBeGreaterThanOrEqual(0);
        if (!parent || step.kind === 'consumer') continue;
        expect(step.offsetMs).toBeGreaterThanOrEqual(0);
        expect(step.offsetMs + step.durationMs).toBeLessThanOrEqual(parent.durationMs + 1e-6);
      }
    }
  });

  it('every server and consumer span logs, and every log line falls within its span', () => {
    for (const p of plans(calm, 200)) {
      for (const s of steps(p)) {
        if (s.kind === 'server' || s.kind === 'consumer') expect(s.logs.length).toBeGreaterThan(0);
        for (const l of s.logs) expect(l.atMs).toBeLessThanOrEqual(s.durationMs);
      }
    }
  });

  it('an error is an error all the way up: a failed root names the cause, and its access log is ERROR', () => {
    for (const p of plans(during('payment-provider-outage'), 500).filter((x) => x.error)) {
      expect(Number(p.attributes['http.response.status_code'])).toBeGreaterThanOrEqual(500);
      expect(p.logs.at(-1)!.severity).toBe('ERROR');
      expect(p.logs.at(-1)!.attributes['exception.message']).toBe(p.error!.message);
    }
  });

  it('4xx answers are no server errors (declined cards, unknown products)', () => {
    const fourxx = plans(calm, 2000).filter((p) => Number(p.attributes['http.response.status_code']) >= 400 && Number(p.attributes['http.response.status_code']) < 500);
    expect(fourxx.length).toBeGreaterThan(0);
    for (const p of fourxx) expect(p.error).toBeUndefined();
  });

  // Figures over 2,000 requests with one seed: deterministic, so exact bounds are safe.
  it.each([
    ['calm', calm, '/checkout', 0, 0.08],
    ['payment-provider-outage', during('payment-provider-outage'), '/checkout', 0.25, 0.6],
    ['payment-provider-outage', during('payment-provider-outage'), '/search', 0, 0.01],
    ['catalog-slow-queries', during('catalog-slow-queries'), '/search', 0.05, 0.25],
    ['cart-redis-timeouts', during('cart-redis-timeouts'), '/cart', 0.15, 0.5],
    ['calm', calm, '/cart', 0, 0.01],
  ] as const)('%s: share of failed %s requests in [%d, %d]', (_, c, r, lo, hi) => {
    const share = errorShare(plans(c, 2000).filter((p) => route(p) === r));
    expect(share).toBeGreaterThanOrEqual(lo);
    expect(share).toBeLessThanOrEqual(hi);
  });

  it('slow queries make searches slow: the median search is ~1 s during the incident, milliseconds otherwise', () => {
    const searchMs = (c: Conditions) => median(plans(c, 2000).filter((p) => route(p) === '/search').map((p) => p.durationMs));
    expect(searchMs(calm)).toBeLessThan(50);
    expect(searchMs(during('catalog-slow-queries'))).toBeGreaterThan(1000);
  });

  it('the slow search path shows in calm times too, with a WARN log naming the query', () => {
    const slow = plans(calm, 2000).filter((p) => route(p) === '/search' && p.durationMs > 300);
    expect(slow.length).toBeGreaterThan(0);
    const warn = steps(slow[0]!).flatMap((s) => s.logs).find((l) => l.severity === 'WARN')!;
    expect(warn.body).toMatch(/slow query/);
    expect(warn.attributes['db.query.text']).toMatch(/ILIKE/);
  });

  it('during a consumer stall orders wait in the topic until it ends', () => {
    const stalled: Conditions = { ...calm, stallLeftMs: 15_000 };
    const consumers = plans(stalled, 500).flatMap(steps).filter((s) => s.kind === 'consumer');
    expect(consumers.length).toBeGreaterThan(0);
    for (const c of consumers) expect(c.offsetMs).toBeGreaterThanOrEqual(15_000);
  });

  it('order offsets grow per partition', () => {
    const offsets = new Map<string, number[]>();
    for (const s of plans(calm, 1000).flatMap(steps).filter((x) => x.kind === 'producer')) {
      const part = String(s.attributes['messaging.destination.partition.id']);
      offsets.set(part, [...(offsets.get(part) ?? []), Number(s.attributes['messaging.kafka.offset'])]);
    }
    for (const list of offsets.values()) expect(list).toEqual(list.map((_, i) => i));
  });
});
