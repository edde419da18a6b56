/**
 * The API contract is the schemas: these tests fail at type-check time (`npm run typecheck` covers them) when a
 * derived type stops following its schema, when the route handlers could return another shape, or when the
 * contract stops being importable by the browser bundle.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { KafkaPipelineStatus as LagMonitorSnapshot, WalPipelineStatus } from '#core/pipeline-status.ts';
import type {
  ErrorResponse,
  LogHistogramQuery,
  MetricAgg,
  MetricCatalogResponse,
  MetricSeriesQuery,
  MetricSeriesResponse,
  MetricType,
  PipelineResponse,
  ServicesQuery,
  ServicesResponse,
  TraceSearchQuery,
  TraceSummary,
} from './contract.ts';
import { AGGS, METRIC_TYPES } from './schemas/metrics.ts';
import type { Agg, MetricType as SqlMetricType } from './sql/metrics/catalogue.ts';
import type { SpanStatus } from './sql/traces.ts';

describe('types derived from the schemas', () => {
  it('a response type is its schema: required fields, enums, closed objects', () => {
    expectTypeOf<ServicesResponse>().toEqualTypeOf<{
      services: {
        serviceName: string;
        source: 'entry' | 'root';
        requests: number;
        requestRate: number;
        errors: number;
        errorRate: number;
        latencyNano: { p50: number; p95: number; p99: number };
        namespaces: string[];
        environments: string[];
      }[];
    }>();
    expectTypeOf<TraceSummary>().toEqualTypeOf<{
      traceId: string;
      rootServiceName: string;
      rootSpanName: string;
      startTimeUnixNano: string;
      startTime: string;
      durationNano: string;
      spanCount: number;
      errorCount: number;
      services: string[];
    }>();
    expectTypeOf<ErrorResponse>().toEqualTypeOf<{ error: { code: string; message: string } }>();
  });

  it('nullable fields and maps follow the schema', () => {
    expectTypeOf<MetricSeriesResponse['type']>().toEqualTypeOf<MetricType | null>();
    expectTypeOf<MetricSeriesResponse['agg']>().toEqualTypeOf<string | null>();
    expectTypeOf<MetricSeriesResponse['series'][number]>().toEqualTypeOf<{ labels: Record<string, string>; points: number[][] }>();
  });

  it('a query type is the validated query string: defaulted parameters are present, the others optional', () => {
    expectTypeOf<ServicesQuery>().toEqualTypeOf<{ start?: string; end?: string; namespace?: string; environment?: string; service?: string; limit: number }>();
    expectTypeOf<LogHistogramQuery['by']>().toEqualTypeOf<'severity' | undefined>();
    expectTypeOf<MetricSeriesQuery['name']>().toEqualTypeOf<string>();
    expectTypeOf<MetricSeriesQuery['groupBy']>().toEqualTypeOf<string[] | undefined>();
  });

  it('enumerations agree with the SQL layer', () => {
    expectTypeOf<MetricType>().toEqualTypeOf<SqlMetricType>();
    expectTypeOf<NonNullable<TraceSearchQuery['status']>>().toEqualTypeOf<SpanStatus>();
    expectTypeOf<Agg>().toExtend<MetricAgg>();
    expectTypeOf<Exclude<MetricAgg, Agg>>().toEqualTypeOf<'p50' | 'p90' | 'p95' | 'p99'>();
    expect([...METRIC_TYPES]).toEqual(['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary']);
    expect(AGGS).toContain('quantile');
  });

  it('the pipeline answer is the lag monitor snapshot, the WAL reading or the transport alone', () => {
    expectTypeOf<PipelineResponse>().toEqualTypeOf<LagMonitorSnapshot | WalPipelineStatus | { transport: 'kafka' | 'wal' }>();
    expectTypeOf<LagMonitorSnapshot['topics'][number]['partitions'][number]>().toEqualTypeOf<{
      partition: number;
      endOffset: string;
      committedOffset: string | null;
      lag: number;
    }>();
    expectTypeOf<LagMonitorSnapshot['updatedAt']>().toEqualTypeOf<string | null>();
  });
});

describe('route handlers typed by the contract', () => {
  it('refuse, at type-check time, a handler that returns another shape', async () => {
    const app = Fastify();
    app.get<{ Reply: { 200: MetricCatalogResponse } }>('/ok', () => ({ metrics: [] }));
    // @ts-expect-error: `labels` must be a list of keys
    app.get<{ Reply: { 200: MetricCatalogResponse } }>('/bad', () => ({ metrics: [{ name: 'm', type: 'gauge', unit: '', description: '', temporality: 'unspecified', monotonic: false, labels: 'ServiceName' }] }));
    // @ts-expect-error: `type` is one of the metric types
    app.get<{ Reply: { 200: MetricCatalogResponse } }>('/bad-type', () => ({ metrics: [{ name: 'm', type: 'counter', unit: '', description: '', temporality: 'unspecified', monotonic: false, labels: [] }] }));
    // @ts-expect-error: `services` is required
    app.get<{ Reply: { 200: ServicesResponse } }>('/missing', () => Promise.resolve({ servics: [] }));
    await app.close();
  });
});

describe('the contract module', () => {
  it('type-checks with browser settings: no node types, DOM library, bundler resolution', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = join(here, '..');
    const program = ts.createProgram([join(here, 'contract.ts')], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: [],
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true, // declaration files are the packages' business; our modules are checked in full
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
    // What the UI's type-check reads through the contract: the schema modules and json-schema-to-ts, nothing of the server.
    const ours = program
      .getSourceFiles()
      .map((f) => f.fileName)
      .filter((f) => !f.includes('/node_modules/'))
      .map((f) => f.slice(root.length + 1))
      .sort();
    expect(ours).toEqual([
      'ingest/core/pipeline-status.ts',
      'query/contract.ts',
      'query/schemas/common.ts',
      'query/schemas/logs.ts',
      'query/schemas/metrics.ts',
      'query/schemas/services.ts',
      'query/schemas/tail.ts',
      'query/schemas/traces.ts',
    ]);
    const packages = new Set(
      program
        .getSourceFiles()
        .map((f) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.fileName)?.[1])
        .filter((p) => p !== undefined),
    );
    expect([...packages].sort()).toEqual(['json-schema-to-ts', 'ts-algebra', 'typescript']);
    // A whole type-check: seconds on a quiet machine, several more on a busy CI runner. It checks types, not speed.
  }, 120_000);
});
