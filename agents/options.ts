/**
 * The agent's config section (`crowsnest agent`): flags, `CROWSNEST_*` variables and config-file keys, as every
 * role's (#config/spec.ts). Host mode needs only `--tail`, `--otlp-endpoint` and `--data-dir`; structured
 * settings (multiline rules per container) come from the config file.
 */
import type { ConfigSpec } from '#config/spec.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

const multilineSchema = {
  type: 'array',
  maxItems: 1000,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['start'],
    properties: {
      namespace: { type: 'string', maxLength: 253 },
      pod: { type: 'string', maxLength: 253 },
      container: { type: 'string', maxLength: 253 },
      path: { type: 'string', maxLength: 4096 },
      start: { type: 'string', minLength: 1, maxLength: 4096 },
      maxLines: { type: 'integer', minimum: 1, maximum: 100_000 },
      maxBytes: { type: 'integer', minimum: 1024, maximum: 64 * MiB },
    },
  },
} as const;

export const AGENT = {
  otlpEndpoint: {
    type: 'string',
    default: 'http://127.0.0.1:4318',
    doc: "The gateway's OTLP/HTTP base URL; batches go to <url>/v1/logs, /v1/metrics, /v1/traces.",
  },
  otlpAuthToken: { type: 'string', secret: true, doc: 'Bearer token the agent sends to the gateway (the gateway\'s --auth-token). Unset: none.' },
  dataDir: {
    type: 'string',
    default: './data/agent',
    doc: 'Directory of the agent\'s state: log checkpoints (<dir>/logs/checkpoints.json) and the on-disk queue of scrapes and events. In Kubernetes a hostPath, so a restarted pod resumes where it stopped.',
  },
  nodeName: { type: 'string', doc: 'This node\'s name (k8s.node.name; the downward API\'s spec.nodeName). Unset: the host name.' },
  tail: {
    type: 'list',
    default: ['/var/log/pods/*/*/*.log'],
    doc: 'Log files to tail (absolute globs: *, ?, **, {a,b}); rotated siblings (0.log.20240102-030405, .1) are followed too. Files in kubelet\'s /var/log/pods layout get their pod\'s attributes from the path. Repeat the flag for more.',
  },
  scrape: { type: 'list', default: [], doc: 'Static Prometheus scrape targets (URLs of /metrics endpoints). Repeat the flag for more.' },
  logsReadFrom: {
    type: 'string',
    default: 'beginning',
    choices: ['beginning', 'end'],
    doc: 'First start without a checkpoint: read files found then from their beginning, or only what is written after the start. Files found later are read from their beginning.',
  },
  logsMaxLineBytes: { type: 'int', default: 256 * KiB, min: 1 * KiB, max: 64 * MiB, doc: 'A raw line longer than this is cut (counted, reason truncated).' },
  logsMaxRecordBytes: {
    type: 'int',
    default: 256 * KiB,
    min: 1 * KiB,
    max: 64 * MiB,
    doc: 'A record (partial pieces and multiline lines joined) longer than this is cut to it and marked log.record.truncated (counted, reason truncated).',
  },
  logsMultiline: {
    type: 'json',
    default: [],
    schema: multilineSchema,
    doc: 'Multiline rules, first match wins: [{namespace?, pod?, container?, path? (globs), start (regex of a record\'s first line), maxLines?, maxBytes?}]. Lines not matching `start` join the record before them, per stream.',
  },
  logsFlushTimeoutMs: { type: 'int', default: 1000, min: 10, max: 600_000, doc: 'A multiline record or a partial line waiting longer than this for its next line is sent as it is.' },
  logsBatchMaxRecords: { type: 'int', default: 2000, min: 1, max: 100_000, doc: 'Records in one request to the gateway at most.' },
  logsBatchMaxBytes: { type: 'int', default: 1 * MiB, min: 16 * KiB, max: 16 * MiB, doc: 'Bytes of record text in one request at most (before encoding and compression).' },
  logsBatchLingerMs: {
    type: 'int',
    default: 500,
    min: 0,
    max: 10_000,
    doc: 'How long a batch that is not full waits for more records before it is sent: the latency added at most. Longer means fewer, larger requests and checkpoint writes on a quiet node.',
  },
  logsMaxOpenRotated: {
    type: 'int',
    default: 5,
    min: 0,
    max: 1000,
    doc: 'Rotated files per container held open until read; beyond it the oldest is given up and its unread lines counted lost (reason deleted_unread or rotated_unread).',
  },
  logsMaxHeldBytes: { type: 'int', default: 64 * MiB, min: 1 * MiB, doc: 'Bytes of log records read and not yet acknowledged, over all containers; reading pauses beyond it.' },
  logsScanIntervalMs: { type: 'int', default: 1000, min: 10, max: 600_000, doc: 'How often the tail globs are scanned for new and rotated files.' },
  logsPollIntervalMs: { type: 'int', default: 250, min: 5, max: 60_000, doc: 'How often an idle file is checked for new lines.' },
  logsRotateWaitMs: {
    type: 'int',
    default: 5000,
    min: 0,
    max: 600_000,
    doc: 'A rotated file is finished once the new file has lines, or after this long without growth.',
  },
  podLabels: {
    type: 'list',
    default: [],
    doc: 'Pod labels copied to resource attributes as k8s.pod.label.<key> (an allow-list; Kubernetes mode).',
  },
  kubernetes: {
    type: 'bool',
    default: false,
    doc: "Kubernetes mode: watch this node's pods (attributes for logs and the relay, annotated scrape targets), scrape the kubelet, collect cluster events (one agent at a time, by Lease) and relay OTLP from pods. Needs --node-name, and --pod-name/--pod-namespace for the events Lease (the DaemonSet sets all three from the downward API).",
  },
  kubeconfig: { type: 'string', doc: "Kubeconfig file for Kubernetes mode. Unset: the pod's service account (in-cluster)." },
  podName: { type: 'string', doc: "This agent's pod name: its identity as the events Lease holder (downward API metadata.name)." },
  podNamespace: { type: 'string', doc: "This agent's namespace, where the events Lease lives (downward API metadata.namespace)." },
  events: { type: 'bool', default: true, doc: 'Kubernetes mode: collect events.k8s.io Events cluster-wide while this agent holds the Lease crowsnest-agent-events.' },
  relay: {
    type: 'bool',
    default: true,
    doc: "Kubernetes mode: listen for OTLP from this node's pods (the DaemonSet's hostPorts), add the sending pod's attributes and forward to the gateway.",
  },
  relayHttpPort: { type: 'int', default: 4318, min: 0, max: 65535, doc: 'OTLP/HTTP port of the relay (0: any free port).' },
  relayGrpcPort: { type: 'int', default: 4317, min: -1, max: 65535, doc: 'OTLP/gRPC port of the relay (0: any free port; -1: off).' },
  hostIp: { type: 'string', doc: "This node's IP (downward API status.hostIP), where its kubelet's /metrics/resource and /metrics/cadvisor are scraped. Unset: no kubelet scrapes." },
  kubeletInsecureSkipVerify: {
    type: 'bool',
    default: true,
    doc: "Skip verifying the kubelet's serving certificate (kubelets usually serve a self-signed one unless serverTLSBootstrap is on).",
  },
  forwardMaxInFlight: { type: 'int', default: 4, min: 1, max: 256, doc: 'Requests to the gateway in flight at once.' },
  forwardTimeoutMs: { type: 'int', default: 30_000, min: 100, max: 600_000, doc: 'Time for one request to the gateway before it is retried.' },
  forwardMaxRetryDelayMs: { type: 'int', default: 10_000, min: 10, max: 600_000, doc: 'Longest wait between retries (a Retry-After asking for more is honoured).' },
  forwardGzip: { type: 'bool', default: true, doc: 'Compress requests to the gateway with gzip (level 1).' },
} as const satisfies ConfigSpec;
