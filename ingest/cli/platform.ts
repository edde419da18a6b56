/**
 * Loads a command's config and runs its roles in this process (#core/host.ts): what `crowsnest <command>` does
 * after parsing, and what in-process tests start.
 */
import { type Loaded, loadConfig } from '#config/load.ts';
import type { ConfigSpec } from '#config/spec.ts';
import { type RunningProcess, runProcess } from '#core/host.ts';
import type { Logger } from '#core/log.ts';
import type { ProcessConfig } from '#core/role.ts';
import { COMMANDS, PLATFORM_OPTIONS } from './commands.ts';
import type { StorageConfig } from './store.ts';

export type CommandConfig = Readonly<Record<string, unknown>> & ProcessConfig;

export interface Platform extends RunningProcess {
  /** The roles running, in start order. */
  roles: readonly string[];
}

/** The config of `command` from flags, environment and file; a ConfigError names what is wrong. */
export function loadCommandConfig(command: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Loaded<ConfigSpec> & { config: CommandConfig } {
  const spec = COMMANDS[command]?.options;
  if (spec === undefined) throw new Error(`no command ${command}`);
  return loadConfig(spec, { argv, env, platform: PLATFORM_OPTIONS }) as Loaded<ConfigSpec> & { config: CommandConfig };
}

export async function startPlatform(command: string, config: CommandConfig, log: Logger): Promise<Platform> {
  const cmd = COMMANDS[command];
  if (cmd === undefined) throw new Error(`no command ${command}`);
  const roles = cmd.roles(config);
  const process = await runProcess({
    name: command,
    roles,
    config,
    log,
    // Loaded when a role asks for the store: a gateway never loads the ClickHouse client or the schema.
    openStore: async (storeLog) => (await import('./store.ts')).openStore(config as unknown as StorageConfig, storeLog),
  });
  const store = process.store;
  log.info(
    { roles: roles.map((r) => r.name), ports: process.ports, storage: store ? (store.embedded ? `chDB in ${String(config['dataDir'])}` : 'ClickHouse server') : 'none' },
    'crowsnest is ready',
  );
  return Object.assign(process, { roles: roles.map((r) => r.name) });
}
