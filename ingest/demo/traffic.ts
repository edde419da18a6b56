/**
 * Turns request plans (plan.ts) into telemetry through the pods' SDKs (sdk.ts), as instrumented services would
 * produce it:
 *
 * - a span per step, started by the tracer of the pod that runs it. Entry steps (server, consumer) land on a
 *   random pod of their service, as a Kubernetes Service balances; the rest stay on their caller's pod.
 * - across services the parent context travels as it does on the wire: the caller's W3C `traceparent` is
 *   injected into a carrier (HTTP headers, Kafka message headers) and the callee extracts it, so a trace spans
 *   services; client spans pair with server spans, the producer with the consumer.
 * - log records through the pod's SDK logger with the span's context, so they carry its trace and span ids.
 * - metrics recorded from the same steps: http.server.request.duration, http.client.request.duration and
 *   db.client.operation.duration histograms (seconds, the semantic conventions' buckets), messaging counters
 *   and a process-duration histogram, plus observable gauges: the `orders` consumer lag (queue depth), the
 *   database connection pool in use, each pod's memory.
 *
 * A request is planned when it arrives and emitted when its last step ends (timestamps are the plan's, in real
 * time), so spans arrive in the order a live system sends them. Pending requests are bounded (MAX_PENDING, the
 * surplus is counted as dropped); `flushPending()` emits the rest at shutdown.
 */
import { type Attributes, type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { Counter, Histogram } from '@opentelemetry/api';
import { W3CTraceContextPropagator, millisToHrTime } from '@opentelemetry/core';
import { type OrderLog, type Severity, type Step, type StepKind, ORDERS_TOPIC, extentMs, newOrderLog, planRequest, walk } from './plan.ts';
import type { Random } from './random.ts';
import { conditionsAt } from './scenario.ts';
import type { PodSdk } from './sdk.ts';
import type { ServiceName } from './topology.ts';

/** Requests planned but not yet emitted (each waits for its last step to end); beyond it arrivals are dropped. */
export const MAX_PENDING = 5000;

/** The semantic conventions' advised buckets for HTTP and database durations, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const KIND: Readonly<Record<StepKind, SpanKind>> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

const SEVERITY: Readonly<Record<Severity, SeverityNumber>> = {
  DEBUG: SeverityNumber.DEBUG,
  INFO: SeverityNumber.INFO,
  WARN: SeverityNumber.WARN,
  ERROR: SeverityNumber.ERROR,
};

interface Instruments {
  serverDuration: Histogram;
  clientDuration: Histogram;
  dbDuration: Histogram;
  processDuration: Histogram;
  sent: Counter;
  consumed: Counter;
  orders: Counter;
}

export interface TrafficStats {
  requests: number;
  /** Requests whose root span is an error. */
  failed: number;
  spans: number;
  logs: number;
  /** Arrivals not planned because MAX_PENDING requests were waiting. */
  dropped: number;
}

const pick = <T>(r: Random, items: readonly T[]) => items[Math.floor(r() * items.length)]!;

export class Traffic {
  readonly stats: TrafficStats = { requests: 0, failed: 0, spans: 0, logs: 0, dropped: 0 };
  readonly #sdks: ReadonlyMap<ServiceName, readonly PodSdk[]>;
  readonly #instruments = new Map<PodSdk, Instruments>();
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #orders: OrderLog = newOrderLog();
  /** Messages sent to `orders` and when the consumer takes each (for the lag gauge); pruned as they are taken. */
  #inTopic: { sentMs: number; takenMs: number }[] = [];
  readonly #pending = new Map<NodeJS.Timeout, () => void>();

  constructor(
    sdks: readonly PodSdk[],
    private readonly r: Random,
    private readonly seed: number,
    private readonly startedMs: number,
  ) {
    const byService = new Map<ServiceName, PodSdk[]>();
    for (const sdk of sdks) {
      byService.set(sdk.pod.service, [...(byService.get(sdk.pod.service) ?? []), sdk]);
      this.#instruments.set(sdk, this.#instrument(sdk));
    }
    this.#sdks = byService;
  }

  /** Plans one request arriving at `nowMs` and schedules its telemetry for when it ends. */
  arrive(nowMs: number): void {
    if (this.#pending.size >= MAX_PENDING) {
      this.stats.dropped++;
      return;
    }
    const plan = planRequest(this.r, conditionsAt(this.seed, nowMs - this.startedMs), this.#orders);
    for (const { step, parent } of walk(plan)) {
      if (step.kind === 'consumer' && parent) {
        // The consumer's offset is from the producer's start, the message's send time.
        const sentMs = nowMs + offsetOf(plan, parent);
        this.#inTopic.push({ sentMs, takenMs: sentMs + step.offsetMs });
      }
    }
    if (this.#inTopic.length > 10_000) this.#inTopic.splice(0, this.#inTopic.length - 10_000);
    const emit = () => {
      this.#pending.delete(timer);
      this.#emitRequest(plan, nowMs);
    };
    const timer = setTimeout(emit, Math.max(0, extentMs(plan)));
    this.#pending.set(timer, emit);
  }

  /** Emits every request still waiting for its end (at shutdown: some timestamps are then slightly ahead). */
  flushPending(): void {
    for (const [timer, emit] of [...this.#pending]) {
      clearTimeout(timer);
      emit();
    }
  }

  /** Messages in `orders` not yet taken by the consumer group at `nowMs`. */
  queueDepth(nowMs: number): number {
    this.#inTopic = this.#inTopic.filter((m) => m.takenMs > nowMs);
    return this.#inTopic.filter((m) => m.sentMs <= nowMs).length;
  }

  #emitRequest(plan: Step, startMs: number): void {
    this.stats.requests++;
    if (plan.error) this.stats.failed++;
    this.#emit(plan, ROOT_CONTEXT, startMs, undefined);
  }

  #emit(step: Step, parentCtx: Context, startMs: number, callerPod: PodSdk | undefined): void {
    const sdk = callerPod?.pod.service === step.service ? callerPod : pick(this.r, this.#sdks.get(step.service) ?? []);
    const span = sdk.tracer.startSpan(step.name, { kind: KIND[step.kind], startTime: millisToHrTime(startMs), attributes: step.attributes }, parentCtx);
    this.stats.spans++;
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    const endMs = startMs + step.durationMs;
    if (step.error) this.#fail(span, step.error, endMs);
    for (const l of step.logs) {
      sdk.logger.emit({
        timestamp: millisToHrTime(startMs + l.atMs),
        observedTimestamp: millisToHrTime(startMs + l.atMs),
        severityNumber: SEVERITY[l.severity],
        severityText: l.severity,
        body: l.body,
        attributes: l.attributes,
        context: ctx,
      });
      this.stats.logs++;
    }
    for (const child of step.children) {
      const childStart = startMs + child.offsetMs;
      if (child.service === step.service) this.#emit(child, ctx, childStart, sdk);
      else this.#emit(child, this.#acrossTheWire(ctx), childStart, undefined);
    }
    this.#record(this.#instruments.get(sdk)!, step);
    span.end(millisToHrTime(endMs));
  }

  /** What a callee sees of its caller's context: the W3C headers the caller's instrumentation injects. */
  #acrossTheWire(ctx: Context): Context {
    const headers: Record<string, string> = {};
    this.#propagator.inject(ctx, headers, defaultTextMapSetter);
    return this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  }

  #fail(span: Span, error: NonNullable<Step['error']>, atMs: number): void {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    span.recordException({ name: error.type, message: error.message, ...(error.stack !== undefined ? { stack: error.stack } : {}) }, millisToHrTime(atMs));
  }

  #record(m: Instruments, step: Step): void {
    const a = step.attributes;
    const seconds = step.durationMs / 1000;
    const only = (...keys: string[]): Attributes => Object.fromEntries(keys.filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));
    if (step.kind === 'server') {
      m.serverDuration.record(seconds, only('http.request.method', 'http.route', 'http.response.status_code', 'url.scheme', 'error.type'));
      if (step.service === 'checkout' && a['http.response.status_code'] === 200) m.orders.add(1, { 'order.status': 'placed' });
    } else if (step.kind === 'client' && a['db.system'] !== undefined) {
      m.dbDuration.record(seconds, only('db.system.name', 'db.operation.name', 'db.collection.name', 'server.address', 'error.type'));
    } else if (step.kind === 'client' && a['http.request.method'] !== undefined) {
      m.clientDuration.record(seconds, only('http.request.method', 'server.address', 'server.port', 'http.response.status_code', 'error.type'));
    } else if (step.kind === 'producer') {
      m.sent.add(1, only('messaging.system', 'messaging.destination.name', 'messaging.operation.name'));
    } else if (step.kind === 'consumer') {
      m.consumed.add(1, only('messaging.system', 'messaging.destination.name', 'messaging.consumer.group.name', 'messaging.operation.name'));
      m.processDuration.record(seconds, only('messaging.system', 'messaging.destination.name', 'messaging.consumer.group.name'));
    }
  }

  #instrument(sdk: PodSdk): Instruments {
    const meter = sdk.meter;
    const histogram = (name: string, description: string) =>
      meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
    const service = sdk.pod.service;
    if (service === 'fulfillment') {
      meter
        .createObservableGauge('messaging.kafka.consumer.lag', { unit: '{message}', description: 'Messages of the topic not yet processed by the consumer group (queue depth).' })
        .addCallback((o) => o.observe(this.queueDepth(Date.now()), { 'messaging.system': 'kafka', 'messaging.destination.name': ORDERS_TOPIC, 'messaging.consumer.group.name': 'fulfillment' }));
    }
    if (service === 'catalog' || service === 'checkout' || service === 'fulfillment') {
      // Connections in use follow the load, and saturate while the catalog's queries are slow.
      meter
        .createObservableUpDownCounter('db.client.connection.count', { unit: '{connection}', description: 'Connections of the pool, by state.' })
        .addCallback((o) => {
          const c = conditionsAt(this.seed, Date.now() - this.startedMs);
          const used = service === 'catalog' && c.incident?.kind === 'catalog-slow-queries' ? 20 : Math.min(20, Math.round(2 + 4 * c.load * this.r()));
          const pool = { 'db.system.name': 'postgresql', 'db.client.connection.pool.name': `${service}-pg` };
          o.observe(used, { ...pool, 'db.client.connection.state': 'used' });
          o.observe(20 - used, { ...pool, 'db.client.connection.state': 'idle' });
        });
    }
    const baseMiB = 90 + Math.floor(this.r() * 60);
    meter
      .createObservableGauge('process.memory.usage', { unit: 'By', description: 'Resident memory of the pod\'s process.' })
      .addCallback((o) => o.observe(Math.round((baseMiB + 12 * Math.sin(Date.now() / 90_000) + 4 * this.r()) * 1024 * 1024)));
    return {
      serverDuration: histogram('http.server.request.duration', 'Duration of HTTP server requests.'),
      clientDuration: histogram('http.client.request.duration', 'Duration of HTTP client requests.'),
      dbDuration: histogram('db.client.operation.duration', 'Duration of database client operations.'),
      processDuration: histogram('messaging.process.duration', 'Duration of processing one message.'),
      sent: meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Messages a producer sent.' }),
      consumed: meter.createCounter('messaging.client.consumed.messages', { unit: '{message}', description: 'Messages a consumer delivered to the application.' }),
      orders: meter.createCounter('shop.orders', { unit: '{order}', description: 'Orders placed.' }),
    };
  }
}

/** Start of `target` after the root's start. */
function offsetOf(root: Step, target: Step): number {
  const find = (s: Step, at: number): number | undefined => {
    if (s === target) return at;
    for (const c of s.children) {
      const f = find(c, at + c.offsetMs);
      if (f !== undefined) return f;
    }
    return undefined;
  };
  return find(root, 0) ?? 0;
}
