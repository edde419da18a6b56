/**
 * The real ClickHouse engine behind the HTTP test double: chDB (ClickHouse 26.x in-process) over one on-disk data
 * directory. chDB binds one data directory per process, so this runs in the double's own process.
 *
 * Each request gets its own chDB connection (a `Session` on the data directory, a few milliseconds while the anchor
 * connection keeps the engine up). That is what makes a request's settings, query parameters and database its
 * own: `SET` in chDB lasts for the connection, so on a shared connection one request's
 * `insert_deduplication_token` would silently deduplicate the next request's insert.
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Session } from 'chdb';
import {
  contextStatements,
  type ParsedRequest,
  mayBeMultiStatement,
  outputFormat,
  serverException,
  stringLiteral,
  summary,
  type Summary,
  utf8,
} from './protocol.ts';

/** `INSERT INTO db.table [(a, b)] FORMAT RowBinary|Native` with plain or backquoted names. */
const BINARY_INSERT = /^\s*INSERT\s+INTO\s+([\w.`]+)\s*(?:\(([\w\s,`.]+)\))?\s*FORMAT\s+(RowBinary|Native)\s*$/i;

export interface EngineResult {
  /** The result bytes in `format`; empty for statements without output. */
  readonly body: Uint8Array;
  readonly format: string;
  readonly summary: Summary;
}

export interface EngineOptions {
  /**
   * Statements run at once; the rest wait in line.
   * @default 8
   */
  readonly maxConcurrent?: number;
  /**
   * Statements allowed to wait; beyond that a request fails at once with TOO_MANY_SIMULTANEOUS_QUERIES.
   * @default 1000
   */
  readonly maxQueued?: number;
}

/**
 * Where chDB's defaults differ from clickhouse-server's, every connection starts from the server's: a client that
 * works against the double must not depend on chDB's choices. chDB ships `output_format_json_quote_64bit_integers`
 * off (the server quotes 64-bit integers in JSON by default), and turns on `implicit_select` and
 * `allow_introspection_functions` for its local use.
 */
const SERVER_DEFAULTS = ['--output_format_json_quote_64bit_integers=1', '--implicit_select=0', '--allow_introspection_functions=0'];

function connect(dataDir: string): Session {
  return new Session(dataDir, { connectionArgs: SERVER_DEFAULTS });
}

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  return true;
}

export class ChdbEngine {
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #idle: Array<() => void> = [];
  #closed = false;

  private constructor(
    readonly dataDir: string,
    /** Keeps the engine up between requests; closed last. */
    private readonly anchor: Session,
    /** `version()` of the engine, e.g. 26.7.2.1. */
    readonly version: string,
    /** `timezone()` of the engine: what the server reports in X-ClickHouse-Timezone. */
    readonly timezone: string,
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
  ) {}

  static async open(dataDir: string, opts: EngineOptions = {}): Promise<ChdbEngine> {
    mkdirSync(dataDir, { recursive: true });
    const anchor = connect(dataDir);
    try {
      const row = (await anchor.queryAsync('SELECT version(), timezone()', { format: 'JSONCompactEachRow' })).json<[string, string]>();
      return new ChdbEngine(dataDir, anchor, row[0], row[1], opts.maxConcurrent ?? 8, opts.maxQueued ?? 1000);
    } catch (err) {
      anchor.close();
      throw err;
    }
  }

  /** Runs one request's statement on its own connection. Engine errors propagate as chDB raised them. */
  async execute(req: ParsedRequest): Promise<EngineResult> {
    if (this.#closed) throw serverException('STD_EXCEPTION', 'The server is shutting down');
    await this.#acquire();
    try {
      const session = connect(this.dataDir);
      try {
        return await this.#run(session, req);
      } finally {
        session.close();
      }
    } finally {
      this.#release();
    }
  }

  async #run(session: Session, req: ParsedRequest): Promise<EngineResult> {
    const context = contextStatements(req);
    if (context.length > 0) await session.queryAsync(context.join(';\n'), { format: 'TabSeparated' });

    const st = req.statement;
    const format = outputFormat(st, req.defaultFormat);
    const queryFormat = req.defaultFormat ?? 'TabSeparated';
    if (st.kind === 'sql') {
      if (mayBeMultiStatement(st.singleStatementCheck)) await assertSingleStatement(session, st.singleStatementCheck);
      const r = await session.queryAsync(st.sql, { format: queryFormat });
      const body = r.bytes();
      return {
        body,
        format,
        summary: summary({ read_rows: r.rowsRead, read_bytes: r.bytesRead, result_rows: r.rowsRead, result_bytes: body.length, elapsed_ns: r.elapsed * 1e9 }),
      };
    }

    // An INSERT with its rows in the body. No rows is a no-op on the server (the engine here would say NO_DATA_TO_INSERT).
    if (isBlank(st.data)) return { body: new Uint8Array(0), format, summary: summary({}) };
    if (st.insert !== undefined) {
      // Raw insert: the rows stay bytes and chDB reports the rows it wrote.
      const s = await session.insert({
        table: st.insert.table,
        values: st.data,
        format: st.insert.format,
        ...(st.insert.columns !== undefined ? { columns: st.insert.columns } : {}),
      });
      return {
        body: new Uint8Array(0),
        format,
        summary: summary({ read_rows: s.rowsWritten, read_bytes: s.bytesWritten, written_rows: s.rowsWritten, written_bytes: s.bytesWritten, elapsed_ns: s.elapsed * 1e9 }),
      };
    }
    // RowBinary and Native: bytes that cannot travel as query text. A real server reads them from the body; here
    // they are staged in a file the engine reads, like the platform's embedded insert path does.
    const binary = BINARY_INSERT.exec(st.sql);
    if (binary) {
      const path = join(this.dataDir, `.binary-insert-${randomUUID()}`);
      await writeFile(path, st.data);
      try {
        const r = await session.queryAsync(`INSERT INTO ${binary[1]}${binary[2] ? ` (${binary[2]})` : ''} SELECT * FROM file('${path}', ${binary[3]})`, { format: queryFormat });
        return { body: r.bytes(), format, summary: summary({ elapsed_ns: r.elapsed * 1e9 }) };
      } finally {
        await rm(path, { force: true });
      }
    }
    // Anything else (quoted names, other text formats): the rows inline after the statement, as chDB parses them.
    const r = await session.queryAsync(`${st.sql}\n${utf8(st.data, 'request body')}`, { format: queryFormat });
    return { body: r.bytes(), format, summary: summary({ elapsed_ns: r.elapsed * 1e9 }) };
  }

  /** Waits for running statements (up to `timeoutMs`), then closes the engine. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.#closed = true;
    for (const wake of this.#waiting.splice(0)) wake();
    if (this.#running > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.anchor.close();
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.maxConcurrent) {
      this.#running++;
      return;
    }
    if (this.#waiting.length >= this.maxQueued) {
      throw serverException('TOO_MANY_SIMULTANEOUS_QUERIES', `Too many simultaneous queries. Maximum: ${this.maxConcurrent + this.maxQueued}`);
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (this.#closed) throw serverException('STD_EXCEPTION', 'The server is shutting down');
    this.#running++;
  }

  #release(): void {
    this.#running--;
    const next = this.#waiting.shift();
    if (next) next();
    else if (this.#running === 0) for (const wake of this.#idle.splice(0)) wake();
  }
}

/**
 * The server runs one statement per request ("Multi-statements are not allowed"); chDB would run them all. The
 * engine's own parser decides, through `formatQuery`, so a `;` inside a string literal is no false alarm.
 */
async function assertSingleStatement(session: Session, sql: string): Promise<void> {
  try {
    await session.queryAsync(`SELECT formatQuery(${stringLiteral(sql)})`, { format: 'TabSeparated' });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!message.includes('Multi-statements are not allowed')) return; // any other parse error: the statement reports it
    const at = Number(/failed at position (\d+)/.exec(message)?.[1] ?? '0');
    throw serverException(
      'SYNTAX_ERROR',
      `Syntax error (Multi-statements are not allowed): failed at position ${at} (end of query): ${sql.slice(Math.max(0, at - 1), at + 63)}`,
    );
  }
}
