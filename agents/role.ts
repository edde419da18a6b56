/**
 * The node agent role (`crowsnest agent`): its sources, composed around one forwarder (the `Sink`).
 *
 *   container logs   agents/logs: tails the files matched by `--tail`, checkpoints under `--data-dir`
 *   scrapes          agents/metrics (with `--scrape`): static targets, through the on-disk queue (agents/queue)
 *                    under `<data-dir>/queue`, since a scrape cannot be read again
 *   forwarder        agents/forward: OTLP/HTTP protobuf to `--otlp-endpoint`
 *
 * The process's HTTP port serves /metrics (the agent's `crowsnest_agent_*` metrics beside the process ones),
 * /healthz and /readyz (ready once the first scan of the log files is done and its checkpoint written).
 *
 * The agent imports only the shared layer (#core, #config, #otlp) and its own folders: it never loads the storage
 * layer or chDB (lint: .eslint.boundaries.js), so its image needs none of it.
 *
 * Close order: the log source first (no new sends; the batches in flight stay in the checkpoint and are rebuilt
 * at the next start), then the forwarder's connections.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defineRole } from '#core/role.ts';
import { HttpSink } from './forward/http-sink.ts';
import { LogSource } from './logs/source.ts';
import { type MetricsSource, createMetricsSource } from './metrics/scrape.ts';
import { DiskQueue } from './queue/disk-queue.ts';
import { AGENT } from './options.ts';

export const agentRole = defineRole({
  name: 'agent',
  summary: 'The node agent: tails container log files (--tail) and forwards to the gateway (--otlp-endpoint), checkpointing under --data-dir.',
  options: AGENT,
  async start(ctx) {
    const { config } = ctx;
    const registry = ctx.metrics.registry;
    const sink = new HttpSink({
      endpoint: config.otlpEndpoint,
      authToken: config.otlpAuthToken,
      gzip: config.forwardGzip,
      maxInFlight: config.forwardMaxInFlight,
      timeoutMs: config.forwardTimeoutMs,
      maxRetryDelayMs: config.forwardMaxRetryDelayMs,
      log: ctx.log.child({ part: 'forward' }),
      registry,
    });
    let logs: LogSource | undefined;
    if (config.tail.length > 0) {
      logs = new LogSource(
        { sink, log: ctx.log.child({ part: 'logs' }), registry },
        {
          globs: config.tail,
          dataDir: config.dataDir,
          nodeName: config.nodeName ?? hostname(),
          readFrom: config.logsReadFrom,
          scanIntervalMs: config.logsScanIntervalMs,
          pollIntervalMs: config.logsPollIntervalMs,
          maxHeldBytes: config.logsMaxHeldBytes,
          multiline: config.logsMultiline,
          maxLineBytes: config.logsMaxLineBytes,
          maxRecordBytes: config.logsMaxRecordBytes,
          batchMaxRecords: config.logsBatchMaxRecords,
          batchMaxBytes: config.logsBatchMaxBytes,
          flushTimeoutMs: config.logsFlushTimeoutMs,
          rotateWaitMs: config.logsRotateWaitMs,
          maxOpenRotated: config.logsMaxOpenRotated,
          readChunkBytes: 256 * 1024,
          maxPending: 50_000,
        },
      );
      await logs.start();
    }
    const nodeName = config.nodeName ?? hostname();
    let queue: DiskQueue | undefined;
    let scrapes: MetricsSource | undefined;
    if (config.scrape.length > 0) {
      queue = await DiskQueue.open({ dir: join(config.dataDir, 'queue'), sink, log: ctx.log.child({ part: 'queue' }), registry });
      queue.start();
      scrapes = createMetricsSource({
        queue,
        log: ctx.log.child({ part: 'scrape' }),
        registry,
        staticTargets: config.scrape,
        nodeResource: config.nodeName !== undefined ? { 'k8s.node.name': nodeName } : { 'host.name': nodeName },
      });
      scrapes.start();
    }
    return {
      notReady: () => (logs !== undefined && !logs.started ? 'log files not scanned yet' : undefined),
      async close() {
        await scrapes?.stop();
        await logs?.close();
        await queue?.close();
        sink.close();
      },
    };
  },
});
