/** Opening the process's store: the connection the config names, migrated before any role uses it. */
import type { STORAGE } from '#config/options.ts';
import type { ConfigOf } from '#config/spec.ts';
import type { Logger } from '#core/log.ts';
import { type Store, createStore } from '#storage/client.ts';
import { migrate } from '#storage/migrate.ts';

export type StorageConfig = ConfigOf<typeof STORAGE>;

export async function openStore(config: StorageConfig, log: Logger): Promise<Store> {
  const store = createStore({ dataDir: config.dataDir, clickhouseUrl: config.clickhouseUrl, database: config.clickhouseDatabase, insertConcurrency: config.insertConcurrency });
  try {
    const ttlDays = { traces: config.tracesTtlDays, logs: config.logsTtlDays, metrics: config.metricsTtlDays };
    await migrate(store, { database: config.clickhouseDatabase, cluster: config.clickhouseCluster, ttlDays }, log);
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}
