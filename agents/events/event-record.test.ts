import { describe, expect, it } from 'vitest';
import { type EventJson, eventResource, occurrenceKey, toLogRecord, toUnixNanos } from './event-record.ts';

const base: EventJson = {
  metadata: { name: 'api-7d9f.17a', namespace: 'shop', uid: 'u1', creationTimestamp: '2026-01-02T03:04:05Z' },
  eventTime: '2026-01-02T03:04:05.123456Z',
  reportingController: 'default-scheduler',
  reportingInstance: 'default-scheduler-node1',
  action: 'Binding',
  reason: 'Scheduled',
  regarding: { kind: 'Pod', namespace: 'shop', name: 'api-7d9f', uid: 'p1', apiVersion: 'v1' },
  note: 'Successfully assigned shop/api-7d9f to node-1',
  type: 'Normal',
};

describe('toUnixNanos', () => {
  it.each([
    ['2026-01-02T03:04:05Z', '1767323045000000000'],
    ['2026-01-02T03:04:05.123456Z', '1767323045123456000'],
    ['2026-01-02T03:04:05.123456789Z', '1767323045123456789'],
    ['2026-01-02T05:04:05+02:00', '1767323045000000000'],
    ['yesterday', undefined],
    [null, undefined],
  ])('%s', (ts, ns) => expect(toUnixNanos(ts)).toBe(ns));
});

describe('event → log record', () => {
  it('maps a new-style event', () => {
    const r = toLogRecord(base, '42');
    expect(r).toMatchObject({ timeUnixNano: '1767323045123456000', observedTimeUnixNano: '42', severityNumber: 9, severityText: 'INFO', eventName: 'k8s.event', body: { stringValue: base.note } });
    expect(Object.fromEntries(r.attributes.map((a) => [a.key, Object.values(a.value)[0]]))).toEqual({
      'k8s.event.reason': 'Scheduled',
      'k8s.event.type': 'Normal',
      'k8s.event.name': 'api-7d9f.17a',
      'k8s.event.uid': 'u1',
      'k8s.event.count': '1',
      'k8s.event.action': 'Binding',
      'k8s.event.start_time': '2026-01-02T03:04:05.123456Z',
      'k8s.event.last_time': '2026-01-02T03:04:05.123456Z',
      'k8s.event.reporting_controller': 'default-scheduler',
      'k8s.event.reporting_instance': 'default-scheduler-node1',
      'k8s.object.kind': 'Pod',
      'k8s.object.name': 'api-7d9f',
      'k8s.object.namespace': 'shop',
      'k8s.object.uid': 'p1',
      'k8s.object.api_version': 'v1',
    });
    expect(eventResource(base)).toEqual({ 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'api-7d9f', 'k8s.pod.uid': 'p1' });
  });

  it('maps a core/v1 event seen through events.k8s.io (deprecated fields, series) as a warning', () => {
    const e: EventJson = {
      ...base,
      eventTime: null,
      type: 'Warning',
      reason: 'BackOff',
      reportingController: '',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
      deprecatedFirstTimestamp: '2026-01-02T03:00:00Z',
      deprecatedLastTimestamp: '2026-01-02T03:10:00Z',
      deprecatedCount: 7,
      regarding: { kind: 'Deployment', namespace: 'shop', name: 'api' },
    };
    const r = toLogRecord(e, '42');
    const attrs = Object.fromEntries(r.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(r.severityNumber).toBe(13);
    expect(r.severityText).toBe('WARN');
    expect(r.timeUnixNano).toBe('1767323400000000000');
    expect(attrs).toMatchObject({ 'k8s.event.count': '7', 'k8s.event.start_time': '2026-01-02T03:00:00Z', 'k8s.event.last_time': '2026-01-02T03:10:00Z', 'k8s.event.reporting_controller': 'kubelet' });
    expect(eventResource(e)).toEqual({ 'k8s.namespace.name': 'shop', 'k8s.deployment.name': 'api' });
    // series wins over the deprecated count.
    expect(occurrenceKey({ ...e, series: { count: 9, lastObservedTime: '2026-01-02T03:11:00.000001Z' } })).toBe('9|2026-01-02T03:11:00.000001Z');
  });

  it('gives a count bump a new occurrence key, and an update that changes neither count nor time the same one', () => {
    const a = { ...base, series: { count: 2, lastObservedTime: '2026-01-02T03:05:00.000000Z' } };
    expect(occurrenceKey(a)).not.toBe(occurrenceKey({ ...a, series: { count: 3, lastObservedTime: '2026-01-02T03:06:00.000000Z' } }));
    expect(occurrenceKey(a)).toBe(occurrenceKey({ ...a, metadata: { ...a.metadata, resourceVersion: '999' }, note: 'same occurrence' }));
  });
});
