/**
 * The gateway role: the OTLP receivers (HTTP and gRPC) and the transport they hand accepted requests to:
 * Kafka when brokers are configured, else the write-ahead log of the same process (`LOCAL_TRANSPORT`, provided by
 * the writer role, which the CLI starts first).
 * Close order: stop the listeners, then drain the transport, so every request that got an answer is durable.
 */
import { GATEWAY, KAFKA } from '#config/options.ts';
import { RoleError, defineRole } from '#core/role.ts';
import { KafkaTransport } from '../kafka/transport.ts';
import { kafkaOf } from '../kafka/shared.ts';
import { LOCAL_TRANSPORT, type Transport } from '../pipeline/transport.ts';
import { GrpcReceiver } from './grpc.ts';
import { buildHttpReceiver } from './http.ts';

export const gatewayRole = defineRole({
  name: 'gateway',
  summary: 'OTLP receivers (HTTP :4318, gRPC :4317) handing requests to Kafka, or to the write-ahead log of the same process.',
  options: { ...KAFKA, ...GATEWAY },
  async start(ctx) {
    const { config } = ctx;
    let transport: Transport;
    const kafka = kafkaOf(ctx);
    if (kafka !== undefined) {
      const { kafka: client, metrics: kmetrics, topics } = await kafka;
      const kt = new KafkaTransport(client, { topics, compression: config.kafkaCompression, maxBytes: config.queueMaxBytes }, kmetrics, ctx.log.child({ part: 'kafka-producer' }));
      await kt.connect();
      transport = kt;
    } else {
      const local = ctx.services.get(LOCAL_TRANSPORT);
      if (local === undefined) throw new RoleError('the gateway role on its own needs Kafka (--kafka-brokers); without Kafka, run `crowsnest start`');
      transport = local;
    }
    const deps = { transport, metrics: ctx.metrics, maxRequestBytes: config.maxRequestBytes, authTokens: config.authToken };
    const http = buildHttpReceiver({ ...deps, log: ctx.log.child({ part: 'otlp-http' }) });
    const grpc = new GrpcReceiver({ ...deps, log: ctx.log.child({ part: 'otlp-grpc' }) });
    try {
      await http.listen({ host: config.host, port: config.otlpHttpPort });
    } catch (e) {
      await transport.close();
      throw e;
    }
    const address = http.server.address();
    const otlpHttp = typeof address === 'object' && address ? address.port : config.otlpHttpPort;
    let otlpGrpc: number;
    try {
      otlpGrpc = await grpc.listen(config.host, config.otlpGrpcPort);
    } catch (e) {
      await http.close();
      await transport.close();
      throw e;
    }
    return {
      ports: { otlpHttp, otlpGrpc },
      async close() {
        await Promise.all([grpc.close(), http.close()]);
        await transport.close();
      },
    };
  },
});
