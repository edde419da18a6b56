/**
 * The insert primitive both writers use: rows already serialized as JSONEachRow lines, sent with `exec` and a
 * byte stream (not `insert`, which takes row objects and would stringify them again).
 */
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';

export async function insertJsonLines(
  client: ClickHouseClient,
  table: string,
  lines: readonly string[],
  settings?: ClickHouseSettings,
): Promise<void> {
  if (lines.length === 0) return;
  const result = await client.exec({
    query: `INSERT INTO ${table} FORMAT JSONEachRow`,
    values: Readable.from([Buffer.from(lines.join('\n'))], { objectMode: false }),
    ...(settings ? { clickhouse_settings: settings } : {}),
  });
  result.stream.resume();
  await finished(result.stream).catch(() => undefined);
}
