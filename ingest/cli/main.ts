/**
 * `crowsnest <command> [options]`. Commands are the roles users deploy; `start` is the all-in-one.
 * Returns the process exit code; owns signals and graceful shutdown.
 */
import { ConfigError, loadConfig, optionsHelp, redacted } from '#config/load.ts';
import { createLogger } from '#core/log.ts';
import { createStore } from '#storage/client.ts';
import { migrate } from '#storage/migrate.ts';
import { ALL_ROLES, type Role, RoleError, startPlatform } from './platform.ts';

const COMMANDS: Record<string, string> = {
  start: 'All in one process: OTLP receivers, writers and the query API (embedded chDB; Kafka only if configured).',
  gateway: 'OTLP receivers publishing to Kafka (needs --kafka-brokers).',
  writer: 'Kafka consumer writing to ClickHouse (needs --kafka-brokers); with embedded chDB it also serves the query API.',
  query: 'The query API (needs --clickhouse-url: embedded chDB is served by the writer process).',
  migrate: 'Create or upgrade the ClickHouse schema, then exit.',
};

const ROLES: Record<string, ReadonlySet<Role>> = {
  start: ALL_ROLES,
  gateway: new Set(['gateway']),
  writer: new Set(['writer']),
  query: new Set(['query']),
};

function usage(): string {
  const cmds = Object.entries(COMMANDS)
    .map(([name, doc]) => `  ${name.padEnd(10)} ${doc}`)
    .join('\n');
  return `Usage: crowsnest <command> [options]\n\nCommands:\n${cmds}\n\nOptions (flag > environment > config file > default):\n${optionsHelp()}\n`;
}

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`crowsnest: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { config, positional, help } = loaded;
  const command = positional[0];
  if (help || command === undefined || command === 'help') {
    process.stdout.write(usage());
    return command === undefined && !help ? 2 : 0;
  }
  if (!(command in COMMANDS) || positional.length > 1) {
    process.stderr.write(`crowsnest: unknown command "${positional.join(' ')}"\n\n${usage()}`);
    return 2;
  }
  const log = createLogger(config.logLevel);
  log.info({ command, config: redacted(config) }, 'starting');

  if (command === 'migrate') {
    const store = createStore({ dataDir: config.dataDir, clickhouseUrl: config.clickhouseUrl, database: config.clickhouseDatabase });
    try {
      const ttlDays = { traces: config.tracesTtlDays, logs: config.logsTtlDays, metrics: config.metricsTtlDays };
      const { applied } = await migrate(store, { database: config.clickhouseDatabase, cluster: config.clickhouseCluster, ttlDays }, log);
      log.info({ applied }, 'schema is up to date');
      return 0;
    } finally {
      await store.close();
    }
  }

  let platform;
  try {
    platform = await startPlatform(config, log, ROLES[command]);
  } catch (e) {
    if (e instanceof RoleError) {
      process.stderr.write(`crowsnest ${command}: ${e.message}\n`);
      return 2;
    }
    log.fatal({ err: e }, 'start failed');
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await platform.close();
  log.info('stopped');
  return 0;
}
