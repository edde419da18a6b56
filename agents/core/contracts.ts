/**
 * The agent's internal contracts: what sources (container logs, scrapes, Kubernetes events, the OTLP relay) hand to
 * the forwarder and get back, and how they learn about this node's pods. Sources, the forwarder and the pod
 * metadata are built apart and meet only here (issue 13).
 *
 * End-to-end acknowledgements (Vector's design): a source acts on its data (advances a file checkpoint, answers an
 * OTLP client, drops a queued scrape) only when `Sink.send` settled the batch. Files are their own buffer, so the
 * log source sends straight to the `Sink` and stops reading while it is unhealthy; sources that cannot read their
 * data again (scrapes, events) put it in the `DurableQueue`, which owns the sending from then on.
 */

export type AgentSignal = 'logs' | 'metrics' | 'traces';

/** One OTLP export request, ready for the gateway. */
export interface Batch {
  signal: AgentSignal;
  /** An OTLP `Export{Logs,Metrics,Trace}ServiceRequest`, protobuf-encoded (`#otlp/to-protobuf.ts` turns OTLP/JSON into it). */
  body: Uint8Array;
  /** Log records, data points or spans in it: for counters and for batching decisions. */
  items: number;
  /**
   * `gzip`: `body` is already gzip-compressed and is sent as it is (the log source compresses a batch once it is
   * complete, so what waits for the gateway is the compressed bytes). Unset: the sink compresses if configured to.
   */
  encoding?: 'gzip';
}

/**
 * How a send ended: acknowledged by the gateway, or refused for good (a 4xx other than 408/429: retrying cannot help).
 * An acknowledgement may carry an OTLP partial success: `rejected` items the gateway refused, with its `message`.
 */
export type Settled = { ok: true; rejected?: number; message?: string } | { ok: false; permanent: true; status: number; reason: string };

export interface Sink {
  /**
   * Sends one batch to the gateway: OTLP/HTTP protobuf, gzip, retried with backoff and jitter honouring
   * Retry-After (#core/retry.ts) until it is acknowledged, refused for good, or `signal` aborts (then it rejects).
   */
  send(batch: Batch, signal?: AbortSignal): Promise<Settled>;
  /** False from a failed attempt until the next success: the log source stops reading files meanwhile. */
  readonly healthy: boolean;
}

/** A bounded on-disk queue in front of the sink, for data that cannot be produced again. */
export interface DurableQueue {
  /** Resolves once the batch is durable on disk; rejects with `QueueFullError` when the bound is reached (count it as lost). */
  enqueue(batch: Batch): Promise<void>;
}

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

/** What the agent knows of one pod on this node, in OpenTelemetry's Kubernetes resource attribute names. */
export interface PodInfo {
  uid: string;
  namespace: string;
  name: string;
  nodeName: string;
  /** The pod's IPs (the OTLP relay attributes a sender by its source address). */
  ips: string[];
  /**
   * `k8s.namespace.name`, `k8s.pod.name`, `k8s.pod.uid`, `k8s.node.name`, the owning workload
   * (`k8s.deployment.name` / `k8s.statefulset.name` / `k8s.daemonset.name` / `k8s.replicaset.name` / `k8s.job.name`
   * / `k8s.cronjob.name`) and the configured pod labels (`k8s.pod.label.<key>`).
   */
  resource: Record<string, string>;
  /** Pod annotations, for `prometheus.io/*` scrape discovery. */
  annotations: Record<string, string>;
  /** Declared container ports, by container name. */
  containers: { name: string; ports: { name?: string; containerPort: number; protocol: string }[] }[];
}

/** This node's pods, kept current by a watch with a `spec.nodeName` field selector. */
export interface PodDirectory {
  byUid(uid: string): PodInfo | undefined;
  byIp(ip: string): PodInfo | undefined;
  list(): PodInfo[];
  /** Called after every change (add, update, delete), for discovery. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}
