/**
 * Versioned schema migrations. A migration is a numbered list of idempotent statements (`IF NOT EXISTS`), so a
 * run cut short is simply run again. Never edit a released migration: add the next number.
 */
import { type DdlOptions, METRIC_KINDS, deduplicationDdl, kafkaLedgerDdl, logsDdl, metricDdl, traceIdTsDdl, tracesDdl } from './ddl.ts';

export interface Migration {
  version: number;
  name: string;
  statements(o: DdlOptions): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'otel_traces', statements: (o) => [...tracesDdl(o), ...traceIdTsDdl(o)] },
  { version: 2, name: 'otel_logs', statements: (o) => logsDdl(o) },
  { version: 3, name: 'otel_metrics', statements: (o) => METRIC_KINDS.flatMap((k) => metricDdl(o, k)) },
  { version: 4, name: 'kafka_exactly_once', statements: (o) => [...deduplicationDdl(o), ...kafkaLedgerDdl(o)] },
];
