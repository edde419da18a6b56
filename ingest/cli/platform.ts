/**
 * The composition root: starts the parts the requested roles need and returns one handle that stops them
 * in reverse order (stop accepting, drain the transport, flush writers, close Kafka and the store).
 *
 *   gateway: OTLP receivers ─► transport (Kafka, or in-process straight into a batch writer)
 *   writer:  Kafka consumer group ─► ClickHouse (only with Kafka; without it the gateway writes in-process)
 *   query:   the query API over ClickHouse
 *
 * Every role serves /healthz, /readyz and /metrics on --http-port (the query API adds its routes there).
 * With embedded chDB the writer and query roles share a process, since chDB binds its data directory to one.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '#config/options.ts';
import type { Logger } from '#core/log.ts';
import { type PlatformMetrics, createMetrics } from '#core/metrics.ts';
import { createKafka, ensureTopics, topicsOf } from '../kafka/client.ts';
import { LagMonitor } from '../kafka/lag.ts';
import { createKafkaMetrics } from '../kafka/metrics.ts';
import { KafkaTransport } from '../kafka/transport.ts';
import { KafkaWriter } from '../kafka/writer.ts';
import { InProcessTransport } from '../pipeline/in-process.ts';
import type { Transport } from '../pipeline/transport.ts';
import { BatchWriter } from '../pipeline/writer.ts';
import { GrpcReceiver } from '../receivers/grpc.ts';
import { buildHttpReceiver } from '../receivers/http.ts';
import { type Store, createStore } from '#storage/client.ts';
import { type Codecs, loadCodecs } from '#storage/codecs.ts';
import { migrate } from '#storage/migrate.ts';
import { buildQueryApp } from '../../query/app.ts';

export type Role = 'gateway' | 'writer' | 'query';
export const ALL_ROLES: ReadonlySet<Role> = new Set(['gateway', 'writer', 'query']);

export interface Platform {
  /** Bound ports (differ from the config when it asked for port 0); 0 for listeners the roles do not run. */
  ports: { otlpHttp: number; otlpGrpc: number; http: number };
  roles: ReadonlySet<Role>;
  store: Store | undefined;
  metrics: PlatformMetrics;
  close(): Promise<void>;
}

export class RoleError extends Error {
  override name = 'RoleError';
}

/** Which roles actually run, given the requested ones and the config; rejects combinations that cannot work. */
export function resolveRoles(requested: ReadonlySet<Role>, config: Config): Set<Role> {
  const roles = new Set(requested);
  const kafka = (config.kafkaBrokers?.length ?? 0) > 0;
  const embedded = config.clickhouseUrl === undefined;
  if (!kafka && roles.has('gateway') !== roles.has('writer')) {
    throw new RoleError(`the ${roles.has('gateway') ? 'gateway' : 'writer'} role on its own needs Kafka (--kafka-brokers); without Kafka, run \`crowsnest start\``);
  }
  if (embedded && roles.has('query') && !roles.has('writer')) {
    throw new RoleError('with embedded chDB the query role runs inside the writer process (`crowsnest writer` or `crowsnest start`); use --clickhouse-url to run it apart');
  }
  if (embedded && roles.has('writer')) roles.add('query');
  return roles;
}

function portOf(app: FastifyInstance): number {
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

export async function startPlatform(config: Config, log: Logger, requested: ReadonlySet<Role> = ALL_ROLES): Promise<Platform> {
  const roles = resolveRoles(requested, config);
  const metrics = createMetrics();
  const kafkaOn = (config.kafkaBrokers?.length ?? 0) > 0;
  let ready = false;
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    ready = false;
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log.error({ err }, 'error during shutdown'));
    stops.length = 0;
  };
  const ports = { otlpHttp: 0, otlpGrpc: 0, http: 0 };
  try {
    let store: Store | undefined;
    let codecs: Codecs | undefined;
    if (roles.has('writer') || roles.has('query')) {
      const s = createStore({ dataDir: config.dataDir, clickhouseUrl: config.clickhouseUrl, database: config.clickhouseDatabase, insertConcurrency: config.insertConcurrency });
      store = s;
      stops.push(() => s.close());
      const ttlDays = { traces: config.tracesTtlDays, logs: config.logsTtlDays, metrics: config.metricsTtlDays };
      await migrate(s, { database: config.clickhouseDatabase, cluster: config.clickhouseCluster, ttlDays }, log.child({ component: 'migrate' }));
      if (roles.has('writer')) codecs = await loadCodecs(s, config.clickhouseDatabase);
    }

    const kafka = kafkaOn ? createKafka(config, [...roles].join('-'), log) : undefined;
    const kmetrics = kafka ? createKafkaMetrics(metrics) : undefined;
    const topics = topicsOf(config);
    if (kafka) await ensureTopics(kafka, topics, config.kafkaPartitions, config.kafkaReplicationFactor, log.child({ component: 'kafka' }));

    let lag: LagMonitor | undefined;
    if (kafka && kmetrics && (roles.has('writer') || roles.has('query'))) {
      const monitor = new LagMonitor(kafka, config.kafkaGroupId, topics, kmetrics, log.child({ component: 'kafka-lag' }));
      monitor.start();
      lag = monitor;
      stops.push(() => monitor.close());
    }

    // The HTTP port listens first, so /healthz answers (and /readyz says 503) while the rest starts.
    const app = await buildQueryApp({
      store,
      authTokens: config.authToken,
      log: log.child({ component: 'query' }),
      metrics,
      isReady: () => ready,
      pipeline: () => lag?.snapshot() ?? { transport: kafkaOn ? 'kafka' : 'in-process' },
    });
    await app.listen({ host: config.host, port: config.httpPort });
    stops.push(() => app.close());
    ports.http = portOf(app);

    let batchWriter: BatchWriter | undefined;
    if (roles.has('writer') && store && codecs) {
      if (kafka && kmetrics) {
        const writer = new KafkaWriter(
          kafka,
          store,
          { database: config.clickhouseDatabase, codecs, groupId: config.kafkaGroupId, topics, maxRows: config.batchMaxRows, maxAgeMs: config.kafkaBatchMaxAgeMs },
          metrics,
          kmetrics,
          log.child({ component: 'kafka-writer' }),
        );
        await writer.start();
        stops.push(() => writer.close());
      } else {
        const writer = new BatchWriter(store, { database: config.clickhouseDatabase, codecs, maxRows: config.batchMaxRows, maxAgeMs: config.batchMaxAgeMs }, metrics, log.child({ component: 'writer' }));
        batchWriter = writer;
        stops.push(() => writer.close());
      }
    }

    let transport: Transport | undefined;
    if (roles.has('gateway')) {
      if (kafka && kmetrics) {
        const kt = new KafkaTransport(kafka, { topics, compression: config.kafkaCompression as 'gzip' | 'none', maxBytes: config.queueMaxBytes }, kmetrics, log.child({ component: 'kafka-producer' }));
        await kt.connect();
        transport = kt;
      } else if (batchWriter) {
        transport = new InProcessTransport(batchWriter, config.queueMaxBytes, metrics);
      }
    }
    if (transport) {
      const t = transport;
      stops.push(() => t.close());
      const deps = { transport: t, metrics, maxRequestBytes: config.maxRequestBytes, authTokens: config.authToken };
      const http = buildHttpReceiver({ ...deps, log: log.child({ component: 'otlp-http' }) });
      await http.listen({ host: config.host, port: config.otlpHttpPort });
      stops.push(() => http.close());
      ports.otlpHttp = portOf(http);
      const grpc = new GrpcReceiver({ ...deps, log: log.child({ component: 'otlp-grpc' }) });
      ports.otlpGrpc = await grpc.listen(config.host, config.otlpGrpcPort);
      stops.push(() => grpc.close());
    }

    ready = true;
    log.info(
      { roles: [...roles], ports, storage: store ? (store.embedded ? `chDB in ${config.dataDir}` : 'ClickHouse server') : 'none', transport: transport?.name ?? 'none' },
      'crowsnest is ready',
    );
    return { ports, roles, store, metrics, close: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
