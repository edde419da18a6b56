/**
 * JSON logs (pino) on stdout. Components take a child logger (`log.child({ component: 'writer' })`);
 * secrets are redacted wherever they appear in a logged object.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'crowsnest' },
    // Config secrets are masked by config/load.ts redacted(); this catches credentials in request objects.
    redact: { paths: ['headers.authorization', 'req.headers.authorization'], censor: '<redacted>' },
  });
}

/** A logger that drops everything, for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
