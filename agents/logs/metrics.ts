/**
 * The log source's Prometheus metrics. Per-pod labels are bounded by the pods of one node (the kubelet's limit is
 * 110 by default); in host mode they are empty.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why lines were lost: every reason the log source can lose or cut a line. */
export type LossReason =
  /** The file was deleted (or rotated away while the agent was down) before it was read to its end. */
  | 'deleted_unread'
  /** More rotated files were waiting than `logsMaxOpenRotated`: the oldest was given up, its rest counted. */
  | 'rotated_unread'
  /** A record over `logsMaxRecordBytes`: kept, cut to the limit (`log.record.truncated` = true on it). */
  | 'truncated'
  /** The gateway refused the batch for good (a 4xx other than 408/429, or a partial success rejection). */
  | 'refused'
  /** Lines written between the last read and a copytruncate that left no recognisable copy. */
  | 'copytruncate';

export interface LogMetrics {
  lostLines: Counter<'namespace' | 'pod' | 'reason'>;
  lostBytes: Counter<'namespace' | 'pod' | 'reason'>;
  readLines: Counter<'namespace' | 'pod'>;
  sentRecords: Counter<'namespace' | 'pod'>;
  batches: Counter<'outcome'>;
  filesOpen: Gauge;
  chains: Gauge;
  heldBytes: Gauge;
  checkpointCommits: Counter;
}

export function createLogMetrics(registry: Registry): LogMetrics {
  const registers = [registry];
  return {
    lostLines: new Counter({
      name: 'crowsnest_agent_lost_lines_total',
      help: 'Log lines lost or cut, by pod and reason (deleted_unread, rotated_unread, truncated, refused, copytruncate). Where a file vanished before the agent could count its lines, at least one line is counted and the bytes are in crowsnest_agent_lost_bytes_total.',
      labelNames: ['namespace', 'pod', 'reason'],
      registers,
    }),
    lostBytes: new Counter({
      name: 'crowsnest_agent_lost_bytes_total',
      help: 'Bytes of log files lost, by pod and reason (lower bound when a file vanished unseen).',
      labelNames: ['namespace', 'pod', 'reason'],
      registers,
    }),
    readLines: new Counter({ name: 'crowsnest_agent_log_lines_read_total', help: 'Raw log lines read from files.', labelNames: ['namespace', 'pod'], registers }),
    sentRecords: new Counter({
      name: 'crowsnest_agent_log_records_sent_total',
      help: 'Log records acknowledged by the gateway.',
      labelNames: ['namespace', 'pod'],
      registers,
    }),
    batches: new Counter({ name: 'crowsnest_agent_log_batches_total', help: 'Log batches settled, by outcome (ok, refused).', labelNames: ['outcome'], registers }),
    filesOpen: new Gauge({ name: 'crowsnest_agent_log_files_open', help: 'Log files the agent holds open.', registers }),
    chains: new Gauge({ name: 'crowsnest_agent_log_chains', help: 'Container logs (chains of rotated files) tracked.', registers }),
    heldBytes: new Gauge({ name: 'crowsnest_agent_log_held_bytes', help: 'Bytes of log records read and not yet acknowledged.', registers }),
    checkpointCommits: new Counter({ name: 'crowsnest_agent_log_checkpoint_commits_total', help: 'Checkpoint documents written (fsynced).', registers }),
  };
}
