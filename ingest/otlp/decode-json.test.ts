/** OTLP/JSON specifics: field name spellings, enum names, exact 64-bit numbers, null, and malformed input. */
import { describe, expect, it } from 'vitest';
import { OtlpDecodeError, decodeJson, decodeProtobuf } from './decode.ts';
import { bytes, concat, double, fixed64, hex, msg, sint32, strAttr, varint } from './test-pb.ts';

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

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

/** A traces request with one span built from `span` (merged over a valid default). */
function traces(span: Record<string, unknown>, extraResourceSpan: Record<string, unknown> = {}): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'billing' } }] },
        scopeSpans: [
          {
            scope: { name: 'lib', version: '1' },
            spans: [{ traceId: TRACE_ID, spanId: SPAN_ID, name: 'op', startTimeUnixNano: '1', endTimeUnixNano: '2', ...span }],
          },
        ],
        ...extraResourceSpan,
      },
    ],
  });
}

const SPAN_PATH = 'resourceSpans[0].scopeSpans[0].spans[0]';

describe('OTLP/JSON decoding', () => {
  it('accepts the original snake_case field names and enum names', () => {
    const camel = decodeJson(
      'traces',
      traces({ kind: 2, status: { code: 2, message: 'boom' }, parentSpanId: SPAN_ID, traceState: 'a=b', startTimeUnixNano: '5' }),
    );
    const snake = decodeJson(
      'traces',
      JSON.stringify({
        resource_spans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { string_value: 'billing' } }] },
            scope_spans: [
              {
                scope: { name: 'lib', version: '1' },
                spans: [
                  {
                    trace_id: TRACE_ID.toUpperCase(),
                    span_id: SPAN_ID,
                    parent_span_id: SPAN_ID,
                    trace_state: 'a=b',
                    name: 'op',
                    kind: 'SPAN_KIND_SERVER',
                    start_time_unix_nano: 5,
                    end_time_unix_nano: '2',
                    status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(snake).toStrictEqual(camel);
    expect(camel.tables.otel_traces![0]).toMatchObject({ SpanKind: 'Server', StatusCode: 'Error', TraceId: TRACE_ID, Duration: '0' });
  });

  it('keeps 64-bit JSON numbers exact (re-parsing when JSON.parse would round them)', () => {
    const text =
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"","startTimeUnixNano":1700000000123456789,' +
      '"endTimeUnixNano":1.7000000002e18,"attributes":[{"key":"big","value":{"intValue":9007199254740993}},' +
      '{"key":"min","value":{"intValue":"-9223372036854775808"}},{"key":"exp","value":{"intValue":"1e3"}},' +
      '{"key":"d","value":{"doubleValue":9007199254740993}}]}]}]}]}';
    const row = decodeJson('traces', text).tables.otel_traces![0]!;
    expect(row.Timestamp).toBe('1700000000123456789');
    expect(row.Duration).toBe('76543211');
    expect(row.SpanAttributes).toStrictEqual({ big: '9007199254740993', min: '-9223372036854775808', exp: '1000', d: '9007199254740992' });
  });

  it('treats null as absent and ignores unknown keys', () => {
    const withNulls = decodeJson(
      'traces',
      traces({ parentSpanId: null, status: null, events: null, futureField: { x: 1 }, attributes: [{ key: 'k', value: null }] }, { futureKey: 1 }),
    );
    expect(withNulls.tables.otel_traces![0]).toMatchObject({ ParentSpanId: '', StatusCode: 'Unset', SpanAttributes: { k: '' } });
  });

  it('decodes double strings and formats them like pdata', () => {
    const attrs = [
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'inf', value: { doubleValue: 'Infinity' } },
      { key: 'str', value: { doubleValue: '2.5' } },
      { key: 'big', value: { doubleValue: 1e21 } },
    ];
    expect(decodeJson('traces', traces({ attributes: attrs })).tables.otel_traces![0]!.SpanAttributes).toStrictEqual({
      nan: 'json: unsupported value: NaN',
      inf: 'json: unsupported value: +Inf',
      str: '2.5',
      big: '1e+21',
    });
  });

  it('decodes the same hand-made metrics as the protobuf decoder (summary, exemplars, negative buckets, rejections)', () => {
    const json = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'billing' } }] },
          schemaUrl: 'https://schema/r',
          scopeMetrics: [
            {
              scope: { name: 'lib', attributes: [{ key: 'shard', value: { intValue: 3 } }], droppedAttributesCount: 2 },
              schemaUrl: 'https://schema/s',
              metrics: [
                {
                  name: 'rpc',
                  summary: {
                    dataPoints: [
                      {
                        attributes: [{ key: 'm', value: { stringValue: 'x' } }],
                        startTimeUnixNano: '1',
                        timeUnixNano: '9223372036854775813',
                        count: '18446744073709551614',
                        sum: 12.5,
                        quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 1 }],
                        flags: 1,
                      },
                    ],
                  },
                },
                {
                  name: 'g',
                  unit: '1',
                  gauge: {
                    dataPoints: [
                      {
                        asInt: '-1152921504606846977',
                        timeUnixNano: '7',
                        exemplars: [
                          { asDouble: 2.5, timeUnixNano: '3', spanId: SPAN_ID, traceId: TRACE_ID, filteredAttributes: [{ key: 'f', value: { boolValue: true } }] },
                          { asInt: 4 },
                        ],
                      },
                    ],
                  },
                },
                {
                  name: 'e',
                  exponential_histogram: {
                    aggregation_temporality: 'AGGREGATION_TEMPORALITY_DELTA',
                    data_points: [{ scale: -3, zero_count: 2, negative: { offset: -2, bucket_counts: ['5', 6] }, positive: {}, min: -4 }],
                  },
                },
                { name: 'empty', description: 'no data' },
              ],
            },
          ],
        },
      ],
    };
    const proto = msg(
      1,
      msg(1, strAttr(1, 'service.name', 'billing')),
      bytes(3, 'https://schema/r'),
      msg(
        2,
        msg(1, bytes(1, 'lib'), msg(3, bytes(1, 'shard'), msg(2, varint(3, 3))), varint(4, 2)),
        bytes(3, 'https://schema/s'),
        msg(
          2,
          bytes(1, 'rpc'),
          msg(
            11,
            msg(1, strAttr(7, 'm', 'x'), fixed64(2, 1n), fixed64(3, 9223372036854775813n), fixed64(4, 18446744073709551614n), double(5, 12.5), msg(6, double(1, 0.5), double(2, 1)), msg(6, double(1, 1)), varint(8, 1)),
          ),
        ),
        msg(
          2,
          bytes(1, 'g'),
          bytes(3, '1'),
          msg(
            5,
            msg(
              1,
              fixed64(6, -1152921504606846977n),
              fixed64(3, 7n),
              msg(5, double(3, 2.5), fixed64(2, 3n), bytes(4, hex(SPAN_ID)), bytes(5, hex(TRACE_ID)), msg(7, bytes(1, 'f'), msg(2, varint(2, 1)))),
              msg(5, fixed64(6, 4n)),
            ),
          ),
        ),
        msg(2, bytes(1, 'e'), msg(10, varint(2, 1), msg(1, sint32(6, -3), fixed64(7, 2n), msg(9, sint32(1, -2), varint(2, 5), varint(2, 6)), msg(8), double(12, -4)))),
        msg(2, bytes(1, 'empty'), bytes(2, 'no data')),
      ),
    );
    const fromJson = decodeJson('metrics', JSON.stringify(json));
    expect(fromJson).toStrictEqual(decodeProtobuf('metrics', proto));
    expect(fromJson).toMatchObject({ accepted: 3, rejected: 1 });
    expect(fromJson.rejectMessage).toContain('resourceMetrics[0].scopeMetrics[0].metrics[3] ("empty")');
    expect(fromJson.tables.otel_metrics_gauge![0]).toMatchObject({
      Value: -1152921504606846976,
      ScopeAttributes: { shard: '3' },
      ScopeDroppedAttrCount: 2,
      'Exemplars.Value': [2.5, 4],
      'Exemplars.TraceId': [TRACE_ID, '00000000000000000000000000000000'],
      'Exemplars.FilteredAttributes': [{ f: 'true' }, {}],
    });
    expect(fromJson.tables.otel_metrics_exponential_histogram![0]).toMatchObject({
      NegativeOffset: -2,
      NegativeBucketCounts: ['5', '6'],
      PositiveBucketCounts: [],
      AggregationTemporality: 1,
      Min: -4,
    });
  });

  it('decodes logs with every body kind like the protobuf decoder', () => {
    const bodies = [
      { stringValue: 'plain' },
      { kvlistValue: { values: [{ key: 'b', value: { arrayValue: { values: [{ intValue: '1' }, {}] } } }, { key: 'a', value: { bytesValue: '-_8' } }] } },
      { boolValue: false },
      {},
    ];
    const json = JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: bodies.map((body, i) => ({ observedTimeUnixNano: String(i + 1), body, severityNumber: 'SEVERITY_NUMBER_ERROR2', flags: 0x101 })) }] }],
    });
    expect(decodeJson('logs', json).tables.otel_logs!.map((r) => [r.Timestamp, r.Body, r.SeverityNumber, r.TraceFlags])).toEqual([
      ['1', 'plain', 18, 1],
      ['2', '{"a":"+/8=","b":[1,null]}', 18, 1],
      ['3', 'false', 18, 1],
      ['4', '', 18, 1],
    ]);
  });
});

describe('malformed OTLP/JSON', () => {
  it('rejects invalid JSON', () => {
    expectError(() => decodeJson('traces', '{"resourceSpans": ['), /^invalid JSON: /);
    expectError(() => decodeJson('logs', new Uint8Array([0x7b, 0x7d, 0x7d])), /^invalid JSON: /);
  });

  it('rejects a body that is not an object', () => {
    expectError(() => decodeJson('traces', '[]'), 'the request must be a JSON object, got an array');
    expectError(() => decodeJson('metrics', 'null'), 'the request must be a JSON object, got null');
    expectError(() => decodeJson('logs', '42'), 'the request must be a JSON object, got number 42');
  });

  it('rejects wrong types, naming the field', () => {
    expectError(() => decodeJson('traces', '{"resourceSpans":{}}'), 'resourceSpans: must be an array, got an object');
    expectError(() => decodeJson('traces', traces({ name: 42 })), `${SPAN_PATH}.name: must be a string, got number 42`);
    expectError(() => decodeJson('traces', traces({ startTimeUnixNano: 'soon' })), `${SPAN_PATH}.startTimeUnixNano: must be an integer, got string "soon"`);
    expectError(() => decodeJson('traces', traces({ startTimeUnixNano: '-1' })), `${SPAN_PATH}.startTimeUnixNano: string "-1" is out of range for uint64`);
    expectError(() => decodeJson('traces', traces({ startTimeUnixNano: 1.5 })), `${SPAN_PATH}.startTimeUnixNano: must be an integer, got number 1.5`);
    expectError(() => decodeJson('traces', traces({ kind: 'SPAN_KIND_BOGUS' })), `${SPAN_PATH}.kind: must be an enum value (int32 or name), got string "SPAN_KIND_BOGUS"`);
    expectError(() => decodeJson('traces', traces({ events: [{ name: 'e' }, 'oops'] })), `${SPAN_PATH}.events[1]: must be an object, got string "oops"`);
    expectError(
      () => decodeJson('traces', traces({ attributes: [{ key: 'k', value: { stringValue: 1 } }] })),
      `${SPAN_PATH}.attributes[0].value.stringValue: must be a string, got number 1`,
    );
    expectError(
      () => decodeJson('traces', traces({ attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] })),
      `${SPAN_PATH}.attributes[0].value.intValue: string "9223372036854775808" is out of range for int64`,
    );
    expectError(
      () => decodeJson('traces', traces({ attributes: [{ key: 'k', value: { stringValue: 'a', boolValue: true } }] })),
      `${SPAN_PATH}.attributes[0].value: more than one value is set (stringValue and boolValue)`,
    );
    expectError(
      () => decodeJson('traces', traces({ attributes: [{ key: 'k', value: { bytesValue: 'not base64!' } }] })),
      `${SPAN_PATH}.attributes[0].value.bytesValue: is not valid base64: string "not base64!"`,
    );
    expectError(
      () => decodeJson('traces', traces({ attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'a', value: { doubleValue: true } }] } } }] })),
      `${SPAN_PATH}.attributes[0].value.kvlistValue.values[0].value.doubleValue: must be a number, got boolean true`,
    );
    expectError(
      () => decodeJson('metrics', '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{},"sum":{}}]}]}]}'),
      'resourceMetrics[0].scopeMetrics[0].metrics[0]: more than one of gauge and sum is set',
    );
  });

  it('rejects invalid trace and span ids', () => {
    expectError(() => decodeJson('traces', traces({ traceId: 'abc123' })), `${SPAN_PATH}.traceId: must be 32 hex characters (16 bytes), got 6 characters`);
    expectError(
      () => decodeJson('traces', traces({ spanId: 'zzzzzzzzzzzzzzzz' })),
      `${SPAN_PATH}.spanId: must be 16 hex characters (8 bytes), got string "zzzzzzzzzzzzzzzz"`,
    );
    expectError(() => decodeJson('traces', traces({ links: [{ traceId: TRACE_ID, spanId: TRACE_ID }] })), `${SPAN_PATH}.links[0].spanId: must be 16 hex characters (8 bytes), got 32 characters`);
    expectError(
      () => decodeJson('logs', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":12}]}]}]}'),
      'resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be a hex string, got number 12',
    );
  });

  it('rejects values nested deeper than 64', () => {
    let value: unknown = { stringValue: 'leaf' };
    for (let i = 0; i < 70; i++) value = { arrayValue: { values: [value] } };
    expectError(() => decodeJson('traces', traces({ attributes: [{ key: 'deep', value }] })), /values nested deeper than 64$/);
  });

  it('compares equal zero-padded and plain 64-bit strings', () => {
    const a = decodeJson('traces', traces({ startTimeUnixNano: '000123', endTimeUnixNano: '0124' }));
    expect(a.tables.otel_traces![0]).toMatchObject({ Timestamp: '123', Duration: '1' });
  });
});

describe('OTLP/JSON and protobuf agree on hand-made traces', () => {
  it('produces the same rows for the same span', () => {
    const json = traces({
      kind: 3,
      attributes: [
        { key: 'arr', value: { arrayValue: { values: [{ stringValue: '<b>' }, { doubleValue: 0.000001 }, { doubleValue: 1e-7 }] } } },
        { key: 'neg0', value: { doubleValue: '-0' } },
      ],
      events: [{ timeUnixNano: '18446744073709551615', name: 'max' }],
      links: [{ traceId: TRACE_ID, spanId: SPAN_ID, traceState: 'x=y', attributes: [{ key: 'l', value: { intValue: -3 } }] }],
    });
    const proto = msg(
      1,
      msg(1, strAttr(1, 'service.name', 'billing')),
      msg(
        2,
        msg(1, bytes(1, 'lib'), bytes(2, '1')),
        msg(
          2,
          bytes(1, hex(TRACE_ID)),
          bytes(2, hex(SPAN_ID)),
          bytes(5, 'op'),
          varint(6, 3),
          fixed64(7, 1n),
          fixed64(8, 2n),
          msg(9, bytes(1, 'arr'), msg(2, msg(5, msg(1, bytes(1, '<b>')), msg(1, double(4, 0.000001)), msg(1, double(4, 1e-7))))),
          msg(9, bytes(1, 'neg0'), msg(2, double(4, -0))),
          msg(11, fixed64(1, 18446744073709551615n), bytes(2, 'max')),
          msg(13, bytes(1, hex(TRACE_ID)), bytes(2, hex(SPAN_ID)), bytes(3, 'x=y'), msg(4, bytes(1, 'l'), msg(2, varint(3, -3)))),
        ),
      ),
    );
    const fromJson = decodeJson('traces', json);
    expect(fromJson).toStrictEqual(decodeProtobuf('traces', concat(proto)));
    expect(fromJson.tables.otel_traces![0]!.SpanAttributes).toStrictEqual({ arr: '["\\u003cb\\u003e",0.000001,1e-7]', neg0: '-0' });
  });
});
