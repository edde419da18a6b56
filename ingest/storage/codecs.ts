/**
 * Native codecs of the tables the writers insert into, compiled once at start from `system.columns` after the
 * migrations ran, so the encoding always follows the live table structure. MATERIALIZED and ALIAS columns are
 * computed by ClickHouse and never sent.
 */
import type { Store } from './client.ts';
import { type Column, type TableCodec, compileCodec } from './native.ts';
import { param, sql } from './sql.ts';
import { type WriterTableName, WRITER_TABLES } from './tables.ts';

export type Codecs = ReadonlyMap<WriterTableName, TableCodec>;

export async function loadCodecs(store: Store, database: string): Promise<Codecs> {
  const rows = await store.rows<{ table: WriterTableName; name: string; type: string }>(
    sql`SELECT table, name, type FROM system.columns
        WHERE database = ${param('String', database)} AND table IN ${param('Array(String)', WRITER_TABLES)} AND default_kind NOT IN ('MATERIALIZED', 'ALIAS')
        ORDER BY table, position`,
  );
  const byTable = new Map<WriterTableName, Column[]>();
  for (const r of rows) {
    let cols = byTable.get(r.table);
    if (!cols) byTable.set(r.table, (cols = []));
    cols.push({ name: r.name, type: r.type });
  }
  const missing = WRITER_TABLES.filter((t) => !byTable.has(t));
  if (missing.length > 0) throw new Error(`tables missing in ${database}: ${missing.join(', ')} (did the migrations run?)`);
  return new Map([...byTable].map(([t, cols]) => [t, compileCodec(cols)]));
}
