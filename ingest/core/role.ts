/**
 * A role is one thing a process can do (the gateway, a writer, the query API; later the node agent, the metrics
 * adapter, the HA inspector). Every role plugs into a process through this one interface:
 *
 *   options   its config section (#config/spec.ts); the process loads the union of its roles' sections
 *   start     what it starts, given a context: its config, a child logger, the process metrics registry, the
 *             services other roles of the process share, the process store, and `routes()` to serve HTTP
 *             routes on the process port (/healthz, /readyz and /metrics are served by the host for everyone)
 *   running   what `start` returns: its ports, its readiness (a reason while not ready) and its `close`
 *
 * Roles never import each other (lint: .eslint.boundaries.js). When two roles of one process must meet (the
 * gateway hands requests to an in-process writer; the query API reports the pipeline a Kafka monitor watches),
 * one provides a value under a typed `ServiceKey` and the other reads it. The host (host.ts) starts roles in
 * the order the CLI gives and closes them in reverse.
 */
import type { FastifyPluginAsync, FastifyPluginCallback, FastifyPluginOptions } from 'fastify';
import type { PROCESS } from '#config/options.ts';
import type { ConfigOf, ConfigSpec } from '#config/spec.ts';
import type { Store } from '#storage/client.ts';
import type { Logger } from './log.ts';
import type { PlatformMetrics } from './metrics.ts';

/** A name for a value roles of one process share; `T` types what `provide` takes and `get` returns. */
export class ServiceKey<T> {
  declare readonly type: T;
  constructor(readonly name: string) {}
}

export interface Services {
  provide<T>(key: ServiceKey<T>, value: T): void;
  get<T>(key: ServiceKey<T>): T | undefined;
  /** The value under `key`, created by `create` the first time (the Kafka client and its metrics, say). */
  shared<T>(key: ServiceKey<T>, create: () => T): T;
}

/** Thrown by a role that cannot run with the given config or companions; the CLI prints it and exits 2. */
export class RoleError extends Error {
  override name = 'RoleError';
}

// Fastify plugins of either style, with their options.
type RoutePlugin<O extends FastifyPluginOptions> = FastifyPluginAsync<O> | FastifyPluginCallback<O>;

/** The options every process has (listeners, logs, auth), beside each role's own section. */
export type ProcessConfig = ConfigOf<typeof PROCESS>;

export interface RoleContext<C> {
  config: C & ProcessConfig;
  /** Name of the process's command (`start`, `gateway`, …), e.g. for client ids. */
  processName: string;
  /** This role's logger: lines carry `component: <role name>` once. */
  log: Logger;
  metrics: PlatformMetrics;
  services: Services;
  /** The process's ClickHouse store, opened and migrated once per process on first call. */
  store(): Promise<Store>;
  /** Serves `plugin` on the process HTTP port once every role has started (until then the port answers 503). */
  routes<O extends FastifyPluginOptions>(plugin: RoutePlugin<O>, opts: O): void;
}

export interface RunningRole {
  /** Ports this role listens on besides the process HTTP port (OTLP/HTTP, OTLP/gRPC, …), by name. */
  ports?: Readonly<Record<string, number>>;
  /** Undefined while ready; otherwise why not (reported by /readyz, which then answers 503). */
  notReady?(): string | undefined;
  /** Stops taking work, finishes what was accepted, releases resources. */
  close(): Promise<void>;
}

export interface Role<S extends ConfigSpec = ConfigSpec> {
  name: string;
  /** One line for `crowsnest --help`. */
  summary: string;
  /** The role's config section (beyond the options every process has). */
  options: S;
  start(ctx: RoleContext<ConfigOf<S>>): Promise<RunningRole>;
}

/** Declares a role; `const` keeps the option literals, so `start` sees narrowed config types. */
export function defineRole<const S extends ConfigSpec>(role: Role<S>): Role<S> {
  return role;
}

/** A role whose code is loaded only when a process starts it (`lazyRole`). */
export interface LazyRole extends Role {
  load(): Promise<Role>;
}

/**
 * A role known by its name, summary and options, its code imported only when a process starts it. Every command
 * lists its roles (their options make its config spec), and importing every role's code made each process pay for
 * all of them: the agent loaded kafkajs, grpc-js and the query API (814 files instead of 496, +22 MiB RSS), the
 * gateway the writer and the query API. `head` (name and options) must equal what the loaded role declares
 * (ingest/cli/commands.test.ts checks it for every role).
 */
export function lazyRole(head: Pick<Role, 'name' | 'options'>, load: () => Promise<Role>): LazyRole {
  return {
    ...head,
    // The one line a role module declares for itself; nothing prints it before the role is loaded.
    summary: '',
    load,
    async start(ctx) {
      return (await load()).start(ctx);
    },
  };
}
