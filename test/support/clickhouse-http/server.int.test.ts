/**
 * The ClickHouse HTTP test double as its own process, driven by the real @clickhouse/client over HTTP with
 * request and response compression on: what the platform's server mode will see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { type ClickHouseClient, ClickHouseError, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClickHouseHttp, startClickHouseHttp } from './process.ts';

const TRICKY = `it's "quoted", a \\ backslash, \\' an escaped quote,\na new line,\ta tab and ünïcödé`;
const BIG = 18446744073709551615n; // UInt64 max, far above 2^53

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A plain HTTP request, to see the status, headers and bytes the client normally hides. */
function raw(url: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'POST', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function failure(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('ClickHouse HTTP test double (chDB behind the ClickHouse HTTP interface)', () => {
  let dir: string;
  let dataDir: string;
  let ch: ClickHouseHttp | undefined;
  let client: ClickHouseClient;

  const count = async (table: string): Promise<number> => {
    const rs = await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' });
    return Number((await rs.json<{ n: string }>())[0]!.n);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ch-http-double-'));
    dataDir = join(dir, 'data');
    ch = await startClickHouseHttp({ dataDir });
    // The client logs every failed request; the failures here are on purpose.
    client = createClient({ url: ch.url, compression: { request: true, response: true }, log: { level: ClickHouseLogLevel.OFF } });
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS dbl' });
  });

  afterAll(async () => {
    await client?.close();
    await ch?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers ping on /ping and with a SELECT', async () => {
    expect(await client.ping()).toEqual({ success: true });
    expect(await client.ping({ select: true })).toEqual({ success: true });
  });

  it('creates tables with UInt64, DateTime64(9), Map and Nested columns', async () => {
    await client.command({
      query: `CREATE TABLE dbl.spans (id UInt64, ts DateTime64(9), attrs Map(String, String), ev Nested(name String, n UInt64))
              ENGINE = MergeTree ORDER BY id`,
    });
    const rs = await client.query({
      query: "SELECT name, type FROM system.columns WHERE database = 'dbl' AND table = 'spans' ORDER BY position",
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      { name: 'id', type: 'UInt64' },
      { name: 'ts', type: 'DateTime64(9)' },
      { name: 'attrs', type: 'Map(String, String)' },
      { name: 'ev.name', type: 'Array(String)' },
      { name: 'ev.n', type: 'Array(UInt64)' },
    ]);
  });

  it('inserts rows given as objects (insert, JSONEachRow) and reports the rows written', async () => {
    const result = await client.insert({
      table: 'dbl.spans',
      format: 'JSONEachRow',
      values: [
        { id: BIG.toString(), ts: '2024-05-06 07:08:09.123456789', attrs: { k: TRICKY }, 'ev.name': ['a', 'b'], 'ev.n': ['1', '9007199254740993'] },
        { id: 2, ts: '2024-05-06 07:08:10.000000001', attrs: {}, 'ev.name': [], 'ev.n': [] },
      ],
    });
    expect(result.executed).toBe(true);
    expect(result.summary).toMatchObject({ written_rows: '2' });
    const rs = await client.query({
      query: 'SELECT id, ts, attrs, ev.name, ev.n FROM dbl.spans ORDER BY id',
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    expect(await rs.json()).toEqual([
      { id: '2', ts: '2024-05-06 07:08:10.000000001', attrs: {}, 'ev.name': [], 'ev.n': [] },
      { id: BIG.toString(), ts: '2024-05-06 07:08:09.123456789', attrs: { k: TRICKY }, 'ev.name': ['a', 'b'], 'ev.n': ['1', '9007199254740993'] },
    ]);
  });

  it('inserts a byte stream with exec (the writers path), also into a backquoted table name', async () => {
    const lines = (ids: number[]) => ids.map((id) => JSON.stringify({ id, ts: '2024-05-06 07:08:11.5', attrs: { id: String(id) }, 'ev.name': ['x'], 'ev.n': [id] })).join('\n');
    for (const [query, ids] of [
      ['INSERT INTO dbl.spans FORMAT JSONEachRow', [3, 4]],
      ['INSERT INTO `dbl`.`spans` FORMAT JSONEachRow', [5]],
    ] as const) {
      const result = await client.exec({ query, values: Readable.from([Buffer.from(lines([...ids]))], { objectMode: false }) });
      result.stream.resume();
    }
    expect(await count('dbl.spans')).toBe(5);

    // No rows is no error, as on the server (chDB alone would answer NO_DATA_TO_INSERT).
    const empty = await client.exec({ query: 'INSERT INTO dbl.spans FORMAT JSONEachRow', values: Readable.from([], { objectMode: false }) });
    empty.stream.resume();
    expect(await count('dbl.spans')).toBe(5);
  });

  it('binds query parameters: strings with quotes, backslashes and new lines, UInt64 above 2^53, Array(String), DateTime64', async () => {
    const query_params = { s: TRICKY, u: BIG, arr: [TRICKY, "o'k", ''], ts: '2024-05-06 07:08:09.123456789', d: new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 120)) };
    const sql = 'SELECT {s:String} AS s, {u:UInt64} AS u, {arr:Array(String)} AS arr, {ts:DateTime64(9)} AS ts, {d:DateTime64(3)} AS d';
    const settings = { output_format_json_quote_64bit_integers: 1 } as const;

    const rows = await (await client.query({ query: sql, query_params, format: 'JSONEachRow', clickhouse_settings: settings })).json();
    const expected = { s: TRICKY, u: BIG.toString(), arr: [TRICKY, "o'k", ''], ts: '2024-05-06 07:08:09.123456789', d: '2024-05-06 07:08:09.120' };
    expect(rows).toEqual([expected]);

    const json = await (await client.query({ query: sql, query_params, format: 'JSON', clickhouse_settings: settings })).json<any>();
    expect(json.data).toEqual([expected]);
    expect(json.meta).toContainEqual({ name: 'u', type: 'UInt64' });

    const byId = await client.query({ query: 'SELECT attrs FROM dbl.spans WHERE id = {id:UInt64}', query_params: { id: BIG }, format: 'JSONEachRow' });
    expect(await byId.json()).toEqual([{ attrs: { k: TRICKY } }]);
  });

  it('keeps concurrent requests apart: each sees its own parameters and settings', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const rs = await client.query({
          query: "SELECT {v:String} AS v, getSetting('max_result_rows') AS m",
          query_params: { v: `${TRICKY} #${i}` },
          clickhouse_settings: { max_result_rows: String(1000 + i) },
          format: 'JSONEachRow',
        });
        const row = (await rs.json<{ v: string; m: number }>())[0]!;
        return { v: row.v, m: Number(row.m) };
      }),
    );
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => ({ v: `${TRICKY} #${i}`, m: 1000 + i })));
  });

  it('sends long query parameters as multipart/form-data when asked to', async () => {
    const rs = await client.query({
      query: 'SELECT length({big:String}) AS n, {arr:Array(String)}[2] AS second',
      query_params: { big: 'x'.repeat(20_000), arr: ['a', TRICKY] },
      use_multipart_params: true,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '20000', second: TRICKY }]);
  });

  it('applies settings per request over the server defaults, and leaves nothing over for the next request', async () => {
    const text = async (quote?: 0 | 1) =>
      (
        await client.query({
          query: `SELECT toUInt64('${BIG}') AS u`,
          format: 'JSONEachRow',
          ...(quote === undefined ? {} : { clickhouse_settings: { output_format_json_quote_64bit_integers: quote } }),
        })
      ).text();
    expect(await text(0)).toBe(`{"u":${BIG}}\n`);
    expect(await text(1)).toBe(`{"u":"${BIG}"}\n`);
    // The server's default, although chDB's own default is not to quote.
    expect(await text()).toBe(`{"u":"${BIG}"}\n`);

    const setting = async (settings: Record<string, number>) =>
      (await (await client.query({ query: "SELECT getSetting('max_result_rows') AS v", format: 'JSONEachRow', clickhouse_settings: settings })).json<{ v: unknown }>())[0]!.v;
    expect(Number(await setting({ max_result_rows: 12345 }))).toBe(12345);
    expect(Number(await setting({}))).toBe(0);
  });

  it('uses the database of the client configuration', async () => {
    const other = createClient({ url: ch!.url, database: 'dbl', compression: { request: true, response: true } });
    try {
      const rs = await other.query({ query: 'SELECT currentDatabase() AS db, count() AS n FROM spans', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ db: 'dbl', n: '5' }]);
    } finally {
      await other.close();
    }
  });

  it('deduplicates a repeated insert_deduplication_token, and the token does not outlive its request', async () => {
    await client.command({ query: 'CREATE TABLE dbl.dedup (k UInt64, v String) ENGINE = MergeTree ORDER BY k SETTINGS non_replicated_deduplication_window = 100' });
    const rows = [
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
    ];
    for (let i = 0; i < 2; i++) {
      await client.insert({ table: 'dbl.dedup', values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'batch-1' } });
    }
    expect(await count('dbl.dedup')).toBe(2);

    // The writers' path: exec with a byte stream, replayed with the same token.
    for (let i = 0; i < 2; i++) {
      const r = await client.exec({
        query: 'INSERT INTO dbl.dedup FORMAT JSONEachRow',
        values: Readable.from([Buffer.from('{"k":3,"v":"c"}\n{"k":4,"v":"d"}')], { objectMode: false }),
        clickhouse_settings: { insert_deduplication_token: 'batch-2' },
      });
      r.stream.resume();
    }
    expect(await count('dbl.dedup')).toBe(4);

    // Were the token left on a shared connection, this insert (no token) would be taken for batch-2 and dropped.
    await client.insert({ table: 'dbl.dedup', values: [{ k: 5, v: 'e' }], format: 'JSONEachRow' });
    expect(await count('dbl.dedup')).toBe(5);
  });

  it('reports a syntax error as ClickHouseError 62 and an unknown table as 60', async () => {
    // (Not `SELEC 1`: its message holds `(SELEC)`, which the client's parser takes for the error name, on a real
    // server as here.)
    const syntax = await failure(client.command({ query: 'SELECT 1 +' }));
    expect(syntax).toBeInstanceOf(ClickHouseError);
    expect(syntax).toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
    expect(syntax.message).toMatch(/^Syntax error: failed at position 11 \(end of query\)/);

    const unknown = await failure(client.query({ query: 'SELECT * FROM dbl.nope', format: 'JSONEachRow' }));
    expect(unknown).toBeInstanceOf(ClickHouseError);
    expect(unknown).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
    expect(unknown.message).toMatch(/dbl\.nope|nope/);

    const insert = await failure(client.insert({ table: 'dbl.nope', values: [{ a: 1 }], format: 'JSONEachRow' }));
    expect(insert).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
  });

  it('refuses several statements in one request, as the server does', async () => {
    const err = await failure(client.command({ query: 'SELECT 1; SELECT 2' }));
    expect(err).toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
    expect(err.message).toMatch(/Multi-statements are not allowed/);
    await expect(client.command({ query: "SELECT ';'" })).resolves.toBeDefined();
  });

  it('sends the server headers, gzip-compresses when asked, and maps exceptions to HTTP statuses', async () => {
    const ok = await raw(`${ch!.url}/?query_id=my-query&default_format=JSONEachRow&enable_http_compression=1`, {
      body: 'SELECT 1 AS x',
      headers: { 'Accept-Encoding': 'gzip', Authorization: `Basic ${Buffer.from('anyone:anything').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({
      'content-encoding': 'gzip',
      'x-clickhouse-query-id': 'my-query',
      'x-clickhouse-format': 'JSONEachRow',
      'x-clickhouse-timezone': 'UTC',
      'x-clickhouse-server-display-name': 'chdb-http-test-double',
    });
    expect(JSON.parse(String(ok.headers['x-clickhouse-summary']))).toMatchObject({ result_rows: '1', written_rows: '0' });
    expect(gunzipSync(ok.body).toString()).toBe('{"x":1}\n');

    const notFound = await raw(`${ch!.url}/`, { body: 'SELECT * FROM dbl.nope' });
    expect([notFound.status, notFound.headers['x-clickhouse-exception-code']]).toEqual([404, '60']);
    expect(notFound.body.toString()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version 26\./);

    const syntax = await raw(`${ch!.url}/`, { body: 'SELEC 1' });
    expect([syntax.status, syntax.headers['x-clickhouse-exception-code']]).toEqual([400, '62']);

    // GET is read-only on the server.
    const get = await raw(`${ch!.url}/?query=${encodeURIComponent('CREATE TABLE dbl.g (a UInt8) ENGINE = Memory')}`, { method: 'GET' });
    expect(get.headers['x-clickhouse-exception-code']).toBe('164');
  });

  it('is unreachable while stopped and keeps its data across a restart on the same data directory and port', async () => {
    const { port } = ch!;
    await ch!.stop();
    ch = undefined;

    const down = await failure(client.query({ query: 'SELECT 1', format: 'JSONEachRow' }));
    expect(down).not.toBeInstanceOf(ClickHouseError);
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(down.code);

    ch = await startClickHouseHttp({ dataDir, port });
    expect(ch.port).toBe(port);
    expect(await count('dbl.spans')).toBe(5);
    expect(await count('dbl.dedup')).toBe(5);
  });

  it('keeps acknowledged inserts when killed with SIGKILL', async () => {
    await client.insert({ table: 'dbl.dedup', values: [{ k: 6, v: 'f' }], format: 'JSONEachRow' });
    const { port } = ch!;
    ch!.kill();
    expect(await ch!.exited).toEqual({ code: null, signal: 'SIGKILL' });
    ch = undefined;

    ch = await startClickHouseHttp({ dataDir, port });
    expect(await count('dbl.dedup')).toBe(6);
  });
});
