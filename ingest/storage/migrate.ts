/**
 * Brings the database to the newest schema at start: creates the database and the migrations ledger, applies
 * each migration not yet recorded, then makes each table's TTL match the configured retention.
 */
import type { Logger } from 'pino';
import type { Store } from './client.ts';
import { type DdlOptions, METRIC_KINDS, databaseDdl, migrationsTableDdl, storageTable } from './schema/ddl.ts';
import { MIGRATIONS } from './schema/migrations.ts';
import { ident, param, sql, unsafeRaw } from './sql.ts';

/** Tables whose TTL follows a retention option, with the time expression the TTL is written on. */
const RETENTION: { table: string; signal: keyof DdlOptions['ttlDays']; timeExpr: string }[] = [
  { table: 'otel_traces', signal: 'traces', timeExpr: 'toDateTime(Timestamp)' },
  { table: 'otel_traces_trace_id_ts', signal: 'traces', timeExpr: 'Start' },
  { table: 'otel_logs', signal: 'logs', timeExpr: 'toDateTime(Timestamp)' },
  ...METRIC_KINDS.map((k) => ({
    table: `otel_metrics_${k}`,
    signal: 'metrics' as const,
    timeExpr: 'toDateTime(TimeUnix)',
  })),
];

export async function migrate(store: Store, o: DdlOptions, log: Logger): Promise<{ applied: number[] }> {
  await store.command(unsafeRaw(databaseDdl(o)));
  for (const stmt of migrationsTableDdl(o)) await store.command(unsafeRaw(stmt));
  const done = new Set(
    (await store.rows<{ version: number }>(sql`SELECT DISTINCT version FROM ${ident(o.database)}.crowsnest_migrations`)).map((r) =>
      Number(r.version),
    ),
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    const started = Date.now();
    for (const stmt of m.statements(o)) await store.command(unsafeRaw(stmt));
    await store.command(
      sql`INSERT INTO ${ident(o.database)}.crowsnest_migrations (version, name) VALUES (${param('UInt32', m.version)}, ${param('String', m.name)})`,
    );
    applied.push(m.version);
    log.info({ version: m.version, name: m.name, ms: Date.now() - started }, 'migration applied');
  }
  await reconcileTtl(store, o, log);
  return { applied };
}

/** Retention changed since the tables were created: rewrite their TTL (without rewriting existing parts). */
async function reconcileTtl(store: Store, o: DdlOptions, log: Logger): Promise<void> {
  const names = RETENTION.map((r) => storageTable(o, r.table));
  const current = await store.rows<{ name: string; engine_full: string }>(
    sql`SELECT name, engine_full FROM system.tables WHERE database = ${param('String', o.database)} AND name IN ${param('Array(String)', names)}`,
  );
  const byName = new Map(current.map((t) => [t.name, t.engine_full]));
  for (const r of RETENTION) {
    const name = storageTable(o, r.table);
    const engineFull = byName.get(name);
    if (engineFull === undefined) continue;
    const days = o.ttlDays[r.signal];
    const has = /\bTTL\b/.test(engineFull);
    const want = `TTL ${r.timeExpr} + toIntervalDay(${days})`;
    if (days === 0 ? !has : engineFull.includes(want)) continue;
    const cluster = o.cluster ? sql` ON CLUSTER ${ident(o.cluster)}` : unsafeRaw('');
    const change = days === 0 ? unsafeRaw('REMOVE TTL') : unsafeRaw(`MODIFY ${want}`);
    // Existing parts keep their old TTL until merged; rewriting them all at start would stall the boot.
    await store.command(sql`ALTER TABLE ${ident(o.database)}.${ident(name)}${cluster} ${change}`, { materialize_ttl_after_modify: 0 });
    log.info({ table: name, days }, 'retention changed');
  }
}
