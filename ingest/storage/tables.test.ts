import { describe, expect, it } from 'vitest';
import { DATA_TABLES, METRIC_TYPES, TABLES, WRITER_TABLES, metricTable, storageName } from './tables.ts';

describe('table registry', () => {
  it('declares each name once, each a plain identifier', () => {
    const names = Object.values(TABLES).map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z_][a-z0-9_]*$/);
  });

  it('lists the tables writers insert into, and every table that holds rows, in registry order', () => {
    expect(WRITER_TABLES).toEqual([
      'otel_traces',
      'otel_logs',
      'otel_metrics_gauge',
      'otel_metrics_sum',
      'otel_metrics_histogram',
      'otel_metrics_exponential_histogram',
      'otel_metrics_summary',
    ]);
    expect(DATA_TABLES.map((t) => t.name)).toEqual(['otel_traces', 'otel_traces_trace_id_ts', ...WRITER_TABLES.slice(1)]);
  });

  it('stores each metric type in otel_metrics_<type>', () => {
    for (const type of METRIC_TYPES) expect(metricTable(type).name).toBe(`otel_metrics_${type}`);
  });

  it('names the table holding the rows: <name>_local in cluster mode; a view after its local target', () => {
    expect(storageName(TABLES.traces, undefined)).toBe('otel_traces');
    expect(storageName(TABLES.traces, 'prod')).toBe('otel_traces_local');
    expect(storageName(TABLES.kafkaBatches, 'prod')).toBe('crowsnest_kafka_batches_local');
    expect(storageName(TABLES.traceIdTsView, undefined)).toBe('otel_traces_trace_id_ts_mv');
    expect(storageName(TABLES.traceIdTsView, 'prod')).toBe('otel_traces_trace_id_ts_local_mv');
  });
});
