/**
 * Starts the real platform in this test process (embedded chDB in a temp dir, every port picked by the OS,
 * loopback only) and tears it down. One per test file: chDB allows one data directory per process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Platform, loadCommandConfig, startPlatform } from '../../ingest/cli/platform.ts';
import { silentLogger } from '#core/log.ts';

export interface TestPlatform extends Platform {
  dataDir: string;
  otlpHttpUrl: string;
  grpcUrl: string;
  apiUrl: string;
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
