/**
 * Logs (pino) on stdout: human-readable lines on a terminal, so a first `npm start` reads well; JSON lines
 * anywhere else (a container, a pipe, a file), which is what log collectors parse. `--log-format json|pretty`
 * overrides the guess. Components take a child logger (`log.child({ component: 'writer' })`), and each line
 * carries `component` once: a child that names its own component replaces its parent's instead of repeating the
 * key (pino would write both, and JSON readers disagree on which one counts). Secrets are redacted wherever they
 * appear in a logged object.
 */
import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, type LoggerOptions as PinoOptions, pino } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/** `auto`: pretty when stdout is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal, silent. */
  level: string;
  /** @default 'auto' */
  format?: LogFormat | undefined;
  /** Where lines go; tests pass a stream. @default stdout */
  destination?: DestinationStream | undefined;
  /** Whether the destination is a terminal (decides `auto`, and colours). @default process.stdout.isTTY */
  isTTY?: boolean | undefined;
}

/** Whether `auto` means pretty. */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

const CHINDINGS = pino.symbols.chindingsSym;
const COMPONENT = '"component":';

/**
 * pino appends a child's bindings to its parent's serialized ones, so `log.child({ component: 'a' }).child({
 * component: 'b' })` wrote the key twice. Runs once per child (fastify makes one per request: hence the cheap
 * test first) and keeps the innermost value.
 */
function oneComponent(child: Logger): void {
  const holder = child as unknown as Record<symbol, string>;
  const chindings = holder[CHINDINGS] ?? '';
  const first = chindings.indexOf(COMPONENT);
  if (first === -1 || chindings.indexOf(COMPONENT, first + COMPONENT.length) === -1) return;
  // Chindings are `,"key":value,…`, already serialized (and redacted); JSON.parse keeps the last duplicate.
  const merged = JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
  holder[CHINDINGS] = `,${JSON.stringify(merged).slice(1, -1)}`;
}

/**
 * The process logger. Takes the level alone (JSON or pretty by the terminal test) or the options. pino-pretty is
 * loaded only when lines are pretty, so a gateway in a container never loads it.
 */
export function createLogger(options: LoggerOptions | string): Logger {
  const opts: LoggerOptions = typeof options === 'string' ? { level: options } : options;
  const isTTY = opts.isTTY ?? process.stdout.isTTY === true;
  const format = resolveLogFormat(opts.format ?? 'auto', isTTY);
  const config: PinoOptions = {
    level: opts.level,
    base: { service: 'crowsnest' },
    // Config secrets are masked by the config loader; this catches credentials in request objects.
    redact: { paths: ['headers.authorization', 'req.headers.authorization'], censor: '<redacted>' },
    onChild: oneComponent,
  };
  if (format === 'json') return opts.destination ? pino(config, opts.destination) : pino(config);
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  const stream = pretty({
    colorize: isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    // `14:02:11.204 INFO  writer: partitions assigned` with the other fields below it.
    ignore: 'pid,hostname,service,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    // Synchronous: a terminal reads at human speed, and a crash's last lines must not be lost.
    sync: true,
    ...(opts.destination ? { destination: opts.destination as NodeJS.WritableStream } : {}),
  });
  return pino(config, stream);
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
