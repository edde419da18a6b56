import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from './client.ts';
import { param, sql, stringLiteral, unsafeRaw } from './sql.ts';

const dir = mkdtempSync(join(tmpdir(), 'crowsnest-store-'));
let store: Store;

beforeAll(async () => {
  store = createStore({ dataDir: dir, database: 'default' });
  await store.command(unsafeRaw('CREATE TABLE slow (n UInt64) ENGINE = MergeTree ORDER BY n'));
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An insert that takes 3 s whatever the machine: the engine sleeps a second per row. */
const SLOW_INSERT = 'INSERT INTO slow SELECT number FROM numbers(3) WHERE sleepEachRow(1) = 0';

const runningInserts = async () =>
  Number((await store.rows<{ n: string }>(unsafeRaw("SELECT count() AS n FROM system.processes WHERE query LIKE 'INSERT INTO slow%'")))[0]!.n);

describe('embedded store inserts', () => {
  it('run two at a time on connections of their own, while queries go on, and a third waits for a slot', async () => {
    let finished = 0;
    const inserts = [1, 2, 3].map(() => store.insert(unsafeRaw(SLOW_INSERT)).then(() => finished++));
    // Queries on the store's own connection answer while the inserts sleep, and see at most two of them.
    const seen: number[] = [];
    while (finished === 0) {
      seen.push(await runningInserts());
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.length).toBeGreaterThan(1);
    expect(Math.max(...seen)).toBe(2);
    await Promise.all(inserts);
    expect((await store.rows<{ n: string }>(unsafeRaw('SELECT count() AS n FROM slow')))[0]!.n).toBe('9');
  });

  it('refuses a statement with query parameters, which chDB would queue behind every other one', async () => {
    await expect(store.insert(sql`INSERT INTO slow VALUES (${param('UInt64', 1)})`)).rejects.toThrow(/may not carry query parameters/);
  });

  it('reads a string literal back as the very string, quotes and backslashes included', async () => {
    const tricky = "/tmp/it's a \\path\\ with 'quotes' and \\' both";
    const [row] = await store.rows<{ s: string }>(sql`SELECT ${stringLiteral(tricky)} AS s`);
    expect(row!.s).toBe(tricky);
  });
});
