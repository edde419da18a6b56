/**
 * Versioned schema migrations. A migration is a numbered list of idempotent statements (`IF NOT EXISTS`), so a
 * run cut short is simply run again.
 *
 * A released migration is immutable; changes come as new numbered migrations. An install that already ran
 * migration N never runs it again, so editing it (or a DDL builder it calls) would make new installs differ from
 * existing ones without either noticing. Three guards keep it so:
 * - `migrations.test.ts` pins the checksum of each migration's SQL (`checksums.ts`, rendered for a single node
 *   and for a cluster): an edit that changes what a migration runs fails it, naming the migration;
 * - the ledger records the checksum each install applied, and `migrate` refuses to start when a recorded one
 *   differs from the code's (as Flyway's validate does);
 * - migrations name the tables they touch, never "every table in the registry", which would grow with it.
 *
 * Retention (`--<signal>-ttl-days`) is a setting, not a migration: `migrate` reconciles each table's TTL at start.
 */
import { TABLES } from '../tables.ts';
import { type DdlOptions, deduplicationDdl, kafkaLedgerDdl, logsDdl, metricDdl, traceIdTsDdl, tracesDdl } from './ddl.ts';

export interface Migration {
  version: number;
  name: string;
  statements(o: DdlOptions): string[];
}

/** The metric tables migration 3 creates, in its order. */
const METRICS_OF_3 = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const;

/** The tables that existed when migration 4 set their deduplication windows. */
const DEDUPLICATED_BY_4 = [
  TABLES.traces,
  TABLES.traceIdTs,
  TABLES.logs,
  TABLES.metricsGauge,
  TABLES.metricsSum,
  TABLES.metricsHistogram,
  TABLES.metricsExponentialHistogram,
  TABLES.metricsSummary,
];

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'otel_traces', statements: (o) => [...tracesDdl(o), ...traceIdTsDdl(o)] },
  { version: 2, name: 'otel_logs', statements: (o) => logsDdl(o) },
  { version: 3, name: 'otel_metrics', statements: (o) => METRICS_OF_3.flatMap((k) => metricDdl(o, k)) },
  { version: 4, name: 'kafka_exactly_once', statements: (o) => [...deduplicationDdl(o, DEDUPLICATED_BY_4), ...kafkaLedgerDdl(o)] },
];
