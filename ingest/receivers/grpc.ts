/**
 * OTLP/gRPC receiver (default :4317): the trace, logs and metrics `Export` services. Messages pass through as
 * raw bytes and are decoded by the same decoder as OTLP/HTTP. Errors are the platform's (#core/errors.ts), each
 * code mapped to its gRPC status as the OTLP spec asks: INVALID_ARGUMENT for malformed data, UNAUTHENTICATED
 * without a valid token, UNAVAILABLE with a `google.rpc.RetryInfo` detail when the pipeline is full (the SDK
 * exporters honour its delay), INTERNAL when the fault is ours (details name a request id, the log has the rest).
 * grpc-js itself enforces the size limit (RESOURCE_EXHAUSTED) and handles gzip message compression.
 */
import * as grpc from '@grpc/grpc-js';
import { authEnabled, tokenMatches } from '#core/auth.ts';
import { AppError, logFailure, requestIds } from '#core/errors.ts';
import type { Logger } from '#core/log.ts';
import type { Signal } from '#otlp/rows.ts';
import { type AcceptDeps, accept } from './accept.ts';
import { retryStatusDetails, successProtobuf } from './responses.ts';

export interface GrpcReceiverOptions extends AcceptDeps {
  maxRequestBytes: number;
  authTokens?: readonly string[] | undefined;
  log: Logger;
}

const SERVICES: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

const identity = (b: Buffer): Buffer => b;

function definition(signal: Signal): grpc.ServiceDefinition {
  return {
    Export: {
      path: SERVICES[signal],
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

export class GrpcReceiver {
  readonly server: grpc.Server;

  constructor(private readonly opts: GrpcReceiverOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': opts.maxRequestBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    for (const signal of ['traces', 'logs', 'metrics'] as const) {
      this.server.addService(definition(signal), { Export: this.#handler(signal) });
    }
  }

  readonly #requestId = requestIds();

  #handler(signal: Signal): grpc.handleUnaryCall<Buffer, Buffer> {
    return (call, callback) => {
      const fail = (err: AppError) => {
        const requestId = this.#requestId();
        logFailure(this.opts.log, err, { reqId: requestId, signal, protocol: 'grpc' });
        const details = err.publicMessage(requestId);
        const metadata = new grpc.Metadata();
        if (err.retryAfterSeconds !== undefined) {
          metadata.set('grpc-status-details-bin', retryStatusDetails(err.grpcStatus, details, err.retryAfterSeconds));
        }
        callback({ code: err.grpcStatus, details, metadata });
      };
      const tokens = this.opts.authTokens;
      if (authEnabled(tokens)) {
        const header = call.metadata.get('authorization')[0];
        if (!tokenMatches(typeof header === 'string' ? header : header?.toString(), tokens)) {
          fail(new AppError('UNAUTHORIZED', 'missing or invalid bearer token'));
          return;
        }
      }
      accept(this.opts, signal, 'protobuf', call.request, 'grpc').then(
        (outcome) => {
          if (outcome.kind === 'ok') callback(null, Buffer.from(successProtobuf(outcome.rejected, outcome.message)));
          else fail(outcome.error);
        },
        (err: unknown) => fail(new AppError('INTERNAL', 'otlp grpc request failed', { cause: err })),
      );
    };
  }

  /** Binds and starts serving; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  }

  /** Stops accepting calls and waits for those in flight (forcing after `graceMs`). */
  close(graceMs = 10_000): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
