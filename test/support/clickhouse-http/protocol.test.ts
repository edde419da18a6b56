import { ClickHouseError, parseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import {
  contentTypeFor,
  contextStatements,
  httpStatusFor,
  matchRawInsert,
  mayBeMultiStatement,
  outputFormat,
  parseMultipart,
  parseRequest,
  renderException,
  serverException,
  stringLiteral,
  type ParsedRequest,
} from './protocol.ts';

function request(search: string, body = '', headers: Record<string, string> = {}, method = 'POST'): ParsedRequest {
  return parseRequest({ method, url: new URL(`http://localhost/${search}`), headers, body: Buffer.from(body) });
}

describe('parseRequest', () => {
  it('separates settings, query parameters and the parameters the server consumes itself', () => {
    const r = request(
      '?query_id=q1&database=db&default_format=JSONEachRow&param_x=it%5C%27s&param_x=second&max_threads=1' +
        '&enable_http_compression=1&wait_end_of_query=1&send_progress_in_http_headers=1&user=u&password=p&role=r',
      'SELECT {x:String}',
    );
    expect(r).toMatchObject({ queryId: 'q1', database: 'db', defaultFormat: 'JSONEachRow', readOnlyMethod: false });
    expect(r.settings).toEqual([['max_threads', '1']]);
    expect(r.params).toEqual([['x', "it\\'s"]]);
    expect(r.statement).toEqual({ kind: 'sql', sql: 'SELECT {x:String}', singleStatementCheck: 'SELECT {x:String}' });
  });

  it('takes database and default format from X-ClickHouse headers before URL parameters', () => {
    const r = request('?database=fromurl&default_format=CSV', 'SELECT 1', { 'x-clickhouse-database': 'fromheader', 'x-clickhouse-format': 'JSON' });
    expect(r).toMatchObject({ database: 'fromheader', defaultFormat: 'JSON' });
  });

  it('joins the query parameter and a text body with a line break', () => {
    const r = request('?query=SELECT', '1');
    expect(r.statement).toEqual({ kind: 'sql', sql: 'SELECT\n1', singleStatementCheck: 'SELECT' });
  });

  it('keeps INSERT rows as bytes and recognises what chDB can take as a raw insert', () => {
    const r = request(`?query=${encodeURIComponent('INSERT INTO db.t (a, b) FORMAT JSONEachRow')}`, '{"a":1,"b":2}\n');
    expect(r.statement).toMatchObject({ kind: 'insert', insert: { table: 'db.t', columns: ['a', 'b'], format: 'JSONEachRow' } });
    expect(r.statement.kind === 'insert' && r.statement.data.toString()).toBe('{"a":1,"b":2}\n');
  });

  it('treats an INSERT without rows as an insert (the server accepts it as a no-op)', () => {
    const r = request(`?query=${encodeURIComponent('INSERT INTO t FORMAT JSONEachRow')}`);
    expect(r.statement).toMatchObject({ kind: 'insert', data: Buffer.alloc(0) });
  });

  it('marks GET requests read-only', () => {
    expect(request('?query=SELECT%201', '', {}, 'GET').readOnlyMethod).toBe(true);
  });

  it('refuses what the double does not implement instead of ignoring it', () => {
    expect(() => request('?session_id=s', 'SELECT 1')).toThrow(/session_id/);
    expect(() => request('?compress=1', 'SELECT 1')).toThrow(/internal compression/);
    expect(() =>
      parseRequest({ method: 'POST', url: new URL('http://localhost/?query=INSERT%20INTO%20t%20VALUES'), headers: {}, body: Buffer.from([0xff, 0xfe]) }),
    ).toThrow(/not valid UTF-8/);
  });

  it('rejects a setting name that is not an identifier as an unknown setting', () => {
    expect(() => request('?max%20threads=1', 'SELECT 1')).toThrow(expect.objectContaining({ code: 115, type: 'UNKNOWN_SETTING' }));
  });

  it('reads the query and its parameters from multipart/form-data (client use_multipart_params)', () => {
    const boundary = '----clickhouse-js-b';
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="query"\r\n\r\nSELECT {v:Array(String)}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="param_v"\r\n\r\n['a\\'b','c']\r\n--${boundary}--\r\n`;
    const r = request('?query_id=1', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    expect(r.statement).toMatchObject({ kind: 'sql', sql: 'SELECT {v:Array(String)}' });
    expect(r.params).toEqual([['v', "['a\\'b','c']"]]);
  });
});

describe('parseMultipart', () => {
  it('keeps part values byte for byte, CRLFs inside them included', () => {
    const parts = parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\ny\r\n--b--\r\n'), 'multipart/form-data; boundary=b');
    expect(parts).toEqual([{ name: 'a', filename: undefined, value: Buffer.from('x\r\ny') }]);
  });
});

describe('matchRawInsert', () => {
  it.each([
    ['INSERT INTO t FORMAT JSONEachRow', { table: 't', columns: undefined, format: 'JSONEachRow' }],
    ['insert into db.t(a,b) format TSV', { table: 'db.t', columns: ['a', 'b'], format: 'TSV' }],
    ['INSERT INTO `db`.`t` FORMAT JSONEachRow', undefined],
    ['INSERT INTO t (* EXCEPT (a)) FORMAT JSONEachRow', undefined],
    ['INSERT INTO t FORMAT RowBinary', undefined],
    ['INSERT INTO t SELECT 1', undefined],
  ])('%s', (sql, expected) => {
    expect(matchRawInsert(sql)).toEqual(expected);
  });
});

describe('contextStatements', () => {
  it('applies settings, then parameters, then the database, and readonly last', () => {
    const r = request("?readonly=1&param_p=o'k&max_threads=2&database=d%60b", 'SELECT 1');
    expect(contextStatements(r)).toEqual(["SET max_threads = '2'", "SET param_p = 'o\\'k'", 'USE `d\\`b`', "SET readonly = '1'"]);
  });

  it('makes GET requests readonly=2, as the server does', () => {
    expect(contextStatements(request('?query=SELECT%201', '', {}, 'GET'))).toEqual(['SET readonly = 2']);
  });
});

describe('SQL helpers', () => {
  it('stringLiteral escapes exactly the characters that could end or cut the literal', () => {
    expect(stringLiteral("a'b\\c\0d\ne")).toBe("'a\\'b\\\\c\\0d\ne'");
  });

  it('outputFormat prefers the statement FORMAT clause, then default_format, then TabSeparated', () => {
    const sql = (s: string) => ({ kind: 'sql' as const, sql: s, singleStatementCheck: s });
    expect(outputFormat(sql('SELECT 1 \nFORMAT JSONEachRow'), 'CSV')).toBe('JSONEachRow');
    expect(outputFormat(sql('SELECT 1'), 'CSV')).toBe('CSV');
    expect(outputFormat(sql('SELECT 1'), undefined)).toBe('TabSeparated');
    expect(outputFormat(sql('INSERT INTO t FORMAT JSONEachRow\n{}'), undefined)).toBe('TabSeparated');
  });

  it('mayBeMultiStatement ignores trailing semicolons', () => {
    expect(mayBeMultiStatement('SELECT 1;;  ')).toBe(false);
    expect(mayBeMultiStatement('SELECT 1; SELECT 2')).toBe(true);
  });

  it('contentTypeFor follows the format family', () => {
    expect(contentTypeFor('JSONEachRow')).toBe('application/json; charset=UTF-8');
    expect(contentTypeFor('CSVWithNames')).toBe('text/csv; charset=UTF-8; header=present');
    expect(contentTypeFor('RowBinary')).toBe('application/octet-stream');
  });
});

describe('renderException', () => {
  it("renders an engine error so the client's parseError yields its code, name and message", () => {
    const engineError = Object.assign(new Error("Code: 60. DB::Exception: Unknown table expression identifier 'nope'. (UNKNOWN_TABLE)"), { clickhouseCode: 60 });
    const r = renderException(engineError, '26.7.2.1');
    expect(r).toMatchObject({ status: 404, code: 60 });
    expect(r.text).toMatch(/\(UNKNOWN_TABLE\) \(version 26\.7\.2\.1 \(chDB HTTP test double\)\)\n$/);
    const parsed = parseError(r.text);
    expect(parsed).toBeInstanceOf(ClickHouseError);
    expect(parsed).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE', message: "Unknown table expression identifier 'nope'. " });
  });

  it('renders its own exceptions in the same shape', () => {
    const r = renderException(serverException('NOT_IMPLEMENTED', 'no sessions'), 'v');
    expect(r).toMatchObject({ status: 501, code: 48, text: 'Code: 48. DB::Exception: no sessions. (NOT_IMPLEMENTED) (version v (chDB HTTP test double))\n' });
  });

  it('renders anything else as STD_EXCEPTION with status 500', () => {
    expect(renderException(new Error('boom'), 'v')).toMatchObject({ status: 500, code: 1001 });
  });

  it('maps exception names to the statuses the server uses', () => {
    expect([httpStatusFor('SYNTAX_ERROR'), httpStatusFor('UNKNOWN_DATABASE'), httpStatusFor('READONLY'), httpStatusFor('TIMEOUT_EXCEEDED')]).toEqual([400, 404, 500, 408]);
  });
});
