/**
 * Hand-crafted protobuf: what the SDK cannot produce (summaries, values beyond 2^53, unknown fields, empty metric
 * data, odd field order) and malformed input.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { OtlpDecodeError, decodeProtobuf } from './decode.ts';
import { setAnyValueAttributes } from './test-sdk.ts';
import { bytes, concat, double, fixed32, fixed64, hex, msg, rawVarint, sint32, strAttr, tag, varint } from './test-pb.ts';

const TRACE_ID = hex('0af7651916cd43dd8448eb211c80319c');
const SPAN_ID = hex('b7ad6b7169203331');

const resource = msg(1, strAttr(1, 'service.name', 'billing'), varint(2, 0));
const scope = msg(1, bytes(1, 'billing-lib'), bytes(2, '1.0.0'));

/** A span message body (without its field tag) with the given extra fields. */
function spanFields(...extra: Uint8Array[]): Uint8Array {
  return concat(
    bytes(1, TRACE_ID),
    bytes(2, SPAN_ID),
    bytes(5, 'charge'),
    varint(6, 2),
    fixed64(7, 1_700_000_000_000_000_000n),
    fixed64(8, 1_700_000_000_250_000_000n),
    ...extra,
  );
}

function tracesRequest(...spans: Uint8Array[]): Uint8Array {
  return msg(1, resource, msg(2, scope, ...spans.map((s) => bytes(2, s))));
}

function expectError(fn: () => unknown, message: string | RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(OtlpDecodeError);
  if (typeof message === 'string') expect((thrown as Error).message).toBe(message);
  else expect((thrown as Error).message).toMatch(message);
}

describe('protobuf traces', () => {
  it('keeps 64-bit integers exact beyond 2^53 (attributes and timestamps)', () => {
    const span = spanFields(
      msg(9, bytes(1, 'big'), msg(2, varint(3, 2n ** 60n + 1n))),
      msg(9, bytes(1, 'min'), msg(2, varint(3, -(2n ** 63n)))),
      msg(9, bytes(1, 'max'), msg(2, varint(3, 2n ** 63n - 1n))),
      msg(9, bytes(1, 'minus.one'), msg(2, varint(3, -1))),
      msg(11, fixed64(1, 2n ** 64n - 1n), bytes(2, 'far future')),
    );
    const row = decodeProtobuf('traces', tracesRequest(span)).tables.otel_traces![0]!;
    expect(row.SpanAttributes).toStrictEqual({
      big: '1152921504606846977',
      min: '-9223372036854775808',
      max: '9223372036854775807',
      'minus.one': '-1',
    });
    expect(row['Events.Timestamp']).toStrictEqual(['18446744073709551615']);
    expect(row.Timestamp).toBe('1700000000000000000');
    expect(row.Duration).toBe('250000000');
  });

  it('skips unknown fields of every wire type at every level', () => {
    const unknown = concat(
      varint(99, 12345),
      fixed32(98, 7),
      fixed64(97, 1n),
      bytes(96, 'future'),
      tag(95, 3),
      varint(1, 1),
      tag(95, 4),
    );
    const plain = decodeProtobuf('traces', tracesRequest(spanFields(msg(15, bytes(2, 'ok'), varint(3, 1)))));
    const withUnknown = decodeProtobuf(
      'traces',
      concat(
        unknown,
        msg(
          1,
          unknown,
          msg(1, unknown, strAttr(1, 'service.name', 'billing'), varint(2, 0)),
          msg(2, unknown, msg(1, unknown, bytes(1, 'billing-lib'), bytes(2, '1.0.0')), bytes(2, spanFields(unknown, msg(15, unknown, bytes(2, 'ok'), varint(3, 1), varint(1, 5))))),
          unknown,
        ),
      ),
    );
    expect(withUnknown).toStrictEqual(plain);
    expect(plain.tables.otel_traces![0]).toMatchObject({ StatusCode: 'Ok', StatusMessage: 'ok', ServiceName: 'billing' });
  });

  it('accepts fields in any order (resource after scopes, span fields reversed)', () => {
    const forward = decodeProtobuf('traces', tracesRequest(spanFields(strAttr(9, 'k', 'v'))));
    const reversedSpan = concat(
      strAttr(9, 'k', 'v'),
      fixed64(8, 1_700_000_000_250_000_000n),
      fixed64(7, 1_700_000_000_000_000_000n),
      varint(6, 2),
      bytes(5, 'charge'),
      bytes(2, SPAN_ID),
      bytes(1, TRACE_ID),
    );
    const resourceLast = msg(1, msg(2, bytes(2, reversedSpan), scope), resource);
    expect(decodeProtobuf('traces', resourceLast)).toStrictEqual(forward);
  });

  it('maps exporter conventions: zero ids to "", unknown enums to "", end before start to 0, AsString service name', () => {
    const span = concat(
      bytes(1, new Uint8Array(16)),
      bytes(2, SPAN_ID),
      bytes(4, new Uint8Array(8)),
      varint(6, 9),
      fixed64(7, 2000n),
      fixed64(8, 1000n),
      msg(15, varint(3, 5)),
      fixed32(16, 0x301),
    );
    const req = msg(1, msg(1, msg(1, bytes(1, 'service.name'), msg(2, varint(3, 123)))), msg(2, bytes(2, span)));
    expect(decodeProtobuf('traces', req).tables.otel_traces![0]).toMatchObject({
      TraceId: '',
      ParentSpanId: '',
      SpanKind: '',
      StatusCode: '',
      Duration: '0',
      ServiceName: '123',
      ScopeName: '',
    });
  });

  it('stores a "__proto__" attribute as an own key and lets a repeated key win last', () => {
    const span = spanFields(strAttr(9, '__proto__', 'polluted'), strAttr(9, 'dup', 'first'), strAttr(9, 'dup', 'second'));
    const attrs = decodeProtobuf('traces', tracesRequest(span)).tables.otel_traces![0]!.SpanAttributes;
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.keys(attrs)).toEqual(['__proto__', 'dup']);
    expect(JSON.stringify(attrs)).toBe('{"__proto__":"polluted","dup":"second"}');
  });

  it('formats nested values like pdata AsString (typed leaves, sorted keys, NaN makes it empty)', () => {
    const kv = (k: string, ...value: Uint8Array[]) => msg(1, bytes(1, k), msg(2, ...value));
    const kvlist = msg(6, kv('z', varint(3, 1)), kv('a', double(4, 0.5)), kv('m', varint(2, 1)), kv('e'), kv('b', bytes(7, hex('ff'))));
    const nan = msg(5, msg(1, double(4, 1)), msg(1, double(4, NaN)));
    const span = spanFields(msg(9, bytes(1, 'map'), msg(2, kvlist)), msg(9, bytes(1, 'nan'), msg(2, nan)), msg(9, bytes(1, 'inf'), msg(2, double(4, -Infinity))));
    expect(decodeProtobuf('traces', tracesRequest(span)).tables.otel_traces![0]!.SpanAttributes).toStrictEqual({
      map: '{"a":0.5,"b":"/w==","e":null,"m":true,"z":1}',
      nan: '',
      inf: 'json: unsupported value: -Inf',
    });
  });

  it('rejects values nested deeper than 64', () => {
    let anyValue = bytes(1, 'leaf');
    for (let i = 0; i < 70; i++) anyValue = msg(5, msg(1, anyValue));
    const span = spanFields(msg(9, bytes(1, 'deep'), msg(2, anyValue)));
    expectError(() => decodeProtobuf('traces', tracesRequest(span)), /attributes\[0\]\.value(\.arrayValue\.values\[0\])+: values nested deeper than 64$/);
  });
});

describe('protobuf logs', () => {
  it('uses the observed time when the record time is 0, and masks flags to the trace flags byte', () => {
    const record = concat(fixed64(1, 0n), fixed64(11, 1_700_000_000_999_999_999n), fixed32(8, 0x1ff), varint(2, 17), bytes(12, 'evt'));
    const req = msg(1, resource, msg(2, scope, msg(2, record)));
    expect(decodeProtobuf('logs', req).tables.otel_logs![0]).toMatchObject({
      Timestamp: '1700000000999999999',
      TraceFlags: 255,
      SeverityNumber: 17,
      EventName: 'evt',
      Body: '',
      ServiceName: 'billing',
    });
  });

  it('names the field of an invalid span id', () => {
    const req = msg(1, msg(2, msg(2, bytes(10, new Uint8Array(9)))));
    expectError(() => decodeProtobuf('logs', req), 'resourceLogs[0].scopeLogs[0].logRecords[0].spanId: must be 8 bytes, got 9');
  });
});

describe('protobuf metrics', () => {
  const exemplar = msg(
    5,
    strAttr(7, 'filtered', 'yes'),
    fixed64(2, 1_700_000_000_000_000_001n),
    fixed64(6, BigInt.asUintN(64, -(2n ** 60n + 1n))),
    bytes(4, SPAN_ID),
    bytes(5, TRACE_ID),
  );
  const numberPoint = concat(
    strAttr(7, 'host', 'a'),
    fixed64(2, 1_699_999_999_000_000_000n),
    fixed64(3, 1_700_000_000_000_000_000n),
    fixed64(6, 2n ** 60n + 1n),
    exemplar,
    msg(5, double(3, 2.5)),
    varint(8, 1),
  );

  function metricsRequest(...metrics: Uint8Array[]): Uint8Array {
    return msg(1, resource, msg(2, scope, ...metrics.map((m) => bytes(2, m)), bytes(3, 'https://schema/scope')), bytes(3, 'https://schema/resource'));
  }

  it('decodes summaries, as_int values, exemplars (ids as raw hex, zeroes when absent)', () => {
    const summary = concat(
      bytes(1, 'rpc.duration'),
      bytes(3, 'ms'),
      msg(
        11,
        msg(
          1,
          strAttr(7, 'method', 'Charge'),
          fixed64(2, 1n),
          fixed64(3, 2n ** 63n + 5n),
          fixed64(4, 2n ** 64n - 2n),
          double(5, 1234.5),
          msg(6, double(1, 0.5), double(2, 10)),
          msg(6, double(1, 0.99), double(2, 99.5)),
          varint(8, 1),
        ),
      ),
    );
    const gauge = concat(bytes(1, 'g'), msg(5, msg(1, numberPoint)));
    const got = decodeProtobuf('metrics', metricsRequest(summary, gauge));
    expect(got).toMatchObject({ accepted: 2, rejected: 0, rejectMessage: '' });
    expect(got.tables.otel_metrics_summary).toStrictEqual([
      {
        ResourceAttributes: { 'service.name': 'billing' },
        ResourceSchemaUrl: 'https://schema/resource',
        ScopeName: 'billing-lib',
        ScopeVersion: '1.0.0',
        ScopeAttributes: {},
        ScopeDroppedAttrCount: 0,
        ScopeSchemaUrl: 'https://schema/scope',
        ServiceName: 'billing',
        MetricName: 'rpc.duration',
        MetricDescription: '',
        MetricUnit: 'ms',
        Attributes: { method: 'Charge' },
        StartTimeUnix: '1',
        TimeUnix: '9223372036854775813',
        Count: '18446744073709551614',
        Sum: 1234.5,
        'ValueAtQuantiles.Quantile': [0.5, 0.99],
        'ValueAtQuantiles.Value': [10, 99.5],
        Flags: 1,
      },
    ]);
    expect(got.tables.otel_metrics_gauge![0]).toMatchObject({
      MetricName: 'g',
      Value: 2 ** 60,
      Flags: 1,
      'Exemplars.FilteredAttributes': [{ filtered: 'yes' }, {}],
      'Exemplars.TimeUnix': ['1700000000000000001', '0'],
      'Exemplars.Value': [-(2 ** 60), 2.5],
      'Exemplars.SpanId': ['b7ad6b7169203331', '0000000000000000'],
      'Exemplars.TraceId': ['0af7651916cd43dd8448eb211c80319c', '00000000000000000000000000000000'],
    });
  });

  it('reads repeated scalars packed and unpacked, and exponential histogram negative buckets', () => {
    const packedCounts = concat(tag(6, 2), rawVarint(16), fixed64(0, 3n).subarray(1), fixed64(0, 4n).subarray(1));
    const packedBounds = concat(tag(7, 2), rawVarint(8), double(0, 10).subarray(1));
    const histogram = (counts: Uint8Array, bounds: Uint8Array) =>
      concat(bytes(1, 'h'), msg(9, msg(1, fixed64(4, 7n), counts, bounds, double(11, -1), double(12, 9)), varint(2, 1)));
    const packed = decodeProtobuf('metrics', metricsRequest(histogram(packedCounts, packedBounds)));
    const unpacked = decodeProtobuf('metrics', metricsRequest(histogram(concat(fixed64(6, 3n), fixed64(6, 4n)), double(7, 10))));
    expect(unpacked).toStrictEqual(packed);
    expect(packed.tables.otel_metrics_histogram![0]).toMatchObject({
      Count: '7',
      BucketCounts: ['3', '4'],
      ExplicitBounds: [10],
      Min: -1,
      Max: 9,
      Sum: 0,
      AggregationTemporality: 1,
    });

    const exp = concat(
      bytes(1, 'e'),
      msg(
        10,
        varint(2, 2),
        msg(
          1,
          sint32(6, -3),
          fixed64(7, 2n),
          msg(8, sint32(1, 4), concat(tag(2, 2), rawVarint(3), rawVarint(1), rawVarint(2), rawVarint(3))),
          msg(9, sint32(1, -2), varint(2, 5), varint(2, 2n ** 60n)),
        ),
      ),
    );
    expect(decodeProtobuf('metrics', metricsRequest(exp)).tables.otel_metrics_exponential_histogram![0]).toMatchObject({
      Scale: -3,
      ZeroCount: '2',
      PositiveOffset: 4,
      PositiveBucketCounts: ['1', '2', '3'],
      NegativeOffset: -2,
      NegativeBucketCounts: ['5', '1152921504606846976'],
      AggregationTemporality: 2,
      Min: 0,
      Max: 0,
    });
  });

  it('reports metrics without data as rejected (partial success) instead of failing the request', () => {
    const empty = concat(bytes(1, 'no.data'), bytes(3, 'By'));
    const deprecatedIntGauge = concat(bytes(1, 'old.int_gauge'), msg(4, msg(1, varint(6, 1))));
    const ok = concat(bytes(1, 'ok'), msg(7, msg(1, numberPoint), varint(2, 2), varint(3, true)));
    const got = decodeProtobuf('metrics', metricsRequest(empty, ok, deprecatedIntGauge));
    expect(got.accepted).toBe(1);
    expect(got.rejected).toBe(2);
    expect(got.rejectMessage).toBe(
      '2 metrics rejected: no data (none of gauge, sum, histogram, exponentialHistogram, summary is set): ' +
        'resourceMetrics[0].scopeMetrics[0].metrics[0] ("no.data"), resourceMetrics[0].scopeMetrics[0].metrics[2] ("old.int_gauge")',
    );
    expect(got.tables.otel_metrics_sum![0]).toMatchObject({ MetricName: 'ok', IsMonotonic: true, AggregationTemporality: 2 });
  });

  it('lets the last member of the data oneof win', () => {
    const both = concat(bytes(1, 'm'), msg(5, msg(1, numberPoint)), msg(7, msg(1, numberPoint)));
    const got = decodeProtobuf('metrics', metricsRequest(both));
    expect(Object.keys(got.tables)).toEqual(['otel_metrics_sum']);
  });
});

describe('malformed protobuf', () => {
  const good = tracesRequest(spanFields(strAttr(9, 'k', 'v'), msg(11, bytes(2, 'e'))));

  it('rejects a request cut short inside a span, naming where', () => {
    expectError(
      () => decodeProtobuf('traces', good.subarray(0, good.length - 3)),
      /^truncated: length \d+ at byte 1 runs past the end of the enclosing message at byte \d+$/,
    );
    // A span whose declared length overruns its scope.
    const bad = msg(1, msg(2, concat(tag(2, 2), rawVarint(50), bytes(1, TRACE_ID))));
    expectError(() => decodeProtobuf('traces', bad), /^resourceSpans\[0\]\.scopeSpans\[0\]: truncated: length 50 at byte \d+ runs past the end of the enclosing message/);
  });

  it('rejects a truncated varint and fixed64', () => {
    expectError(() => decodeProtobuf('traces', Uint8Array.of(0x0a, 0x80)), 'truncated: varint at byte 1 runs past the end of the input');
    const span = concat(bytes(1, TRACE_ID), tag(7, 1), Uint8Array.of(1, 2, 3));
    expectError(
      () => decodeProtobuf('traces', tracesRequest(span)),
      /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: truncated: 8-byte value at byte \d+ runs past the end of the input$/,
    );
  });

  it('rejects garbage', () => {
    expectError(() => decodeProtobuf('traces', new Uint8Array(12).fill(0xff)), 'varint at byte 0 overflows 64 bits');
    // JSON sent as protobuf: '{' reads as a group start, '"' as a length-delimited field of length 'r' (114).
    expectError(
      () => decodeProtobuf('logs', new TextEncoder().encode('{"resourceLogs":[]}')),
      'truncated: length 114 at byte 2 runs past the end of the enclosing message at byte 19',
    );
    expectError(() => decodeProtobuf('metrics', Uint8Array.of(0x00, 0x01)), 'invalid field number 0 at byte 0');
    expectError(() => decodeProtobuf('traces', Uint8Array.of(0x0f)), 'invalid wire type 7 at byte 0');
    expectError(() => decodeProtobuf('traces', Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)), 'varint at byte 1 overflows 64 bits');
  });

  it('rejects a known field with the wrong wire type', () => {
    const span = concat(varint(1, 5), bytes(2, SPAN_ID));
    expectError(
      () => decodeProtobuf('traces', tracesRequest(span)),
      'resourceSpans[0].scopeSpans[0].spans[0].traceId: wrong wire type 0 (VARINT), expected 2 (LEN)',
    );
    expectError(() => decodeProtobuf('traces', varint(1, 1)), 'resourceSpans: wrong wire type 0 (VARINT), expected 2 (LEN)');
  });

  it('rejects ids of the wrong length, in spans and links', () => {
    expectError(
      () => decodeProtobuf('traces', tracesRequest(concat(bytes(1, Uint8Array.of(1, 2, 3))))),
      'resourceSpans[0].scopeSpans[0].spans[0].traceId: must be 16 bytes, got 3',
    );
    expectError(
      () => decodeProtobuf('traces', tracesRequest(spanFields(strAttr(9, 'a', 'b'), msg(13, bytes(1, TRACE_ID), bytes(2, TRACE_ID))))),
      'resourceSpans[0].scopeSpans[0].spans[0].links[0].spanId: must be 8 bytes, got 16',
    );
  });

  it('rejects a packed fixed64 field that is not a whole number of values', () => {
    const h = concat(bytes(1, 'h'), msg(9, msg(1, concat(tag(6, 2), rawVarint(7), new Uint8Array(7)))));
    expectError(
      () => decodeProtobuf('metrics', msg(1, msg(2, bytes(2, h)))),
      'resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts: packed fixed64 length 7 is not a multiple of 8',
    );
  });

  it('throws only OtlpDecodeError, never partial results, for every prefix and for corrupted bytes', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'fuzz' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('fuzz');
    for (let i = 0; i < 3; i++) {
      const s = tracer.startSpan(`op-${i}`, { attributes: { i, list: [1, 2] } });
      setAnyValueAttributes(s, { map: { a: 'b' } });
      s.addEvent('e', { x: 1.5 });
      s.end();
    }
    await provider.forceFlush();
    const body = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!;
    const check = (b: Uint8Array) => {
      try {
        const r = decodeProtobuf('traces', b);
        expect(r.accepted).toBe(r.tables.otel_traces?.length ?? 0);
      } catch (err) {
        expect(err).toBeInstanceOf(OtlpDecodeError);
      }
    };
    for (let n = 0; n < body.length; n++) check(body.subarray(0, n));
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 2000; k++) {
      const b = body.slice();
      for (let j = 0; j < 3; j++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      check(b);
    }
  });
});
