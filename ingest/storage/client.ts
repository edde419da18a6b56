/**
 * The one way to reach ClickHouse: `@clickhouse/client` over either connection.
 * - Embedded (default): chDB in this process, data under `dataDir`. chDB binds one data directory to one
 *   process, so every role that needs storage shares this one client.
 * - Server: `clickhouseUrl` selects the HTTP connection.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Sql } from './sql.ts';

export interface StoreOptions {
  dataDir: string;
  clickhouseUrl?: string | undefined;
  database: string;
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
  close(): Promise<void>;
}

export function createStore(opts: StoreOptions): Store {
  const embedded = opts.clickhouseUrl === undefined;
  const scratchDir = embedded ? resolve(opts.dataDir, 'insert-scratch') : undefined;
  let client: ClickHouseClient;
  if (opts.clickhouseUrl === undefined) {
    const path = resolve(opts.dataDir, 'clickhouse');
    mkdirSync(path, { recursive: true });
    // chdb builds against @clickhouse/client-common while @clickhouse/client bundles its own copy of the same
    // Connection types; they are structurally one contract, but nominally distinct to TypeScript.
    const connection = createChdbConnection({ path }) as unknown as NonNullable<Parameters<typeof createClient>[0]>['connection'] & object;
    client = createClient({ connection, clickhouse_settings: READ_SETTINGS });
  } else {
    client = createClient({
      url: opts.clickhouseUrl,
      clickhouse_settings: READ_SETTINGS,
      compression: { request: true, response: true },
      request_timeout: 120_000,
    });
  }
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
    close: () => client.close(),
  };
}
