/**
 * The `crowsnest` commands: which roles each runs, and so which options it takes. This is the composition root,
 * the only code that imports roles (lint: .eslint.boundaries.js).
 *
 *   start     writer → pipeline monitor → query → gateway, in one process (the writer first: the gateway feeds
 *             it in-process; the monitor before the query API that reports it); with --demo, main.ts then runs
 *             the demo traffic (ingest/demo) against the process's own OTLP port
 *   gateway   the gateway alone (needs Kafka)
 *   writer    the writer (needs Kafka); with embedded chDB also the query API, since chDB binds its data
 *             directory to one process
 *   query     the query API and the pipeline monitor (needs --clickhouse-url); with Kafka also the Kafka log tap,
 *             which feeds the live tail from the logs topic
 *
 * A command's options are the union of its roles' sections and the options every process has; which of its
 * roles run can depend on the config (the writer's query API), so the spec is the union of all it may run.
 */
import { GATEWAY, KAFKA, PROCESS, STORAGE, WRITER } from '#config/options.ts';
import type { ConfigSpec } from '#config/spec.ts';
import { type LazyRole, type Role, RoleError, lazyRole } from '#core/role.ts';
import { DEMO, DEMO_START } from '../demo/options.ts';
import { TAIL } from '../../query/tail/options.ts';
import { AGENT } from '../../agents/options.ts';

// Each role by name and options; its code is imported only by a process that runs it (#core/role.ts
// lazyRole). The heads repeat each role module's name and options; commands.test.ts checks they agree.
const writerRole = lazyRole(
  { name: 'writer', options: { ...STORAGE, ...KAFKA, ...WRITER } },
  async () => (await import('../pipeline/role.ts')).writerRole,
);
const pipelineMonitorRole = lazyRole(
  { name: 'pipeline-monitor', options: KAFKA },
  async () => (await import('../kafka/monitor-role.ts')).pipelineMonitorRole,
);
const kafkaLogTapRole = lazyRole({ name: 'kafka-log-tap', options: KAFKA }, async () => (await import('../kafka/log-tap.ts')).kafkaLogTapRole);
const gatewayRole = lazyRole({ name: 'gateway', options: { ...KAFKA, ...GATEWAY } }, async () => (await import('../receivers/role.ts')).gatewayRole);
const queryRole = lazyRole({ name: 'query', options: { ...STORAGE, ...TAIL } }, async () => (await import('../../query/role.ts')).queryRole);
const agentRole = lazyRole({ name: 'agent', options: AGENT }, async () => (await import('../../agents/role.ts')).agentRole);

/** Every role a command can run (commands.test.ts loads each and compares it with its head). */
export const ROLES: readonly LazyRole[] = [writerRole, pipelineMonitorRole, kafkaLogTapRole, gatewayRole, queryRole, agentRole];

export interface Command {
  summary: string;
  options: ConfigSpec;
  /** The roles to run, in start order, for a loaded config; a RoleError when the combination cannot work. */
  roles(config: Readonly<Record<string, unknown>>): Role[];
}

const kafkaOn = (c: Readonly<Record<string, unknown>>) => ((c['kafkaBrokers'] as readonly string[] | undefined)?.length ?? 0) > 0;
const embedded = (c: Readonly<Record<string, unknown>>) => c['clickhouseUrl'] === undefined;

const spec = (...roles: Role[]): ConfigSpec => Object.assign({}, PROCESS, ...roles.map((r) => r.options)) as ConfigSpec;

const roles = (...list: Role[]) => list;

export const COMMANDS: Readonly<Record<string, Command>> = {
  start: {
    summary: 'All in one process: OTLP receivers, writers and the query API (embedded chDB; Kafka only if configured).',
    options: Object.assign({}, spec(...roles(writerRole, pipelineMonitorRole, queryRole, gatewayRole)), DEMO_START),
    roles: () => roles(writerRole, pipelineMonitorRole, queryRole, gatewayRole),
  },
  gateway: {
    summary: 'OTLP receivers publishing to Kafka (needs --kafka-brokers).',
    options: spec(...roles(gatewayRole)),
    // Without Kafka the gateway role itself refuses to start (it has no writer in this process to feed).
    roles: () => roles(gatewayRole),
  },
  writer: {
    summary: 'Kafka consumer writing to ClickHouse (needs --kafka-brokers); with embedded chDB it also serves the query API.',
    options: spec(...roles(writerRole, pipelineMonitorRole, queryRole)),
    roles: (c) => {
      if (!kafkaOn(c)) throw new RoleError('the writer role on its own needs Kafka (--kafka-brokers); without Kafka, run `crowsnest start`');
      return embedded(c) ? roles(writerRole, pipelineMonitorRole, queryRole) : roles(writerRole, pipelineMonitorRole);
    },
  },
  query: {
    summary: 'The query API (needs --clickhouse-url: embedded chDB is served by the writer process).',
    options: spec(...roles(pipelineMonitorRole, kafkaLogTapRole, queryRole)),
    roles: (c) => {
      if (embedded(c)) {
        throw new RoleError('with embedded chDB the query role runs inside the writer process (`crowsnest writer` or `crowsnest start`); use --clickhouse-url to run it apart');
      }
      // With Kafka the live tail reads the logs topic (while someone tails); without, it polls ClickHouse (query/tail).
      return kafkaOn(c) ? roles(pipelineMonitorRole, kafkaLogTapRole, queryRole) : roles(pipelineMonitorRole, queryRole);
    },
  },
  agent: {
    summary: 'The node agent: tails container logs (--tail) and forwards them to the gateway (--otlp-endpoint); checkpoints under --data-dir.',
    options: spec(agentRole),
    roles: () => roles(agentRole),
  },
};

/** Every option of every command (and of `crowsnest demo`): environment variables and file keys outside it are typos. */
export const PLATFORM_OPTIONS: ConfigSpec = Object.assign({}, ...Object.values(COMMANDS).map((c) => c.options), DEMO) as ConfigSpec;
