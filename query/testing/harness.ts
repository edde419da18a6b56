/**
 * Integration-test harness: a temporary chDB data directory, a database of the test's own (unique name),
 * migrations applied, and the query app built on it (requests go through `inject()`).
 * chDB binds one data directory per process; vitest runs each test file in its own process, so each
 * `*.int.test.ts` file starts one harness.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '#core/log.ts';
import { createMetrics } from '#core/metrics.ts';
import type { TableName, TableRows } from '#otlp/rows.ts';
import { type Store, createStore } from '#storage/client.ts';
import { migrate } from '#storage/migrate.ts';
import { buildQueryApp } from '../app.ts';

export interface Harness {
  store: Store;
  app: FastifyInstance;
  database: string;
  insert<T extends TableName>(table: T, rows: TableRows[T][]): Promise<void>;
  /** GET through inject(); returns status and parsed JSON body. */
  get<B = unknown>(url: string, headers?: Record<string, string>): Promise<{ status: number; body: B }>;
  close(): Promise<void>;
}

export async function startHarness(name: string, opts: { authTokens?: string[]; notReady?: () => string | undefined } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), `crowsnest-query-${name}-`));
  const database = `q_${name}_${process.pid}_${Date.now().toString(36)}`;
  const store = createStore({ dataDir: dir, database });
  // No TTL: fixtures use fixed 2023 timestamps, which a retention would drop.
  await migrate(store, { database, ttlDays: { traces: 0, logs: 0, metrics: 0 } }, silentLogger());
  const app = await buildQueryApp({
    store,
    authTokens: opts.authTokens,
    log: silentLogger(),
    metrics: createMetrics(),
    notReady: opts.notReady ?? (() => undefined),
  });
  return {
    store,
    app,
    database,
    async insert(table, rows) {
      await store.client.insert({ table: `${database}.${table}`, values: rows, format: 'JSONEachRow' });
    },
    async get<B>(url: string, headers: Record<string, string> = {}) {
      const r = await app.inject({ method: 'GET', url, headers });
      const json = r.headers['content-type']?.toString().startsWith('application/json');
      return { status: r.statusCode, body: (json ? r.json() : r.body) as B };
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `base` ms + `plusNs` nanoseconds, as the decimal-string nanoseconds rows carry. */
export function nsAt(baseMs: number, plusNs = 0n): string {
  return (BigInt(baseMs) * 1_000_000n + plusNs).toString();
}
