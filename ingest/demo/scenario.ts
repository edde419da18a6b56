/**
 * How the shop behaves over time: a slow wave in load, and an incident every few minutes on one service. A
 * pure function of the seed and the time since the demo started, so it can be tested with a fake clock and two
 * runs with one seed agree.
 *
 *   cycle (5 min)   |--30 s calm--|------ 90 s incident ------|------------ 3 min calm ------------|
 *
 * The first incident starts 30 s after the demo does: a new user sees errors and a latency spike within a
 * minute, not after five. Incidents rotate through three kinds (which one first depends on the seed):
 *
 *   payment-provider-outage   the external provider answers 502 to ~40 % of charges and slowly to the rest:
 *                             payment, checkout and frontend fail on POST /checkout
 *   catalog-slow-queries      a missing index: the catalog's search query is slow most of the time and times
 *                             out sometimes (frontend 504s on GET /search), the DB pool saturates
 *   cart-redis-timeouts       Redis on the cart's path times out: cart 503s, slower checkouts
 *
 * Later in each cycle the fulfillment consumer group rebalances: for 20 s nothing is consumed, orders wait in
 * the topic and its lag (queue depth) climbs, then drains; no errors, just late orders.
 *
 * Outside incidents there is a steady trickle of the ordinary: card declines (402, not a server error), a
 * product that is not found (404), the odd provider 502, an occasional unhandled exception in the frontend, and
 * the catalog's slow search path (a few percent of searches take ~1 s).
 */
import type { ServiceName } from './topology.ts';

export type IncidentKind = 'payment-provider-outage' | 'catalog-slow-queries' | 'cart-redis-timeouts';

export const INCIDENT_KINDS: readonly IncidentKind[] = ['payment-provider-outage', 'catalog-slow-queries', 'cart-redis-timeouts'];

/** Where each incident starts: the service users would page about. */
export const INCIDENT_SERVICE: Readonly<Record<IncidentKind, ServiceName>> = {
  'payment-provider-outage': 'payment',
  'catalog-slow-queries': 'catalog',
  'cart-redis-timeouts': 'cart',
};

export const CYCLE_MS = 5 * 60_000;
export const INCIDENT_START_MS = 30_000;
export const INCIDENT_MS = 90_000;
/** The consumer group's stall (a rebalance), into each cycle, and how long it lasts. */
export const STALL_START_MS = 210_000;
export const STALL_MS = 20_000;
/** The load wave's period: busier and quieter spells, out of phase with the incidents. */
export const LOAD_PERIOD_MS = 17 * 60_000;

export interface Incident {
  kind: IncidentKind;
  service: ServiceName;
  /** Since the demo started. */
  startMs: number;
  endMs: number;
}

export interface Conditions {
  /** Multiplier on the configured request rate, 0.6…1.4. */
  load: number;
  incident: Incident | undefined;
  /** During the consumer group's stall: how long until it consumes again; else 0. */
  stallLeftMs: number;
}

/** The incident of the cycle `elapsedMs` falls in, whether or not it is on. */
export function incidentOfCycle(seed: number, elapsedMs: number): Incident {
  const cycle = Math.floor(Math.max(0, elapsedMs) / CYCLE_MS);
  const kind = INCIDENT_KINDS[((seed >>> 0) + cycle) % INCIDENT_KINDS.length]!;
  const startMs = cycle * CYCLE_MS + INCIDENT_START_MS;
  return { kind, service: INCIDENT_SERVICE[kind], startMs, endMs: startMs + INCIDENT_MS };
}

export function conditionsAt(seed: number, elapsedMs: number): Conditions {
  const t = Math.max(0, elapsedMs);
  const incident = incidentOfCycle(seed, t);
  const load = 1 + 0.4 * Math.sin((2 * Math.PI * t) / LOAD_PERIOD_MS + (seed % 7));
  const inCycle = t % CYCLE_MS;
  const stallLeftMs = inCycle >= STALL_START_MS && inCycle < STALL_START_MS + STALL_MS ? STALL_START_MS + STALL_MS - inCycle : 0;
  return { load, incident: t >= incident.startMs && t < incident.endMs ? incident : undefined, stallLeftMs };
}

const on = (c: Conditions, kind: IncidentKind) => c.incident?.kind === kind;

/**
 * The odds and latencies of every step that varies, under conditions `c`. Latencies are medians in ms (the
 * request plan draws a long-tailed value around them); probabilities are per call.
 */
export function behaviour(c: Conditions) {
  const outage = on(c, 'payment-provider-outage');
  const slowDb = on(c, 'catalog-slow-queries');
  const redis = on(c, 'cart-redis-timeouts');
  return {
    /** The payment provider answers 502. */
    providerFailure: outage ? 0.4 : 0.01,
    /** Median latency of the provider's charge call. */
    providerMs: outage ? 1400 : 180,
    /** The card is declined (402: the customer's problem, not an error of ours). */
    cardDeclined: 0.03,
    /** The catalog's search takes the slow path (a sequential scan). */
    slowSearch: slowDb ? 0.7 : 0.04,
    /** Median of a slow search query. */
    slowSearchMs: slowDb ? 2200 : 900,
    /** The slow query hits the 5 s statement timeout. */
    searchTimeout: slowDb ? 0.15 : 0,
    /** Other catalog queries wait for a pooled connection. */
    catalogPoolWaitMs: slowDb ? 120 : 0,
    /** A Redis call of the cart times out. */
    redisTimeout: redis ? 0.3 : 0.0005,
    /** Median Redis latency on the cart's path. */
    cartRedisMs: redis ? 40 : 0.6,
    /** The frontend throws an unhandled exception rendering a page. */
    frontendBug: 0.004,
    /** A product page for an id that does not exist. */
    productNotFound: 0.03,
    /** Median time an order waits in the Kafka topic: a busy spell builds a backlog in front of the consumer. */
    queueWaitMs: Math.round(15 * c.load ** 4),
    /** Added to the wait of an order sent while the consumer group stalls. */
    stallLeftMs: c.stallLeftMs,
  };
}

export type Behaviour = ReturnType<typeof behaviour>;
