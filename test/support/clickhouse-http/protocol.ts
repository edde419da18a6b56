/**
 * The ClickHouse HTTP interface, as far as the test double speaks it: how a request's URL, headers and body
 * become a statement, its settings and its query parameters, and how an exception becomes a response.
 * Pure functions: no sockets, no engine. What the double does NOT model is listed in README.md.
 *
 * Shapes follow the server (src/Server/HTTPHandler.cpp) and what @clickhouse/client 1.23 sends
 * (connection/node_base_connection.js, common/utils/url.js, common/data_formatter/format_query_params.js).
 */

/** An exception in the server's own terms: a numeric code and its name, rendered as `Code: n. DB::Exception: …`. */
export class ServerException extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServerException';
  }
}

/** The codes this module raises itself (names checked with the engine's `errorCodeToName`). */
export const ErrorCode = {
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  UNKNOWN_SETTING: 115,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  CANNOT_DECOMPRESS: 271,
  STD_EXCEPTION: 1001,
} as const;
type ErrorName = keyof typeof ErrorCode;

export function serverException(name: ErrorName, message: string): ServerException {
  return new ServerException(ErrorCode[name], name, message);
}

// ---------------------------------------------------------------------------------------------------------------
// Request parsing

/** URL parameters the server consumes itself and never treats as settings (HTTPHandler `reserved_param_names`). */
const RESERVED_PARAMS = new Set([
  'user',
  'password',
  'quota_key',
  'stacktrace',
  'buffer_size',
  'wait_end_of_query',
  'session_timeout',
  'session_check',
  'client_protocol_version',
  'close_session',
  // Roles only matter with access control, which the double does not model.
  'role',
]);

/**
 * Settings that configure the HTTP layer, not the query. The double acts on the first two itself and drops the
 * rest: it always buffers the whole result (as `wait_end_of_query=1` would) and sends no progress headers.
 */
const HTTP_LAYER_SETTINGS = new Set([
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_wait_end_of_query',
  'http_write_exception_in_output_format',
  'http_response_buffer_size',
  'http_native_compression_disable_checksumming_on_decompress',
  'http_response_headers',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
]);

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARAM_NAME = /^[A-Za-z0-9_]+$/;

/** What to run: SQL text, or an INSERT whose rows stay bytes and go to the engine's raw insert path. */
export type Statement =
  | { readonly kind: 'sql'; readonly sql: string; readonly singleStatementCheck: string }
  | { readonly kind: 'insert'; readonly sql: string; readonly insert: RawInsert | undefined; readonly data: Buffer };

/** An `INSERT INTO t [(cols)] FORMAT f` simple enough for chDB's raw insert API (identifier and format whitelists). */
export interface RawInsert {
  readonly table: string;
  readonly columns: readonly string[] | undefined;
  readonly format: RawInsertFormat;
}

/** chDB's raw insert formats (`RawInsertFormat` in chdb's index.d.ts). */
const RAW_INSERT_FORMATS = ['JSONEachRow', 'JSONCompactEachRow', 'CSV', 'CSVWithNames', 'TSV', 'TabSeparated', 'TSVWithNames', 'TabSeparatedWithNames'] as const;
export type RawInsertFormat = (typeof RAW_INSERT_FORMATS)[number];

export interface ParsedRequest {
  readonly queryId: string | undefined;
  readonly database: string | undefined;
  readonly defaultFormat: string | undefined;
  /** Settings in URL order; applied before the statement, for this request only. */
  readonly settings: ReadonlyArray<readonly [string, string]>;
  /** Query parameters, values exactly as sent (ClickHouse's escaped text form). */
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** HTTP GET is read-only on the server (`readonly=2` unless the request sets `readonly`). */
  readonly readOnlyMethod: boolean;
  readonly statement: Statement;
}

/** Response compression the request asked for (`enable_http_compression=1` and an `Accept-Encoding` we can produce). */
export interface ResponseCompression {
  readonly enabled: boolean;
  readonly level: number | undefined;
}

export interface RequestInput {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request body, already decompressed. */
  readonly body: Buffer;
}

function header(headers: RequestInput['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function responseCompression(url: URL): ResponseCompression {
  const level = url.searchParams.get('http_zlib_compression_level');
  return { enabled: truthy(url.searchParams.get('enable_http_compression') ?? undefined), level: level === null ? undefined : Number(level) };
}

const INSERT_WITH_FORMAT = /^\s*INSERT\s+INTO\s[\s\S]*\bFORMAT\s+[A-Za-z0-9_]+\s*$/i;
const SIMPLE_INSERT =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)\s*(?:\(\s*([A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)\s*\)\s*)?\s+FORMAT\s+([A-Za-z]+)\s*$/i;

/** Matches the INSERT the client builds for `insert()` (`INSERT INTO t (a, b) FORMAT JSONEachRow`) when chDB can take its rows as raw bytes. */
export function matchRawInsert(sql: string): RawInsert | undefined {
  const m = SIMPLE_INSERT.exec(sql);
  if (!m) return undefined;
  const format = RAW_INSERT_FORMATS.find((f) => f === m[3]);
  if (format === undefined || m[1] === undefined) return undefined;
  return { table: m[1], columns: m[2]?.split(',').map((c) => c.trim()), format };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes SQL or inline rows; chDB takes both as text, so bytes that are not UTF-8 cannot be passed on faithfully. */
export function utf8(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw serverException(
      'NOT_IMPLEMENTED',
      `The ${what} is not valid UTF-8. This test double passes SQL and inline data to chDB as text, so binary formats (RowBinary, Native, Parquet, …) are not supported`,
    );
  }
}

/**
 * Splits a request the way HTTPHandler does: `query`, `query_id`, `database`, `default_format` and `param_*` are
 * consumed, reserved names are skipped, HTTP-layer settings are handled here, and everything else is a setting.
 * The statement is the `query` parameter, a line break and the body (or the `query` parts of a multipart body).
 */
export function parseRequest(input: RequestInput): ParsedRequest {
  const { url, headers, body } = input;
  let queryParam = '';
  let queryId = header(headers, 'x-clickhouse-query-id');
  let database = header(headers, 'x-clickhouse-database');
  let defaultFormat = header(headers, 'x-clickhouse-format');
  const settings: Array<readonly [string, string]> = [];
  const params = new Map<string, string>();

  const addParam = (key: string, value: string): void => {
    const name = key.slice('param_'.length);
    if (!PARAM_NAME.test(name)) throw serverException('BAD_ARGUMENTS', `Query parameter name ${JSON.stringify(name)} is not an identifier`);
    // The server keeps the first value of a repeated parameter.
    if (!params.has(name)) params.set(name, value);
  };

  for (const [key, value] of url.searchParams) {
    if (key === '') continue;
    if (key === 'query') queryParam += value;
    else if (key === 'query_id') queryId = value;
    else if (key === 'database') database ??= value;
    else if (key === 'default_format') defaultFormat ??= value;
    else if (key.startsWith('param_')) addParam(key, value);
    else if (key === 'session_id') throw serverException('NOT_IMPLEMENTED', 'HTTP sessions (session_id) are not supported by this test double');
    else if (key === 'compress' || key === 'decompress') {
      if (truthy(value)) throw serverException('NOT_IMPLEMENTED', `ClickHouse's internal compression (${key}=1) is not supported by this test double`);
    } else if (RESERVED_PARAMS.has(key) || HTTP_LAYER_SETTINGS.has(key)) continue;
    else if (!SETTING_NAME.test(key)) throw serverException('UNKNOWN_SETTING', `Unknown setting '${key}'`);
    else settings.push([key, value]);
  }

  const contentType = header(headers, 'content-type') ?? '';
  let statement: Statement;
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    // Query parameters too long for a URL come as form fields (client `use_multipart_params`); the body is not
    // part of the query then.
    let sql = queryParam;
    for (const part of parseMultipart(body, contentType)) {
      if (part.filename !== undefined) throw serverException('NOT_IMPLEMENTED', 'External data (file parts in multipart/form-data) is not supported by this test double');
      if (part.name === 'query') sql += utf8(part.value, 'multipart query');
      else if (part.name.startsWith('param_')) addParam(part.name, utf8(part.value, `multipart ${part.name}`));
    }
    statement = { kind: 'sql', sql, singleStatementCheck: sql };
  } else if (queryParam !== '' && body.length > 0) {
    // The statement is in the URL and the body continues it: rows for an INSERT, or (rarely) more SQL.
    const insert = INSERT_WITH_FORMAT.test(queryParam);
    if (insert) statement = { kind: 'insert', sql: queryParam, insert: matchRawInsert(queryParam), data: body };
    else statement = { kind: 'sql', sql: `${queryParam}\n${utf8(body, 'request body')}`, singleStatementCheck: queryParam };
  } else if (queryParam !== '') {
    statement = INSERT_WITH_FORMAT.test(queryParam)
      ? { kind: 'insert', sql: queryParam, insert: matchRawInsert(queryParam), data: body }
      : { kind: 'sql', sql: queryParam, singleStatementCheck: queryParam };
  } else {
    const sql = utf8(body, 'request body');
    statement = { kind: 'sql', sql, singleStatementCheck: sql };
  }
  if (statement.kind === 'sql' && statement.sql.trim() === '') throw serverException('SYNTAX_ERROR', 'Empty query');

  return {
    queryId: queryId === '' ? undefined : queryId,
    database: database === '' ? undefined : database,
    defaultFormat: defaultFormat === '' ? undefined : defaultFormat,
    settings,
    params: [...params],
    readOnlyMethod: input.method === 'GET',
    statement,
  };
}

export interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly value: Buffer;
}

/** A minimal multipart/form-data reader (RFC 7578): named parts, no nested multiparts. */
export function parseMultipart(body: Buffer, contentType: string): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) throw serverException('BAD_ARGUMENTS', 'multipart/form-data without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw serverException('BAD_ARGUMENTS', 'multipart/form-data body without its boundary');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return parts;
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') throw serverException('BAD_ARGUMENTS', 'Malformed multipart/form-data body');
    const headersEnd = body.indexOf('\r\n\r\n', pos + 2);
    if (headersEnd < 0) throw serverException('BAD_ARGUMENTS', 'Malformed multipart/form-data part headers');
    const partHeaders = body.subarray(pos + 2, headersEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) throw serverException('BAD_ARGUMENTS', 'Unterminated multipart/form-data part');
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(partHeaders)?.[1] ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw serverException('BAD_ARGUMENTS', 'multipart/form-data part without a name');
    parts.push({ name, filename: /;\s*filename="([^"]*)"/i.exec(disposition)?.[1], value: body.subarray(headersEnd + 4, next) });
    pos = next + 2;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SQL helpers

/**
 * A ClickHouse string literal holding `value` byte for byte: backslash and quote escaped (the two characters
 * that could end the literal), NUL escaped so no C-string boundary can cut the text short.
 */
export function stringLiteral(value: string): string {
  return `'${value.replace(/[\\'\0]/g, (c) => (c === '\0' ? '\\0' : `\\${c}`))}'`;
}

/** A backquoted identifier (database names from the `database` parameter). */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/[\\`]/g, (c) => `\\${c}`)}\``;
}

/**
 * The output format the server will use: the statement's own `FORMAT` clause if it ends with one (not for INSERT,
 * where FORMAT names the input), else `default_format`, else TabSeparated.
 */
export function outputFormat(statement: Statement, defaultFormat: string | undefined): string {
  if (statement.kind === 'sql' && !/^\s*INSERT\b/i.test(statement.sql)) {
    const m = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(statement.sql);
    if (m?.[1] !== undefined) return m[1];
  }
  return defaultFormat ?? 'TabSeparated';
}

/**
 * The statements that give a fresh connection the request's context, in the order the server applies it:
 * settings, query parameters, current database, and `readonly` last so it cannot refuse the ones before it.
 *
 * Query parameters are set with `SET param_<name> = '<value>'`: the engine stores the value byte for byte and
 * parses it with the placeholder's type at substitution, exactly as it does a `param_<name>` URL parameter. chDB's
 * `queryBindAsync` is not used because it formats JavaScript values itself: it would escape the client's
 * already-escaped text a second time (`it\'s` would arrive as `it\\'s`).
 */
export function contextStatements(req: ParsedRequest): string[] {
  const out: string[] = [];
  let readonly: string | undefined;
  for (const [name, value] of req.settings) {
    if (name === 'readonly') readonly = value;
    else out.push(`SET ${name} = ${stringLiteral(value)}`);
  }
  for (const [name, value] of req.params) out.push(`SET param_${name} = ${stringLiteral(value)}`);
  if (req.database !== undefined) out.push(`USE ${quoteIdentifier(req.database)}`);
  if (readonly !== undefined) out.push(`SET readonly = ${stringLiteral(readonly)}`);
  else if (req.readOnlyMethod) out.push('SET readonly = 2');
  return out;
}

/** Whether a statement could hold more than one query (a `;` before its trailing `;`s): only then ask the parser. */
export function mayBeMultiStatement(sql: string): boolean {
  return sql.replace(/[\s;]+$/, '').includes(';');
}

/** The Content-Type the server sends for a format (IOutputFormat::getContentType, approximately). */
export function contentTypeFor(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('json') || f === 'ndjson') return 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f.includes('withnames') ? 'present' : 'absent'}`;
  if (f === 'xml') return 'application/xml; charset=UTF-8';
  if (/^(native|rowbinary|parquet|arrow|orc|avro|protobuf|msgpack|capnproto|bsoneachrow|npy)/.test(f)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

// ---------------------------------------------------------------------------------------------------------------
// Exceptions

export interface RenderedException {
  readonly status: number;
  readonly code: number;
  /** `Code: n. DB::Exception: message. (NAME) (version v)`: what the client's `parseError` reads. */
  readonly text: string;
}

const STATUS_BY_NAME: ReadonlyMap<string, number> = new Map([
  ...['REQUIRED_PASSWORD'].map((n) => [n, 401] as const),
  ...['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE', 'ACCESS_DENIED'].map((n) => [n, 403] as const),
  ...[
    'BAD_ARGUMENTS',
    'CANNOT_COMPILE_REGEXP',
    'CANNOT_PARSE_TEXT',
    'CANNOT_PARSE_ESCAPE_SEQUENCE',
    'CANNOT_PARSE_QUOTED_STRING',
    'CANNOT_PARSE_DATE',
    'CANNOT_PARSE_DATETIME',
    'CANNOT_PARSE_NUMBER',
    'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING',
    'CANNOT_PARSE_IPV4',
    'CANNOT_PARSE_IPV6',
    'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
    'CANNOT_PARSE_UUID',
    'DUPLICATE_COLUMN',
    'ILLEGAL_COLUMN',
    'UNKNOWN_ELEMENT_IN_AST',
    'UNKNOWN_TYPE_OF_AST_NODE',
    'THERE_IS_NO_COLUMN',
    'TOO_DEEP_AST',
    'TOO_BIG_AST',
    'UNEXPECTED_AST_STRUCTURE',
    'SYNTAX_ERROR',
    'INCORRECT_DATA',
    'TYPE_MISMATCH',
    'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  ].map((n) => [n, 400] as const),
  ...[
    'UNKNOWN_TABLE',
    'UNKNOWN_FUNCTION',
    'UNKNOWN_IDENTIFIER',
    'UNKNOWN_TYPE',
    'UNKNOWN_STORAGE',
    'UNKNOWN_DATABASE',
    'UNKNOWN_SETTING',
    'UNKNOWN_DIRECTION_OF_SORTING',
    'UNKNOWN_AGGREGATE_FUNCTION',
    'UNKNOWN_FORMAT',
    'UNKNOWN_DATABASE_ENGINE',
    'UNKNOWN_TYPE_OF_QUERY',
    'UNKNOWN_ROLE',
  ].map((n) => [n, 404] as const),
  ['QUERY_IS_TOO_LARGE', 413],
  ['NOT_IMPLEMENTED', 501],
  ['SOCKET_TIMEOUT', 503],
  ['CANNOT_OPEN_FILE', 503],
  ['CANNOT_SCHEDULE_TASK', 503],
  ['HTTP_LENGTH_REQUIRED', 411],
  ['TIMEOUT_EXCEEDED', 408],
  ['UNSUPPORTED_MEDIA_TYPE', 415],
]);

/** The HTTP status the server answers an exception with (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp), by name. */
export function httpStatusFor(name: string): number {
  return STATUS_BY_NAME.get(name) ?? 500;
}

const ENGINE_MESSAGE = /^Code: (\d+)\. DB::Exception: /;
const TRAILING_NAME = /\(([A-Z][A-Z0-9_]*)\)\s*$/;

/**
 * Renders any error as the server would. chDB's messages already read `Code: n. DB::Exception: …. (NAME)`; the
 * server adds its version. Anything else (a bug in the double, a chDB binding error) becomes STD_EXCEPTION.
 */
export function renderException(err: unknown, version: string): RenderedException {
  let code: number;
  let body: string;
  if (err instanceof ServerException) {
    code = err.code;
    body = `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type})`;
  } else {
    const message = (err instanceof Error ? err.message : String(err)).trimEnd();
    const m = ENGINE_MESSAGE.exec(message);
    if (m?.[1] !== undefined && TRAILING_NAME.test(message)) {
      code = Number(m[1]);
      body = message;
    } else {
      code = ErrorCode.STD_EXCEPTION;
      body = `Code: ${code}. DB::Exception: ${message.replace(/\.$/, '')}. (STD_EXCEPTION)`;
    }
  }
  const name = TRAILING_NAME.exec(body)?.[1] ?? 'STD_EXCEPTION';
  return { status: httpStatusFor(name), code, text: `${body} (version ${version} (chDB HTTP test double))\n` };
}

/** The `X-ClickHouse-Summary` header: every counter as a decimal string, as the server sends it. */
export interface Summary {
  read_rows: string;
  read_bytes: string;
  written_rows: string;
  written_bytes: string;
  total_rows_to_read: string;
  result_rows: string;
  result_bytes: string;
  elapsed_ns: string;
}

export function summary(counts: Partial<Record<keyof Summary, number>>): Summary {
  const s = (k: keyof Summary): string => String(Math.max(0, Math.round(counts[k] ?? 0)));
  return {
    read_rows: s('read_rows'),
    read_bytes: s('read_bytes'),
    written_rows: s('written_rows'),
    written_bytes: s('written_bytes'),
    total_rows_to_read: s('total_rows_to_read'),
    result_rows: s('result_rows'),
    result_bytes: s('result_bytes'),
    elapsed_ns: s('elapsed_ns'),
  };
}
