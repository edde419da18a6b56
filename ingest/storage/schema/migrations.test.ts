/**
 * A released migration is immutable. Its SQL (rendered for a single node and for a cluster, see `checksums.ts`)
 * is pinned here by checksum; an edit to a DDL builder that changes what a released migration runs fails the
 * first test, naming the migration. The fix is never to re-pin: restore the builder and add a new numbered
 * migration. A new migration is pinned here when it is released (the failure message gives its checksum).
 */
import { describe, expect, it } from 'vitest';
import { TABLES } from '../tables.ts';
import { type AppliedMigration, MigrationChecksumError, checkApplied, checkPins, migrationChecksum, renderMigration } from './checksums.ts';
import { type DdlOptions, databaseDdl, logsDdl, metricDdl, migrationsChecksumDdl, migrationsTableDdl, traceIdTsDdl, tracesDdl } from './ddl.ts';
import { type Migration, MIGRATIONS } from './migrations.ts';

/** sha256 of each released migration's canonical rendering. Never edit a line here. */
const PINNED: Readonly<Record<number, string>> = {
  1: '51c982838aee4595d6c242a8a05e4aac97cf8929a6cf3618d5d3bd4dfcc8bd25',
  2: '12230e544b41cfbcfa9a8259fb7dd6468a7cd9c04ba16ce990f6c5493a108ee4',
  3: '1ed957b8049b206b6613bcbb35385046a03e1fff593248fb3bb169ccb806b1e9',
  4: 'c51bf8a0919b19a2447cc996d614af965416250c016fe0c3795becf3259bac53',
};

function migration(version: number): Migration {
  const m = MIGRATIONS.find((x) => x.version === version);
  if (!m) throw new Error(`no migration ${version}`);
  return m;
}

/** The code's migrations with one replaced, as if its builder had been edited. */
function withEdited(version: number, statements: (o: DdlOptions) => string[]): Migration[] {
  return MIGRATIONS.map((m) => (m.version === version ? { ...m, statements } : m));
}

function pinFailure(migrations: readonly Migration[]): MigrationChecksumError {
  try {
    checkPins(migrations, PINNED);
  } catch (err) {
    if (err instanceof MigrationChecksumError) return err;
    throw err;
  }
  throw new Error('checkPins accepted an edited migration');
}

describe('released migrations', () => {
  it('every released migration still renders the SQL it was released with', () => {
    expect(() => checkPins(MIGRATIONS, PINNED)).not.toThrow();
  });

  it('versions are 1, 2, 3, … without gaps, and every one is pinned', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(Object.keys(PINNED).map(Number)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('the pinned SQL, readable (the checksums above are what guard it)', async () => {
    const bootstrap = [undefined, 'crowsnest'].map((cluster) => {
      const o: DdlOptions = { database: 'otel', cluster, ttlDays: { traces: 7, logs: 7, metrics: 30 } };
      const statements = [databaseDdl(o), ...migrationsTableDdl(o), ...migrationsChecksumDdl(o)];
      return `-- ledger, run at every start (not a migration), ${cluster ? 'cluster' : 'single node'}\n${statements.map((s) => `${s};\n`).join('')}`;
    });
    await expect([...bootstrap, ...MIGRATIONS.map(renderMigration)].join('\n')).toMatchFileSnapshot('./__snapshots__/migrations.sql');
  });

  // Each case is a DDL builder's real output with one change, as an edit to that builder would make it.
  const edits: [string, number, (o: DdlOptions) => string[]][] = [
    [
      'a codec of otel_traces changes (migration 1)',
      1,
      (o) => [...tracesDdl(o).map((s) => s.replace('Duration UInt64 CODEC(T64, ZSTD(1))', 'Duration UInt64 CODEC(ZSTD(1))')), ...traceIdTsDdl(o)],
    ],
    [
      'otel_logs gains a column (migration 2)',
      2,
      (o) => logsDdl(o).map((s) => s.replace('EventName String CODEC(ZSTD(1)),', 'EventName String CODEC(ZSTD(1)),\n    EventDomain String,')),
    ],
    ['one metric table is left out (migration 3)', 3, (o) => (['gauge', 'sum', 'histogram', 'summary'] as const).flatMap((k) => metricDdl(o, k))],
    [
      'the Kafka ledger keeps its plans longer (migration 4)',
      4,
      (o) => migration(4).statements(o).map((s) => s.replace('toIntervalDay(7)', 'toIntervalDay(14)')),
    ],
  ];
  for (const [name, version, statements] of edits) {
    it(`fails, naming the migration, when a builder changes: ${name}`, () => {
      const edited = withEdited(version, statements);
      // Arrange check: the edit really changes the rendering (else the case proves nothing).
      expect(renderMigration(edited[version - 1]!)).not.toEqual(renderMigration(migration(version)));

      const err = pinFailure(edited);

      expect(err.versions).toEqual([version]);
      expect(err.message).toContain(`migration ${version} (${migration(version).name}) no longer renders the SQL it was released with`);
      expect(err.message).toContain('make the change a new numbered migration');
    });
  }

  it('fails when only the cluster rendering changes: a smaller replicated deduplication window (migration 4)', () => {
    // `\b` keeps the single-node `non_replicated_deduplication_window` as it is.
    const statements = (o: DdlOptions) =>
      migration(4)
        .statements(o)
        .map((s) => s.replace(/\breplicated_deduplication_window = 10000/, 'replicated_deduplication_window = 1000'));
    const single: DdlOptions = { database: 'otel', ttlDays: { traces: 7, logs: 7, metrics: 30 } };
    expect(statements(single)).toEqual(migration(4).statements(single));

    const err = pinFailure(withEdited(4, statements));

    expect(err.versions).toEqual([4]);
    expect(err.message).toContain('migration 4 (kafka_exactly_once) no longer renders the SQL it was released with');
  });

  it('a renamed migration fails its pin too', () => {
    const renamed = MIGRATIONS.map((m) => (m.version === 2 ? { ...m, name: 'logs' } : m));
    expect(pinFailure(renamed).versions).toEqual([2]);
  });

  it('a new migration fails until it is pinned, and the message gives its checksum', () => {
    const next: Migration = {
      version: 5,
      name: 'example',
      statements: (o) => [`ALTER TABLE \`${o.database}\`.\`${TABLES.logs.name}\` ADD COLUMN IF NOT EXISTS Example String`],
    };
    const err = pinFailure([...MIGRATIONS, next]);
    expect(err.versions).toEqual([5]);
    expect(err.message).toContain(`migration 5 (example) has no pin; pin it as released: 5: '${migrationChecksum(next)}'`);
  });

  it('the checksum covers both renderings: single node and cluster', () => {
    const text = renderMigration(migration(1));
    expect(text).toContain('-- migration 1 (otel_traces), single node\nCREATE TABLE IF NOT EXISTS `otel`.`otel_traces`\n');
    expect(text).toContain('-- migration 1 (otel_traces), cluster\nCREATE TABLE IF NOT EXISTS `otel`.`otel_traces_local` ON CLUSTER `crowsnest`\n');
  });
});

describe('checkApplied (the ledger of an install against the code)', () => {
  const sums = MIGRATIONS.map((m) => migrationChecksum(m));
  const ledger = (f: (version: number, sum: string) => readonly string[]): AppliedMigration[] =>
    MIGRATIONS.map((m, i) => ({ version: m.version, checksums: f(m.version, sums[i]!) }));

  it('accepts an install whose recorded checksums are the code’s', () => {
    expect(checkApplied(ledger((_, s) => [s]), MIGRATIONS, 'otel')).toEqual({ unrecorded: [], unknown: [] });
  });

  it('rejects an install that applied a migration the code now renders differently, naming it and the database', () => {
    const applied = ledger((v, s) => (v === 3 ? ['0'.repeat(64)] : [s]));
    expect(() => checkApplied(applied, MIGRATIONS, 'prod_otel')).toThrow(
      /migration 3 \(otel_metrics\) was applied to database prod_otel with checksum 0{64}, but this version's migration 3 renders [0-9a-f]{64}: it was edited after release/,
    );
  });

  it('rejects when any of several recorded checksums differs (two writers that ran different code)', () => {
    const applied = ledger((v, s) => (v === 1 ? [s, 'f'.repeat(64)] : [s]));
    expect(() => checkApplied(applied, MIGRATIONS, 'otel')).toThrow(MigrationChecksumError);
  });

  it('reports migrations applied before checksums were recorded, and versions the code does not know', () => {
    const applied = [...ledger((v, s) => (v <= 2 ? [''] : [s])), { version: 99, checksums: ['x'] }];
    const r = checkApplied(applied, MIGRATIONS, 'otel');
    expect(r.unrecorded.map((m) => m.version)).toEqual([1, 2]);
    expect(r.unknown).toEqual([99]);
  });
});
