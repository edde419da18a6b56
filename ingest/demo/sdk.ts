/**
 * The OpenTelemetry SDK of one simulated pod, set up as an application would: a tracer, a logger and a meter
 * provider, each with the pod's Resource and an OTLP/HTTP protobuf exporter (the exporters apps ship with),
 * spans and logs through batch processors at the SDK's defaults. Nothing is registered globally: fourteen
 * pods live in one process (and, with `crowsnest start --demo`, beside the platform), so each keeps its own
 * providers and parent contexts are passed explicitly.
 *
 * One departure from the defaults: metrics are exported every 10 s instead of 60 s, so a new user sees charts
 * within a minute of starting the demo.
 *
 * Every exporter is wrapped to count what it sent and what failed (ExportStats): the SDK itself only reports
 * failures through its diagnostic logger, which a process hosting the platform must not take over globally.
 */
import type { Logger as ApiLogger } from '@opentelemetry/api-logs';
import type { Meter, Tracer } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Pod } from './topology.ts';

export const METRIC_EXPORT_INTERVAL_MS = 10_000;
const SCOPE = 'crowsnest-demo';
const SCOPE_VERSION = '1.0.0';

export interface ExportStats {
  /** Export calls that succeeded / failed, per signal. */
  ok: { traces: number; logs: number; metrics: number };
  failed: { traces: number; logs: number; metrics: number };
  /** The last failure's message, for the log line that reports it. */
  lastError: string | undefined;
}

export function newExportStats(): ExportStats {
  return { ok: { traces: 0, logs: 0, metrics: 0 }, failed: { traces: 0, logs: 0, metrics: 0 }, lastError: undefined };
}

type Signal = keyof ExportStats['ok'];

/** The result callback of `inner.export`, counted into `stats`. */
function counted(stats: ExportStats, signal: Signal, done: (r: ExportResult) => void): (r: ExportResult) => void {
  return (result) => {
    if (result.code === ExportResultCode.SUCCESS) stats.ok[signal]++;
    else {
      stats.failed[signal]++;
      stats.lastError = `${signal}: ${result.error?.message ?? 'export failed'}`;
    }
    done(result);
  };
}

class CountedSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly stats: ExportStats,
  ) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.inner.export(spans, counted(this.stats, 'traces', done));
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

class CountedLogExporter implements LogRecordExporter {
  constructor(
    private readonly inner: LogRecordExporter,
    private readonly stats: ExportStats,
  ) {}
  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.inner.export(logs, counted(this.stats, 'logs', done));
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

class CountedMetricExporter implements PushMetricExporter {
  constructor(
    private readonly inner: OTLPMetricExporter,
    private readonly stats: ExportStats,
  ) {}
  export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
    this.inner.export(metrics, counted(this.stats, 'metrics', done));
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  // The reader asks the exporter which temporality and aggregation it wants: the OTLP exporter's own answers.
  selectAggregationTemporality = (...a: Parameters<OTLPMetricExporter['selectAggregationTemporality']>) => this.inner.selectAggregationTemporality(...a);
  selectAggregation = (...a: Parameters<OTLPMetricExporter['selectAggregation']>) => this.inner.selectAggregation(...a);
}

export interface PodSdk {
  pod: Pod;
  tracer: Tracer;
  logger: ApiLogger;
  meter: Meter;
  /** Exports what is buffered, then stops the providers (spans and logs first, metrics last). */
  shutdown(): Promise<void>;
}

export interface SdkOptions {
  /** OTLP/HTTP base URL, without the /v1/<signal> path. */
  endpoint: string;
  /** Request headers, e.g. the bearer token. */
  headers: Readonly<Record<string, string>>;
  stats: ExportStats;
  /** @default METRIC_EXPORT_INTERVAL_MS */
  metricIntervalMs?: number;
}

export function createPodSdk(pod: Pod, opts: SdkOptions): PodSdk {
  const resource = defaultResource().merge(resourceFromAttributes(pod.resource));
  const base = opts.endpoint.replace(/\/+$/, '');
  const headers = { ...opts.headers };
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: new CountedSpanExporter(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers }), opts.stats) })],
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new CountedLogExporter(new OTLPLogExporter({ url: `${base}/v1/logs`, headers }), opts.stats) })],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new CountedMetricExporter(new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers }), opts.stats),
        exportIntervalMillis: opts.metricIntervalMs ?? METRIC_EXPORT_INTERVAL_MS,
      }),
    ],
  });
  return {
    pod,
    tracer: tracerProvider.getTracer(SCOPE, SCOPE_VERSION),
    logger: loggerProvider.getLogger(SCOPE, SCOPE_VERSION),
    meter: meterProvider.getMeter(SCOPE, SCOPE_VERSION),
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), loggerProvider.shutdown()]);
      await meterProvider.shutdown().catch(() => undefined);
    },
  };
}
