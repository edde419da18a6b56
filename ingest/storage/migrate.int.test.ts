import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '#core/log.ts';
import { createStore, type Store } from './client.ts';
import { migrate } from './migrate.ts';
import { MigrationChecksumError, migrationChecksum } from './schema/checksums.ts';
import { type DdlOptions, databaseDdl, migrationsChecksumDdl, migrationsTableDdl } from './schema/ddl.ts';
import { MIGRATIONS } from './schema/migrations.ts';
import { ident, param, sql, unsafeRaw } from './sql.ts';

const dir = mkdtempSync(join(tmpdir(), 'crowsnest-migrate-'));
let store: Store;
const base: DdlOptions = { database: 'otel_mig_test', ttlDays: { traces: 7, logs: 7, metrics: 30 } };
const log = silentLogger();

beforeAll(() => {
  store = createStore({ dataDir: dir, database: base.database });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function columns(table: string): Promise<Record<string, string>> {
  const rows = await store.rows<{ name: string; type: string }>(
    sql`SELECT name, type FROM system.columns WHERE database = ${param('String', base.database)} AND table = ${param('String', table)} AND default_kind != 'MATERIALIZED' ORDER BY position`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.type]));
}

describe('migrate', () => {
  it('creates every exporter table once and is a no-op the second time', async () => {
    const first = await migrate(store, base, log);
    expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
    const second = await migrate(store, base, log);
    expect(second.applied).toEqual([]);
    const tables = await store.rows<{ name: string }>(
      sql`SELECT name FROM system.tables WHERE database = ${param('String', base.database)} ORDER BY name`,
    );
    expect(tables.map((t) => t.name)).toEqual([
      'crowsnest_kafka_batches',
      'crowsnest_migrations',
      'otel_logs',
      'otel_metrics_exponential_histogram',
      'otel_metrics_gauge',
      'otel_metrics_histogram',
      'otel_metrics_sum',
      'otel_metrics_summary',
      'otel_traces',
      'otel_traces_trace_id_ts',
      'otel_traces_trace_id_ts_mv',
    ]);
  });

  it('keeps the exporter column names and types', async () => {
    const traces = await columns('otel_traces');
    expect(traces).toMatchObject({
      Timestamp: 'DateTime64(9)',
      TraceId: 'String',
      SpanKind: 'LowCardinality(String)',
      ResourceAttributes: 'Map(LowCardinality(String), String)',
      Duration: 'UInt64',
      'Events.Timestamp': 'Array(DateTime64(9))',
      'Links.Attributes': 'Array(Map(LowCardinality(String), String))',
    });
    const logs = await columns('otel_logs');
    expect(Object.keys(logs)).toEqual([
      'Timestamp', 'TraceId', 'SpanId', 'TraceFlags', 'SeverityText', 'SeverityNumber', 'ServiceName', 'Body',
      'ResourceSchemaUrl', 'ResourceAttributes', 'ScopeSchemaUrl', 'ScopeName', 'ScopeVersion', 'ScopeAttributes',
      'LogAttributes', 'EventName',
    ]);
    const hist = await columns('otel_metrics_histogram');
    expect(hist).toMatchObject({ TimeUnix: 'DateTime64(9)', BucketCounts: 'Array(UInt64)', ExplicitBounds: 'Array(Float64)', Count: 'UInt64' });
    const sum = await columns('otel_metrics_sum');
    expect(sum).toMatchObject({ IsMonotonic: 'Bool', AggregationTemporality: 'Int32' });
  });

  it('rewrites the TTL when retention changes, and removes it for 0 days', async () => {
    await migrate(store, { ...base, ttlDays: { traces: 3, logs: 0, metrics: 30 } }, log);
    const rows = await store.rows<{ name: string; engine_full: string }>(
      sql`SELECT name, engine_full FROM system.tables WHERE database = ${param('String', base.database)} AND name IN ('otel_traces', 'otel_logs', 'otel_metrics_sum')`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.name, r.engine_full]));
    expect(by['otel_traces']).toContain('TTL toDateTime(Timestamp) + toIntervalDay(3)');
    expect(by['otel_logs']).not.toContain('TTL');
    expect(by['otel_metrics_sum']).toContain('TTL toDateTime(TimeUnix) + toIntervalDay(30)');
  });

  it('cluster mode: every statement parses with the real ClickHouse parser', async () => {
    const o: DdlOptions = { ...base, cluster: 'prod' };
    const statements = [databaseDdl(o), ...migrationsTableDdl(o), ...MIGRATIONS.flatMap((m) => m.statements(o))];
    expect(statements).toHaveLength(30); // database, ledger ×2, traces ×5, logs ×2, metrics ×10, dedup ×8, kafka ledger ×2
    for (const stmt of statements) {
      const [row] = await store.rows<{ f: string }>(sql`SELECT formatQuery(${param('String', stmt)}) AS f`);
      expect(row!.f).toContain('ON CLUSTER prod');
    }
    for (const stmt of migrationsChecksumDdl(o)) {
      const [row] = await store.rows<{ f: string }>(sql`SELECT formatQuery(${param('String', stmt)}) AS f`);
      expect(row!.f).toContain('ON CLUSTER prod');
    }
    const joined = statements.join('\n');
    expect(joined).toContain('ReplicatedMergeTree(');
    expect(joined).toContain('ENGINE = Distributed(`prod`, `otel_mig_test`, `otel_traces_local`, cityHash64(TraceId))');
  });

  it('records each applied migration with the checksum of its SQL', async () => {
    const rows = await store.rows<{ version: number; checksum: string }>(
      sql`SELECT version, checksum FROM ${ident(base.database)}.crowsnest_migrations FINAL ORDER BY version`,
    );
    expect(rows.map((r) => [Number(r.version), r.checksum])).toEqual(MIGRATIONS.map((m) => [m.version, migrationChecksum(m)]));
  });

  it('an install from before checksums: adds the column, records the code\'s checksums, then refuses an edited migration', async () => {
    // Arrange: the ledger and tables exactly as the previous version left them (no checksum column).
    const o: DdlOptions = { ...base, database: 'otel_mig_legacy' };
    const ledger = sql`${ident(o.database)}.crowsnest_migrations`;
    await store.command(unsafeRaw(databaseDdl(o)));
    for (const stmt of migrationsTableDdl(o)) await store.command(unsafeRaw(stmt));
    for (const m of MIGRATIONS) {
      for (const stmt of m.statements(o)) await store.command(unsafeRaw(stmt));
      await store.command(sql`INSERT INTO ${ledger} (version, name) VALUES (${param('UInt32', m.version)}, ${param('String', m.name)})`);
    }

    expect((await migrate(store, o, log)).applied).toEqual([]);
    const recorded = await store.rows<{ version: number; checksum: string }>(
      sql`SELECT version, checksum FROM ${ledger} WHERE checksum != '' ORDER BY version`,
    );
    expect(recorded.map((r) => [Number(r.version), r.checksum])).toEqual(MIGRATIONS.map((m) => [m.version, migrationChecksum(m)]));
    expect((await migrate(store, o, log)).applied).toEqual([]);

    // An install that ran another migration 2 than this code's (its builder was edited after release).
    await store.command(sql`INSERT INTO ${ledger} (version, name, checksum) VALUES (2, 'otel_logs', ${param('String', 'e'.repeat(64))})`);
    const refused = migrate(store, o, log);
    await expect(refused).rejects.toThrow(MigrationChecksumError);
    await expect(refused).rejects.toThrow(/migration 2 \(otel_logs\) was applied to database otel_mig_legacy with checksum e{64}/);
  });
});
