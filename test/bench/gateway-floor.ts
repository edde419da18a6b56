/**
 * Bench only: the gateway's receivers with a NULL TRANSPORT, the floor of `gateway.bench.ts`. It runs what the
 * gateway role runs for each request (the OTLP/HTTP and OTLP/gRPC receivers of ingest/receivers, the same
 * validation, the same answers) but `publish` answers at once and sends nothing anywhere: no split per trace id,
 * no Kafka. What a request costs the gateway above this floor is the Kafka path's own cost.
 *
 *   node --import tsx test/bench/gateway-floor.ts <otlp-http-port> <otlp-grpc-port>
 *
 * Prints `ready <http> <grpc>` on stdout once both listen; stops on SIGTERM.
 */
import { GATEWAY } from '#config/options.ts';
import { createMetrics } from '#core/metrics.ts';
import { silentLogger } from '#core/log.ts';
import type { Envelope, PublishResult, Transport } from '../../ingest/pipeline/transport.ts';
import { GrpcReceiver } from '../../ingest/receivers/grpc.ts';
import { buildHttpReceiver } from '../../ingest/receivers/http.ts';

/** Accepts every request and does nothing with it (needsRows false: requests are validated, as for Kafka). */
class NullTransport implements Transport {
  readonly name = 'null (bench floor: answers without publishing)';
  readonly needsRows = false;
  publish(_env: Envelope): Promise<PublishResult> {
    return Promise.resolve({ ok: true });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const [httpPort = '0', grpcPort = '0'] = process.argv.slice(2);
const log = silentLogger();
const deps = { transport: new NullTransport(), metrics: createMetrics(), maxRequestBytes: GATEWAY.maxRequestBytes.default, authTokens: undefined };
const http = buildHttpReceiver({ ...deps, log });
const grpc = new GrpcReceiver({ ...deps, log });
await http.listen({ host: '127.0.0.1', port: Number(httpPort) });
const address = http.server.address();
const boundHttp = typeof address === 'object' && address ? address.port : Number(httpPort);
const boundGrpc = await grpc.listen('127.0.0.1', Number(grpcPort));
process.stdout.write(`ready ${boundHttp} ${boundGrpc}\n`);
process.once('SIGTERM', () => {
  void Promise.all([grpc.close(), http.close()]).then(() => process.exit(0));
});
