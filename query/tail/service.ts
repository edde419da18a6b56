/**
 * The query role's tail hub, with its source chosen for the process (see hub.ts and sources.ts):
 * the process's log tap when one is provided (its writer, or its Kafka tap), else one shared poll of the store.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { LogTap } from '#core/log-tap.ts';
import type { Store } from '#storage/client.ts';
import { TailHub, type TailHubOptions } from './hub.ts';
import { PollSource, TapSource } from './sources.ts';

export interface TailDeps {
  /** The process's log tap (`LOG_TAP`), if any role feeds one. */
  tap: LogTap | undefined;
  store: Store;
  config: { tailMaxViewers: number; tailBufferRecords: number };
  registry: Registry;
  log: Logger;
  /** Hub tuning beyond the config (tests). */
  hub?: Partial<TailHubOptions>;
}

export function createTailHub(d: TailDeps): TailHub {
  const log = d.log.child({ part: 'tail' });
  const source = d.tap ? new TapSource(d.tap, log) : new PollSource(d.store, log);
  return new TailHub(source, { maxViewers: d.config.tailMaxViewers, bufferRecords: d.config.tailBufferRecords, ...d.hub }, d.registry, log);
}
