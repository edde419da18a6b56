/**
 * Brings the database to the newest schema at start: creates the database and the migrations ledger, checks that
 * the migrations this install applied are the code's (a released migration is immutable; changes come as new
 * numbered migrations, see `schema/migrations.ts`), applies each migration not yet recorded with its checksum,
 * then makes each table's TTL match the configured retention (a setting, not a migration).
 */
import type { Logger } from 'pino';
import type { Store } from './client.ts';
import { type AppliedMigration, checkApplied, migrationChecksum } from './schema/checksums.ts';
import { type DdlOptions, databaseDdl, migrationsChecksumDdl, migrationsTableDdl, storageTable } from './schema/ddl.ts';
import { type Migration, MIGRATIONS } from './schema/migrations.ts';
import { type Sql, ident, param, sql, unsafeRaw } from './sql.ts';
import { DATA_TABLES, TABLES } from './tables.ts';

/**
 * Applies the pending migrations. Rejects with a `MigrationChecksumError` (before running any statement but the
 * ledger's own) when an applied migration's recorded checksum differs from the code's.
 */
export async function migrate(store: Store, o: DdlOptions, log: Logger): Promise<{ applied: number[] }> {
  const ledger = sql`${ident(o.database)}.${ident(TABLES.migrations.name)}`;
  await store.command(unsafeRaw(databaseDdl(o)));
  for (const stmt of migrationsTableDdl(o)) await store.command(unsafeRaw(stmt));
  await ensureChecksumColumn(store, o);

  const ledgerRows = await store.rows<{ version: number; checksums: string[] }>(
    sql`SELECT version, groupUniqArray(checksum) AS checksums FROM ${ledger} GROUP BY version ORDER BY version`,
  );
  const applied: AppliedMigration[] = ledgerRows.map((r) => ({ version: Number(r.version), checksums: r.checksums }));
  const check = checkApplied(applied, MIGRATIONS, o.database);
  if (check.unknown.length > 0) {
    log.warn({ versions: check.unknown }, 'the database has migrations this version does not know (a newer version ran on it)');
  }
  // Applied before the ledger kept checksums: the pins prove the code still renders what was released, so the
  // code's checksum is what those installs ran. Recorded once; later starts compare against it.
  for (const m of check.unrecorded) {
    await record(store, ledger, m);
    log.info({ version: m.version, name: m.name }, 'migration checksum recorded');
  }

  const done = new Set(applied.map((a) => a.version));
  const newlyApplied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    const started = Date.now();
    for (const stmt of m.statements(o)) await store.command(unsafeRaw(stmt));
    await record(store, ledger, m);
    newlyApplied.push(m.version);
    log.info({ version: m.version, name: m.name, ms: Date.now() - started }, 'migration applied');
  }
  await reconcileTtl(store, o, log);
  return { applied: newlyApplied };
}

async function record(store: Store, ledger: Sql, m: Migration): Promise<void> {
  await store.command(
    sql`INSERT INTO ${ledger} (version, name, checksum) VALUES (${param('UInt32', m.version)}, ${param('String', m.name)}, ${param('String', migrationChecksum(m))})`,
  );
}

/** Ledgers created before checksums were recorded lack the column; looked up first, so a start runs no ALTER. */
async function ensureChecksumColumn(store: Store, o: DdlOptions): Promise<void> {
  const [has] = await store.rows<{ n: string }>(
    sql`SELECT count() AS n FROM system.columns
        WHERE database = ${param('String', o.database)} AND table = ${param('String', TABLES.migrations.name)} AND name = 'checksum'`,
  );
  if (Number(has?.n ?? 0) > 0) return;
  for (const stmt of migrationsChecksumDdl(o)) await store.command(unsafeRaw(stmt));
}

/** Retention changed since the tables were created: rewrite their TTL (without rewriting existing parts). */
async function reconcileTtl(store: Store, o: DdlOptions, log: Logger): Promise<void> {
  const names = DATA_TABLES.map((t) => storageTable(o, t));
  const current = await store.rows<{ name: string; engine_full: string }>(
    sql`SELECT name, engine_full FROM system.tables WHERE database = ${param('String', o.database)} AND name IN ${param('Array(String)', names)}`,
  );
  const byName = new Map(current.map((t) => [t.name, t.engine_full]));
  for (const t of DATA_TABLES) {
    const name = storageTable(o, t);
    const engineFull = byName.get(name);
    if (engineFull === undefined) continue;
    const days = o.ttlDays[t.signal];
    const has = /\bTTL\b/.test(engineFull);
    const want = `TTL ${t.ttlOn} + toIntervalDay(${days})`;
    if (days === 0 ? !has : engineFull.includes(want)) continue;
    const cluster = o.cluster ? sql` ON CLUSTER ${ident(o.cluster)}` : unsafeRaw('');
    const change = days === 0 ? unsafeRaw('REMOVE TTL') : unsafeRaw(`MODIFY ${want}`);
    // Existing parts keep their old TTL until merged; rewriting them all at start would stall the boot.
    await store.command(sql`ALTER TABLE ${ident(o.database)}.${ident(name)}${cluster} ${change}`, { materialize_ttl_after_modify: 0 });
    log.info({ table: name, days }, 'retention changed');
  }
}
