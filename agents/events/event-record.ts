/**
 * A Kubernetes Event (`events.k8s.io/v1`, which also serves every core/v1 event) → an OTLP log record, as
 * OTLP/JSON for `#otlp/to-protobuf.ts`. Pure functions; the collector decides what to send.
 *
 * The record: body = the note; severity INFO for `Normal`, WARN for `Warning`; `EventName` = `k8s.event`
 * (OTLP LogRecord field 12, which the platform decodes and stores in otel_logs.EventName); time = the last
 * occurrence. Attributes: `k8s.event.reason`, `.type`, `.name`, `.uid`, `.count`, `.action`, `.start_time`
 * (first occurrence, as the OpenTelemetry Collector's k8s_events receiver names it), `.last_time`,
 * `.reporting_controller`, `.reporting_instance`, and the involved object as `k8s.object.kind`, `.name`,
 * `.namespace`, `.uid`, `.api_version`, `.field_path`. Resource: `k8s.namespace.name`, the involved object as
 * `k8s.<kind>.name` / `.uid` (`k8s.pod.name`, `k8s.node.name`, `k8s.deployment.name`, …) and the workload
 * that owns it (resolved by the collector).
 *
 * One row per occurrence update: the dedupe key of an event is its count and last occurrence time, so a count
 * bump is a new row carrying the new count, and an update that changes neither (a label, managed fields) is
 * not stored again.
 */
import { WORKLOAD_KINDS } from '../kube/owners.ts';

export interface EventJson {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string };
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  reportingController?: string;
  reportingInstance?: string;
  action?: string;
  reason?: string;
  regarding?: ObjectRef;
  related?: ObjectRef;
  note?: string;
  type?: string;
  deprecatedSource?: { component?: string; host?: string };
  deprecatedFirstTimestamp?: string | null;
  deprecatedLastTimestamp?: string | null;
  deprecatedCount?: number;
}

export interface ObjectRef {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  fieldPath?: string;
}

export const EVENT_NAME = 'k8s.event';
export const SEVERITY_INFO = 9;
export const SEVERITY_WARN = 13;

/** Resource attribute prefixes of the involved object, by kind: the conventions' names, else `k8s.<kind>`. */
const OBJECT_PREFIX: Readonly<Record<string, string>> = {
  ...WORKLOAD_KINDS,
  Pod: 'k8s.pod',
  Node: 'k8s.node',
  Namespace: 'k8s.namespace',
  HorizontalPodAutoscaler: 'k8s.hpa',
  ResourceQuota: 'k8s.resourcequota',
  ReplicationController: 'k8s.replicationcontroller',
  PersistentVolumeClaim: 'k8s.persistentvolumeclaim',
  PersistentVolume: 'k8s.persistentvolume',
};

export function objectPrefix(kind: string): string {
  return OBJECT_PREFIX[kind] ?? `k8s.${kind.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
}

/** RFC 3339 (seconds, or micro/nanoseconds of a MicroTime) → Unix nanoseconds as a decimal string; undefined if unparsable. */
export function toUnixNanos(ts: string | null | undefined): string | undefined {
  if (!ts) return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0');
  return (BigInt(ms) * 1_000_000n + BigInt(frac)).toString();
}

export function occurrenceCount(e: EventJson): number {
  return e.series?.count ?? e.deprecatedCount ?? 1;
}

export function firstTime(e: EventJson): string | undefined {
  return e.deprecatedFirstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? undefined;
}

export function lastTime(e: EventJson): string | undefined {
  return e.series?.lastObservedTime ?? e.deprecatedLastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? undefined;
}

/** What makes one stored row of an event: a new count or a new last occurrence is a new row, anything else is not. */
export function occurrenceKey(e: EventJson): string {
  return `${occurrenceCount(e)}|${lastTime(e) ?? ''}`;
}

type AnyValue = { stringValue: string } | { intValue: string };
export interface KeyValueJson {
  key: string;
  value: AnyValue;
}

export interface LogRecordJson {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: KeyValueJson[];
  eventName: string;
}

const str = (key: string, value: string | undefined): KeyValueJson[] => (value ? [{ key, value: { stringValue: value } }] : []);

/** The log record of one occurrence update of `e`; `observedNanos` is when the collector saw it. */
export function toLogRecord(e: EventJson, observedNanos: string): LogRecordJson {
  const warning = e.type === 'Warning';
  const last = toUnixNanos(lastTime(e)) ?? observedNanos;
  const r = e.regarding ?? {};
  return {
    timeUnixNano: last,
    observedTimeUnixNano: observedNanos,
    severityNumber: warning ? SEVERITY_WARN : SEVERITY_INFO,
    severityText: warning ? 'WARN' : 'INFO',
    body: { stringValue: e.note ?? '' },
    eventName: EVENT_NAME,
    attributes: [
      ...str('k8s.event.reason', e.reason),
      ...str('k8s.event.type', e.type),
      ...str('k8s.event.name', e.metadata?.name),
      ...str('k8s.event.uid', e.metadata?.uid),
      { key: 'k8s.event.count', value: { intValue: String(occurrenceCount(e)) } },
      ...str('k8s.event.action', e.action),
      ...str('k8s.event.start_time', firstTime(e)),
      ...str('k8s.event.last_time', lastTime(e)),
      ...str('k8s.event.reporting_controller', e.reportingController || e.deprecatedSource?.component),
      ...str('k8s.event.reporting_instance', e.reportingInstance || e.deprecatedSource?.host),
      ...str('k8s.object.kind', r.kind),
      ...str('k8s.object.name', r.name),
      ...str('k8s.object.namespace', r.namespace),
      ...str('k8s.object.uid', r.uid),
      ...str('k8s.object.api_version', r.apiVersion),
      ...str('k8s.object.field_path', r.fieldPath),
    ],
  };
}

/** Resource attributes of an event: its namespace and the involved object (the collector adds the workload). */
export function eventResource(e: EventJson): Record<string, string> {
  const r = e.regarding ?? {};
  const out: Record<string, string> = {};
  const ns = r.namespace || e.metadata?.namespace;
  if (ns) out['k8s.namespace.name'] = ns;
  if (r.kind && r.name) {
    const prefix = objectPrefix(r.kind);
    out[`${prefix}.name`] = r.name;
    if (r.uid) out[`${prefix}.uid`] = r.uid;
  }
  return out;
}

/**
 * An `ExportLogsServiceRequest` as OTLP/JSON: records grouped by their resource (events of one pod share a
 * ResourceLogs), one scope naming the collector.
 */
export function logsRequest(records: { resource: Record<string, string>; record: LogRecordJson }[], scopeVersion: string): object {
  const groups = new Map<string, { resource: Record<string, string>; records: LogRecordJson[] }>();
  for (const { resource, record } of records) {
    const key = JSON.stringify(Object.entries(resource).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { resource, records: [] }));
    g.records.push(record);
  }
  return {
    resourceLogs: [...groups.values()].map((g) => ({
      resource: { attributes: Object.entries(g.resource).map(([key, v]) => ({ key, value: { stringValue: v } })) },
      scopeLogs: [{ scope: { name: 'crowsnest-agent/k8s-events', version: scopeVersion }, logRecords: g.records }],
    })),
  };
}
