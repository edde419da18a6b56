import { describe, expect, it } from 'vitest';
import { type ExpositionFormat, ExpositionError, formatOf, parseExposition } from './parse.ts';

const text = (s: string) => parseExposition(s, 'prometheus');
const om = (s: string) => parseExposition(s, 'openmetrics');

describe('formatOf', () => {
  it.each([
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'openmetrics'],
    ['text/plain; version=0.0.4; charset=utf-8', 'prometheus'],
    ['text/plain', 'prometheus'],
    ['', 'prometheus'],
    [undefined, 'prometheus'],
    ['application/json', 'prometheus'],
  ])('%s is %s', (ct, want) => expect(formatOf(ct)).toBe(want));
});

describe('text format 0.0.4', () => {
  it('reads HELP, TYPE, labels, values and timestamps', () => {
    const e = text(`# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A normal comment.
# TYPE temp gauge
temp -3.5
`);
    expect(e.samples).toBe(3);
    expect(e.families.map((f) => [f.name, f.type, f.help])).toEqual([
      ['http_requests_total', 'counter', 'The total number of HTTP requests.'],
      ['temp', 'gauge', undefined],
    ]);
    expect(e.families[0]!.samples[0]).toEqual({
      name: 'http_requests_total',
      labels: [
        ['method', 'post'],
        ['code', '200'],
      ],
      value: 1027,
      timestampMs: 1395066363000,
      exemplar: undefined,
    });
    expect(e.families[1]!.samples[0]!.value).toBe(-3.5);
  });

  it.each([
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['Inf', Infinity],
    ['inf', Infinity],
    ['+infinity', Infinity],
    ['1e3', 1000],
    ['-1.5E-3', -0.0015],
    ['.5', 0.5],
    ['5.', 5],
    ['0', 0],
    ['-0', -0],
    ['12345678901234567890', 1.2345678901234567e19],
  ])('value %s', (v, want) => expect(text(`m ${v}\n`).families[0]!.samples[0]!.value).toBe(want));

  it('unescapes label values: backslash, double quote, newline; keeps unknown escapes', () => {
    const s = text('m{a="x\\\\y",b="say \\"hi\\"",c="l1\\nl2",d="C:\\\\dir",e="\\t"} 1\n').families[0]!.samples[0]!;
    expect(s.labels).toEqual([
      ['a', 'x\\y'],
      ['b', 'say "hi"'],
      ['c', 'l1\nl2'],
      ['d', 'C:\\dir'],
      ['e', '\\t'],
    ]);
  });

  it('unescapes HELP text: backslash and newline', () => {
    expect(text('# HELP m a\\\\b\\nc "q"\nm 1\n').families[0]!.help).toBe('a\\b\nc "q"');
  });

  it('accepts blanks around tokens, a trailing comma, CRLF, tabs and no trailing newline', () => {
    const e = text('m { a = "1" , b="2", }\t7\t 100 \r\nn{} 2');
    expect(e.families[0]!.samples[0]).toMatchObject({ labels: [['a', '1'], ['b', '2']], value: 7, timestampMs: 100 });
    expect(e.families[1]!.samples[0]!.value).toBe(2);
  });

  it('groups histogram and summary samples under their family, untyped samples under their own names', () => {
    const e = text(`# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE latency histogram
latency_bucket{le="0.1"} 3
latency_bucket{le="+Inf"} 5
latency_sum 1.5
latency_count 5
orphan_bucket{le="1"} 1
`);
    expect(e.families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['rpc_duration_seconds', 'summary', 3],
      ['latency', 'histogram', 4],
      ['orphan_bucket', 'untyped', 1],
    ]);
  });

  it('keeps a gauge named like a suffix in its own family', () => {
    const e = text('# TYPE c counter\nc 1\n# TYPE c_created gauge\nc_created 5\n');
    expect(e.families.map((f) => [f.name, f.type])).toEqual([
      ['c', 'counter'],
      ['c_created', 'gauge'],
    ]);
  });

  it('treats a UNIT line and an EOF line as comments', () => {
    const e = text('# UNIT m_seconds seconds\n# EOF\nm_seconds 1\n');
    expect(e.families[0]).toMatchObject({ name: 'm_seconds', unit: undefined, type: 'untyped' });
  });

  it.each([
    ['a value that is not a number', 'm abc\n', /invalid sample value "abc"/],
    ['a missing value', 'm\n', /expected a space before the value/],
    ['a hex float', 'm 0x1p-3\n', /invalid sample value/],
    ['digit separators', 'm 1_000\n', /invalid sample value/],
    ['a float timestamp', 'm 1 1.5\n', /invalid timestamp "1.5"/],
    ['text after the timestamp', 'm 1 2 3\n', /unexpected text after the timestamp/],
    ['an exemplar', 'm_total 1 # {trace_id="a"} 1\n', /exemplars are only valid in OpenMetrics/],
    ['an unterminated label value', 'm{a="b} 1\n', /unterminated label value/],
    ['an unquoted label value', "m{a='b'} 1\n", /expected a quoted label value/],
    ['a bad label name', 'm{1a="b"} 1\n', /expected a label name/],
    ['a duplicate label', 'm{a="1",a="2"} 1\n', /duplicate label name "a"/],
    ['a missing comma', 'm{a="1" b="2"} 1\n', /expected "," or "}"/],
    ['a bad metric name', '1m 1\n', /expected a metric name/],
    ['an unknown type', '# TYPE m histogramz\n', /invalid metric type "histogramz"/],
    ['an OpenMetrics-only type', '# TYPE m info\n', /invalid metric type "info"/],
    ['two different TYPEs', '# TYPE m gauge\n# TYPE m counter\n', /second TYPE line for metric "m"/],
  ])('rejects %s', (_what, body, err) => {
    expect(() => text(body)).toThrow(ExpositionError);
    expect(() => text(body)).toThrow(err);
  });

  it('names the line of the problem', () => {
    try {
      text('a 1\nb 2\nc x\n');
      expect.fail('no error');
    } catch (e) {
      expect((e as ExpositionError).line).toBe(3);
      expect((e as Error).message).toMatch(/^line 3: invalid sample value "x" in "c x"/);
    }
  });

  it('enforces the sample and label limits', () => {
    expect(() => parseExposition('a 1\nb 2\nc 3\n', 'prometheus', { sampleLimit: 2 })).toThrow(/sample limit of 2 exceeded/);
    expect(() => parseExposition('a{x="1",y="2"} 1\n', 'prometheus', { labelLimit: 1 })).toThrow(/more than 1 labels/);
  });
});

describe('OpenMetrics 1.0', () => {
  it('reads counters with _total and _created, timestamps in seconds and exemplars', () => {
    const e = om(`# TYPE foo counter
# HELP foo Requests \\"served\\".
foo_total{a="b"} 17.0 1520879607.789 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 5 1520879607.7
foo_created{a="b"} 1520872607.123
# EOF
`);
    const f = e.families[0]!;
    expect(f).toMatchObject({ name: 'foo', type: 'counter', help: 'Requests "served".' });
    expect(f.samples[0]).toEqual({
      name: 'foo_total',
      labels: [['a', 'b']],
      value: 17,
      timestampMs: 1520879607789,
      exemplar: {
        labels: [
          ['trace_id', '0af7651916cd43dd8448eb211c80319c'],
          ['span_id', 'b7ad6b7169203331'],
        ],
        value: 5,
        timestampMs: 1520879607700,
      },
    });
    expect(f.samples[1]).toMatchObject({ name: 'foo_created', value: 1520872607.123 });
  });

  it('reads every OpenMetrics type into its family', () => {
    const e = om(`# TYPE hh histogram
hh_bucket{le="+Inf"} 1 # {id="x"} 4
hh_count 1
hh_created 1520430001
# TYPE gh gaugehistogram
gh_bucket{le="+Inf"} 1
gh_gcount 1
gh_gsum 2
# TYPE ii info
ii_info{foo="bar"} 1
# TYPE ss stateset
ss{ss="foo"} 1
ss{ss="bar"} 0
# TYPE un unknown
un 1
# TYPE sm summary
sm{quantile="0.5"} 3
sm_count 2
sm_sum 4
# TYPE g_seconds gauge
# UNIT g_seconds seconds
g_seconds 1
# EOF`);
    expect(e.families.map((f) => [f.name, f.type, f.samples.length, f.unit])).toEqual([
      ['hh', 'histogram', 3, undefined],
      ['gh', 'gaugehistogram', 3, undefined],
      ['ii', 'info', 1, undefined],
      ['ss', 'stateset', 2, undefined],
      ['un', 'unknown', 1, undefined],
      ['sm', 'summary', 3, undefined],
      ['g_seconds', 'gauge', 1, 'seconds'],
    ]);
  });

  it('makes a sample without metadata an unknown family', () => {
    expect(om('x 1\n# EOF\n').families[0]!.type).toBe('unknown');
  });

  it('drops an exemplar whose labels exceed 128 characters and keeps the sample', () => {
    const s = om(`# TYPE c counter\nc_total 1 # {a="${'x'.repeat(130)}"} 1\n# EOF\n`).families[0]!.samples[0]!;
    expect(s.value).toBe(1);
    expect(s.exemplar).toBeUndefined();
  });

  const bad: [string, string, RegExp][] = [
    ['a body without # EOF', 'a 1\n', /does not end with "# EOF"/],
    ['data after # EOF', '# EOF\na 1', /unexpected data after # EOF/],
    ['a blank line after # EOF', '# EOF\n\n', /unexpected data after # EOF|blank lines/],
    ['a blank line', 'a 1\n\n# EOF\n', /blank lines are not allowed/],
    ['a tab separator', 'a\t1\n# EOF\n', /expected a space before the value/],
    ['two spaces', 'a  1\n# EOF\n', /invalid sample value ""|expected a sample value/],
    ['a trailing space', 'a 1 \n# EOF\n', /trailing space after the value/],
    ['a trailing space after the timestamp', 'a 1 2 \n# EOF\n', /trailing space after the timestamp/],
    ['a comment', '# hello\n# EOF\n', /unknown metadata line/],
    ['a UNIT that is not a suffix', '# UNIT metric seconds\n# EOF\n', /unit "seconds" is not a suffix of metric "metric"/],
    ['TYPE without a type', '# TYPE m\n# EOF\n', /expected text in TYPE/],
    ['two spaces in TYPE', '# TYPE c  counter\n# EOF\n', /invalid metric type " counter"/],
    ['a NaN timestamp', 'a 1 NaN\n# EOF\n', /invalid timestamp "NaN"/],
    ['an Inf timestamp', 'a 1 +Inf\n# EOF\n', /invalid timestamp/],
    ['a NaN exemplar timestamp', '# TYPE h histogram\nh_bucket{le="+Inf"} 1 # {a="b"} 4 NaN\n# EOF\n', /invalid exemplar timestamp/],
    ['an exemplar without a value', 'c_total 1 # {aa="bb"}\n# EOF\n', /expected a space before the exemplar value/],
    ['an exemplar with a bad label', 'c_total 1 # {aa=bb} 1\n# EOF\n', /expected a quoted label value/],
    ['a trailing comma', 'a{b="c",} 1\n# EOF\n', /expected a label name/],
    ['a leading comma', 'a{,b="c"} 1\n# EOF\n', /expected a label name/],
    ['a leading space', ' # EOF\n', /expected a metric name/],
    ['a text format type', '# TYPE m untyped\n# EOF\n', /invalid metric type "untyped"/],
  ];
  it.each(bad)('rejects %s', (_what, body, err) => {
    expect(() => om(body)).toThrow(err);
  });
});

describe('both formats', () => {
  const formats: ExpositionFormat[] = ['prometheus', 'openmetrics'];
  it.each(formats)('%s: an empty label set and label values with every escape', (f) => {
    const body = 'm{} 1\nn{a="\\\\\\"\\n"} 2\n' + (f === 'openmetrics' ? '# EOF\n' : '');
    const e = parseExposition(body, f);
    expect(e.families[0]!.samples[0]!.labels).toEqual([]);
    expect(e.families[1]!.samples[0]!.labels).toEqual([['a', '\\"\n']]);
  });
});
