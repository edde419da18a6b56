/**
 * What makes a released migration immutable in practice: a checksum of the SQL it runs.
 *
 * A migration's SQL depends on the install's options (database, cluster, retention), so its checksum is taken
 * over a canonical rendering: every statement for a few fixed, representative options (a single node and a
 * cluster, the default retention). That covers both code paths of every builder, and does not depend on any one
 * install, so the same checksum serves two checks:
 * - `checkPins`: the code's migrations against the checksums pinned in `migrations.test.ts` at release. Editing a
 *   DDL builder a released migration calls changes its rendering and fails that test, naming the migration.
 * - `checkApplied`: an install's ledger against the code, at every start (as Flyway's validate does): a migration
 *   applied with one checksum whose code now renders another was edited after release, and `migrate` refuses to
 *   go on rather than let that install and a fresh one differ in silence.
 *
 * The fixed options are written here, not read from the config defaults: a new default is a setting for new
 * installs, not a change to what migration 1 was.
 */
import { createHash } from 'node:crypto';
import type { DdlOptions } from './ddl.ts';
import type { Migration } from './migrations.ts';

/** The options a migration is rendered with for its checksum. Never change them: every pin depends on them. */
export const CHECKSUM_OPTIONS: readonly { readonly label: string; readonly options: DdlOptions }[] = [
  { label: 'single node', options: { database: 'otel', ttlDays: { traces: 7, logs: 7, metrics: 30 } } },
  { label: 'cluster', options: { database: 'otel', cluster: 'crowsnest', ttlDays: { traces: 7, logs: 7, metrics: 30 } } },
];

/** The text a checksum covers: the migration's number and name, then its statements for each option. */
export function renderMigration(m: Migration): string {
  return CHECKSUM_OPTIONS.map(
    ({ label, options }) => `-- migration ${m.version} (${m.name}), ${label}\n${m.statements(options).map((s) => `${s};\n`).join('')}`,
  ).join('\n');
}

/** sha256 (hex) of `renderMigration`. */
export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(renderMigration(m)).digest('hex');
}

const RULE = 'A released migration is immutable: restore it, and make the change a new numbered migration.';

/** Thrown when a migration's SQL differs from its pin, or from what an install recorded as applied. */
export class MigrationChecksumError extends Error {
  override name = 'MigrationChecksumError';
  constructor(
    message: string,
    /** The migrations that differ, by version. */
    readonly versions: readonly number[],
  ) {
    super(message);
  }
}

/**
 * Checks every migration against its pinned checksum (version → sha256). Throws a `MigrationChecksumError` that
 * names each migration whose SQL changed, and each migration without a pin (pin it when it is released: the
 * message gives its checksum).
 */
export function checkPins(migrations: readonly Migration[], pins: Readonly<Record<number, string>>): void {
  const problems: string[] = [];
  const versions: number[] = [];
  for (const m of migrations) {
    const actual = migrationChecksum(m);
    const pinned = pins[m.version];
    if (pinned === actual) continue;
    versions.push(m.version);
    problems.push(
      pinned === undefined
        ? `migration ${m.version} (${m.name}) has no pin; pin it as released: ${m.version}: '${actual}'`
        : `migration ${m.version} (${m.name}) no longer renders the SQL it was released with (pinned ${pinned}, now ${actual})`,
    );
  }
  if (problems.length > 0) throw new MigrationChecksumError(`${problems.join('\n')}\n${RULE}`, versions);
}

/** One version of an install's ledger with the checksums recorded for it ('' for rows from before checksums). */
export interface AppliedMigration {
  version: number;
  checksums: readonly string[];
}

export interface AppliedCheck {
  /** Applied before checksums were recorded: nothing to compare with (the caller records the code's). */
  unrecorded: Migration[];
  /** Versions the ledger has and this code does not: a newer version of Crow's Nest ran on this database. */
  unknown: number[];
}

/**
 * Compares an install's ledger with the code's migrations. Throws a `MigrationChecksumError` naming each applied
 * migration whose recorded checksum is not the code's (`database` only goes into the message).
 */
export function checkApplied(applied: readonly AppliedMigration[], migrations: readonly Migration[], database: string): AppliedCheck {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const result: AppliedCheck = { unrecorded: [], unknown: [] };
  const problems: string[] = [];
  const versions: number[] = [];
  for (const a of applied) {
    const m = byVersion.get(a.version);
    if (m === undefined) {
      result.unknown.push(a.version);
      continue;
    }
    const recorded = a.checksums.filter((c) => c !== '');
    if (recorded.length === 0) {
      result.unrecorded.push(m);
      continue;
    }
    const code = migrationChecksum(m);
    const other = recorded.find((c) => c !== code);
    if (other === undefined) continue;
    versions.push(m.version);
    problems.push(
      `migration ${m.version} (${m.name}) was applied to database ${database} with checksum ${other}, but this version's migration ${m.version} renders ${code}: it was edited after release`,
    );
  }
  if (problems.length > 0) throw new MigrationChecksumError(`${problems.join('\n')}\n${RULE}`, versions);
  return result;
}
