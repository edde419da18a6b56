/**
 * `crowsnest <command> [options]`. Commands (commands.ts) run roles; `start` is the all-in-one. Returns the
 * process exit code; owns signals and graceful shutdown.
 *
 * `demo` (and `start --demo`) runs the simulated shop of ingest/demo, loaded by dynamic import so no other
 * command carries the OpenTelemetry SDK in memory.
 */
import { ConfigError, loadConfig, optionsHelp, redacted } from '#config/load.ts';
import { PROCESS, STORAGE } from '#config/options.ts';
import { createLogger, resolveLogFormat } from '#core/log.ts';
import { RoleError } from '#core/role.ts';
import { DEMO, endpointProblem } from '../demo/options.ts';
import { COMMANDS, PLATFORM_OPTIONS } from './commands.ts';
import { type CommandConfig, type Platform, loadCommandConfig, startPlatform } from './platform.ts';

const MIGRATE_OPTIONS = { config: PROCESS.config, logLevel: PROCESS.logLevel, logFormat: PROCESS.logFormat, ...STORAGE } as const;
const MIGRATE_SUMMARY = 'Create or upgrade the ClickHouse schema, then exit.';
const DEMO_OPTIONS = { config: PROCESS.config, logLevel: PROCESS.logLevel, logFormat: PROCESS.logFormat, ...DEMO } as const;
const DEMO_SUMMARY = 'Send realistic demo traffic (a shop of 7 services on Kubernetes: traces, logs, metrics) through the OpenTelemetry SDK until interrupted.';

/** The OTLP/HTTP URL of this process's own receiver, for `start --demo`: loopback when it listens on every address. */
function ownOtlpEndpoint(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

function untilSignal(log: ReturnType<typeof createLogger>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function usage(): string {
  const cmds = [...Object.entries(COMMANDS).map(([name, c]) => [name, c.summary] as const), ['migrate', MIGRATE_SUMMARY] as const, ['demo', DEMO_SUMMARY] as const]
    .map(([name, doc]) => `  ${name.padEnd(10)} ${doc}`)
    .join('\n');
  return `Usage: crowsnest <command> [options]\n\nCommands:\n${cmds}\n\n\`crowsnest <command> --help\` lists the options of a command.\n`;
}

function commandUsage(name: string, summary: string, spec: Parameters<typeof optionsHelp>[0]): string {
  return `Usage: crowsnest ${name} [options]\n\n${summary}\n\nOptions (flag > environment > config file > default):\n${optionsHelp(spec)}\n`;
}

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage());
    return command === undefined ? 2 : 0;
  }
  if (command !== 'migrate' && command !== 'demo' && !(command in COMMANDS)) {
    process.stderr.write(`crowsnest: unknown command "${command}"\n\n${usage()}`);
    return 2;
  }
  const spec = command === 'migrate' ? MIGRATE_OPTIONS : command === 'demo' ? DEMO_OPTIONS : COMMANDS[command]!.options;
  let loaded;
  try {
    loaded =
      command === 'migrate' || command === 'demo'
        ? loadConfig(spec as typeof MIGRATE_OPTIONS | typeof DEMO_OPTIONS, { argv: rest, env, platform: PLATFORM_OPTIONS })
        : loadCommandConfig(command, rest, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`crowsnest ${command}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { config, positional, help, ignored } = loaded;
  if (help) {
    process.stdout.write(commandUsage(command, command === 'migrate' ? MIGRATE_SUMMARY : command === 'demo' ? DEMO_SUMMARY : COMMANDS[command]!.summary, spec));
    return 0;
  }
  if (positional.length > 0) {
    process.stderr.write(`crowsnest ${command}: unexpected argument "${positional.join(' ')}"\n`);
    return 2;
  }
  const endpointWrong = command === 'demo' ? endpointProblem(String((config as Readonly<Record<string, unknown>>)['otlpEndpoint'])) : undefined;
  if (endpointWrong !== undefined) {
    process.stderr.write(`crowsnest demo: ${endpointWrong}\n`);
    return 2;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  // The whole configuration goes in the first line for log collectors; on a terminal it would be forty lines
  // before anything happens, so there it is a debug line.
  const settings = { config: redacted(spec, config), ...(ignored.length > 0 ? { ignoredOptionsOfOtherRoles: ignored } : {}) };
  if (resolveLogFormat(config.logFormat, process.stdout.isTTY === true) === 'json') log.info({ command, ...settings }, 'starting');
  else {
    log.info(`starting ${command}`);
    log.debug(settings, 'configuration');
  }

  if (command === 'migrate') {
    const { openStore } = await import('./store.ts');
    const store = await openStore(loaded.config as Parameters<typeof openStore>[0], log.child({ component: 'migrate' }));
    await store.close();
    log.info('schema is up to date');
    return 0;
  }

  if (command === 'demo') {
    const { startDemo } = await import('../demo/run.ts');
    const c = config as unknown as { otlpEndpoint: string; otlpToken?: string; rate: number };
    const demo = startDemo({ endpoint: c.otlpEndpoint, rate: c.rate, token: c.otlpToken, log });
    await untilSignal(log);
    await demo.stop();
    return 0;
  }

  let platform: Platform;
  try {
    platform = await startPlatform(command, loaded.config as CommandConfig, log);
  } catch (e) {
    if (e instanceof RoleError) {
      process.stderr.write(`crowsnest ${command}: ${e.message}\n`);
      return 2;
    }
    log.fatal({ err: e }, 'start failed');
    return 1;
  }
  // The demo starts once the receivers listen, and sends to them over HTTP as any application would.
  let demo: { stop(): Promise<void> } | undefined;
  if ((config as Readonly<Record<string, unknown>>)['demo'] === true) {
    const { startDemo } = await import('../demo/run.ts');
    const c = config as unknown as { host: string; demoRate: number; authToken?: readonly string[] };
    const port = platform.ports['otlpHttp'];
    if (port === undefined) log.warn('--demo: this process has no OTLP/HTTP receiver; no demo traffic');
    else demo = startDemo({ endpoint: ownOtlpEndpoint(c.host, port), rate: c.demoRate, token: c.authToken?.[0], log: log.child({ component: 'demo' }) });
  }
  await untilSignal(log);
  // The demo's last exports go to the receivers before they close.
  await demo?.stop();
  await platform.close();
  log.info('stopped');
  return 0;
}
