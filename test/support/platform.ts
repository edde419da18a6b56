/**
 * Starts the real platform in this test process (embedded chDB in a temp dir, every port picked by the OS,
 * loopback only) and tears it down. One per test file: chDB allows one data directory per process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Platform, loadCommandConfig, startPlatform } from '../../ingest/cli/platform.ts';
import { silentLogger } from '#core/log.ts';
import { eventually } from './eventually.ts';
import { expect } from 'vitest';

export interface TestPlatform extends Platform {
  dataDir: string;
  otlpHttpUrl: string;
  grpcUrl: string;
  apiUrl: string;
  /**
   * Waits until everything acknowledged so far is in ClickHouse. Requests are answered once they are in the
   * write-ahead log, and its writer inserts them within `--batch-max-age-ms` (50 ms here): a test that reads right
   * after sending waits for this. Through Kafka it returns at once (those tests wait for the group's lag).
   */
  inserted(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestPlatform(flags: string[] = []): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-e2e-'));
  const { config } = loadCommandConfig(
    'start',
    ['--data-dir', dataDir, '--host', '127.0.0.1', '--otlp-http-port', '0', '--otlp-grpc-port', '0', '--http-port', '0', '--batch-max-age-ms', '50', ...flags],
    {},
  );
  const platform = await startPlatform('start', config, silentLogger());
  return {
    ...platform,
    dataDir,
    otlpHttpUrl: `http://127.0.0.1:${platform.ports.otlpHttp}`,
    grpcUrl: `http://127.0.0.1:${platform.ports.otlpGrpc}`,
    apiUrl: `http://127.0.0.1:${platform.ports.http}`,
    async inserted(timeoutMs = 30_000) {
      const url = `http://127.0.0.1:${platform.ports.http}/api/v1/pipeline`;
      await eventually(
        async () => {
          // With --auth-token on, the status needs the token like any API call (a 401 would read as "nothing pending").
          const token = config.authToken?.[0];
          const { status, body } = await getJson<{ transport: string; pendingRecords?: number }>(url, token === undefined ? {} : { authorization: `Bearer ${token}` });
          if (status !== 200) throw new Error(`/api/v1/pipeline answered ${status}`);
          if (body.transport === 'wal' && body.pendingRecords !== 0) throw new Error(`${body.pendingRecords} requests not yet inserted`);
        },
        timeoutMs,
        20,
      );
    },
    async stop() {
      await platform.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function getJson<T = any>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** GET `<apiUrl><path>` with the query `params`; fails the test unless it answers 200; its JSON body. */
export async function apiOk<T = any>(apiUrl: string, path: string, params: Record<string, string> = {}): Promise<T> {
  const u = new URL(`${apiUrl}${path}`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  const { status, body } = await getJson<T>(u.toString());
  expect(status, JSON.stringify(body)).toBe(200);
  return body;
}
