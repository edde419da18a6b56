/**
 * The one way to reach ClickHouse: `@clickhouse/client` over either connection.
 * - Embedded (default): chDB in this process, data under `dataDir`. chDB binds one data directory to one
 *   process, so every role that needs storage shares this one client.
 * - Server: `clickhouseUrl` selects the HTTP connection.
 *
 * Inserts go through `insert`, at most `insertConcurrency` at a time. Embedded, each of those slots is a chDB
 * connection of its own to the same data directory (chDB lets connections to one path coexist): chDB runs one
 * statement at a time per connection, so on the one connection a dashboard query or a Kafka writer's ledger lookup
 * waited behind every insert, and two inserts never overlapped. Measured on the 2-core bench, two 100k-row inserts
 * took 0.9 s one after the other on one connection, and 0.6 s at once on two (1.9 cores busy instead of 1.2).
 * The insert connections open on the first insert, so a query-only process never has them.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
// Types only: the chDB library (~170 MB mapped, its own threads) loads when an embedded store opens, never in a
// process that does not use it (a gateway, a writer or query API on a ClickHouse server).
import type * as ChdbConnection from 'chdb/connection';
import type { Sql } from './sql.ts';

export interface StoreOptions {
  dataDir: string;
  clickhouseUrl?: string | undefined;
  database: string;
  /** Inserts that may run at once (embedded: the number of insert connections). @default 2 */
  insertConcurrency?: number;
}

/**
 * Settings on every query. 64-bit integers are quoted in JSON output so nanosecond timestamps and UInt64
 * counters reach JavaScript exactly; chDB defaults this off.
 */
const READ_SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 1,
  date_time_output_format: 'iso',
};

export interface Store {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly embedded: boolean;
  /** Embedded only: where insert batches are staged as files for the engine to read (see pipeline/insert.ts). */
  readonly scratchDir: string | undefined;
  /** Runs a SELECT built with the `sql` tag and returns its rows. */
  rows<T>(query: Sql, settings?: ClickHouseSettings): Promise<T[]>;
  /** Runs a statement without a result (DDL, INSERT … SELECT). */
  command(query: Sql, settings?: ClickHouseSettings): Promise<void>;
  /**
   * Runs an INSERT on an insert slot, waiting for one to be free (first come, first served). `values` is the
   * body of an `INSERT … FORMAT` statement. The statement may not carry query parameters: chDB binds them through
   * one chain shared by all its connections (its binding is not thread-safe), which would put the insert back in
   * line behind every parameterized query. Resolves to the seconds the statement ran, the wait for a slot excluded.
   */
  insert(statement: Sql, opts?: { settings?: ClickHouseSettings | undefined; values?: Readable | undefined }): Promise<number>;
  close(): Promise<void>;
}

export function createStore(opts: StoreOptions): Store {
  const embedded = opts.clickhouseUrl === undefined;
  const scratchDir = embedded ? resolve(opts.dataDir, 'insert-scratch') : undefined;
  let client: ClickHouseClient;
  /** Opens the clients inserts run on; called once, on the first insert. */
  let insertClients: () => ClickHouseClient[];
  const opened: ClickHouseClient[] = [];
  if (opts.clickhouseUrl === undefined) {
    const path = resolve(opts.dataDir, 'clickhouse');
    mkdirSync(path, { recursive: true });
    client = chdbClient(path);
    insertClients = () => {
      for (let i = 0; i < (opts.insertConcurrency ?? 2); i++) opened.push(chdbClient(path));
      return opened;
    };
  } else {
    client = createClient({
      url: opts.clickhouseUrl,
      clickhouse_settings: READ_SETTINGS,
      compression: { request: true, response: true },
      request_timeout: 120_000,
    });
    const shared = Array.from({ length: opts.insertConcurrency ?? 2 }, () => client);
    insertClients = () => shared;
  }
  const slots = new Slots(insertClients);
  return {
    client,
    database: opts.database,
    embedded,
    scratchDir,
    async rows<T>(query: Sql, settings?: ClickHouseSettings): Promise<T[]> {
      const { text, params } = query.render();
      const rs = await client.query({
        query: text,
        query_params: params,
        format: 'JSONEachRow',
        ...(settings ? { clickhouse_settings: settings } : {}),
      });
      return rs.json<T>();
    },
    async command(query: Sql, settings?: ClickHouseSettings): Promise<void> {
      const { text, params } = query.render();
      await client.command({ query: text, query_params: params, ...(settings ? { clickhouse_settings: settings } : {}) });
    },
    async insert(statement, { settings, values } = {}): Promise<number> {
      const { text, params } = statement.render();
      if (Object.keys(params).length > 0) throw new Error('an insert statement may not carry query parameters');
      const insertClient = await slots.acquire();
      const started = performance.now();
      try {
        const clickhouse_settings = settings ?? {};
        if (values === undefined) {
          await insertClient.command({ query: text, clickhouse_settings });
        } else {
          const result = await insertClient.exec({ query: text, values, clickhouse_settings });
          result.stream.resume();
          await finished(result.stream).catch(() => undefined);
        }
        return (performance.now() - started) / 1000;
      } finally {
        slots.release(insertClient);
      }
    },
    async close() {
      for (const c of opened) await c.close();
      await client.close();
    },
  };
}

const require = createRequire(import.meta.url);
let chdb: typeof ChdbConnection | undefined;

function chdbClient(path: string): ClickHouseClient {
  // A synchronous load on first use (chdb/connection is CommonJS), so createStore stays synchronous for its callers.
  // chdb is an optional dependency: the agent's image installs without it (npm install --omit=optional).
  try {
    chdb ??= require('chdb/connection') as typeof ChdbConnection;
  } catch (err) {
    if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error('the embedded ClickHouse engine (the optional dependency chdb) is not installed: run npm install without --omit=optional, or use a ClickHouse server with --clickhouse-url', { cause: err });
  }
  const { createChdbConnection } = chdb;
  // chdb builds against @clickhouse/client-common while @clickhouse/client bundles its own copy of the same
  // Connection types; they are structurally one contract, but nominally distinct to TypeScript.
  const connection = createChdbConnection({ path }) as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'] & object;
  return createClient({ connection, clickhouse_settings: READ_SETTINGS });
}

/** A fixed set of clients handed out one holder at a time, waiters served in arrival order. */
class Slots {
  #free: ClickHouseClient[] | undefined;
  readonly #waiting: ((c: ClickHouseClient) => void)[] = [];

  constructor(private readonly open: () => ClickHouseClient[]) {}

  acquire(): Promise<ClickHouseClient> {
    this.#free ??= [...this.open()];
    const free = this.#free.pop();
    return free ? Promise.resolve(free) : new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(c: ClickHouseClient): void {
    const next = this.#waiting.shift();
    if (next) next(c);
    else this.#free!.push(c);
  }
}
