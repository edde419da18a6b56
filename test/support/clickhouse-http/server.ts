/**
 * TEST DOUBLE of the ClickHouse server's HTTP interface, for tests only.
 *
 * It implements the subset of the HTTP protocol that @clickhouse/client (Node, 1.23.x) uses: `/ping`, queries in
 * the URL or body, `param_*` query parameters, settings as URL parameters, inserts with rows in the body, gzip
 * both ways, `X-ClickHouse-*` headers and exceptions as `Code: n. DB::Exception: …`. The SQL engine behind it is
 * real ClickHouse: chDB 26.x over an on-disk data directory. What it does not do is listed in README.md.
 *
 * Why it exists: no ClickHouse server can be installed on these machines, yet the platform's server mode
 * (`--clickhouse-url`) and "ClickHouse is down for a while" must be tested for real, with writers and readers in
 * separate processes. chDB binds one data directory per process, hence a process of its own.
 *
 *   node --import tsx test/support/clickhouse-http/server.ts --port 18123 --data-dir /tmp/ch
 *
 * Listens on 127.0.0.1 only, prints `listening on http://127.0.0.1:<port>`, runs until SIGTERM or SIGINT, then
 * lets running requests finish and closes chDB. Authentication: every user and password is accepted (basic
 * auth, X-ClickHouse-User/Key or none): there is no access control to test here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChdbEngine } from './engine.ts';
import { createRequestHandler } from './handler.ts';

const USAGE = 'usage: server.ts --data-dir <dir> [--port <port, default 8123; 0 picks a free one>]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let args: { port: string; dataDir: string };
try {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8123' }, 'data-dir': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (values['data-dir'] === undefined) fail('--data-dir is required');
  args = { port: values.port, dataDir: values['data-dir'] };
} catch (err) {
  fail((err as Error).message);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${args.port}`);

const engine = await ChdbEngine.open(resolve(args.dataDir));
const handler = createRequestHandler({ engine, displayName: 'chdb-http-test-double' });
const server = createServer(handler);
// Above the client's idle socket TTL (2.5 s by default), like the server's keep_alive_timeout (30 s).
server.keepAliveTimeout = 30_000;

server.once('error', (err) => {
  process.stderr.write(`cannot listen on 127.0.0.1:${port}: ${err.message}\n`);
  engine
    .close(0)
    .catch(() => undefined)
    .finally(() => process.exit(1));
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`${signal}: stopping\n`);
  server.close();
  server.closeIdleConnections();
  await handler.drain(10_000);
  server.closeAllConnections();
  await engine.close();
  process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));
