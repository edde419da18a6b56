/**
 * Every role starts through the one plugin interface (#core/role.ts) in a process of its own (#core/host.ts),
 * and that process serves /healthz, /readyz and /metrics for it; the host's own behaviour (the boot handler
 * while roles start, readiness reasons, reverse close, a failed start) is checked with roles written here.
 * One chDB data directory for the whole file: chDB binds one per test process.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#config/load.ts';
import { PROCESS } from '#config/options.ts';
import { type RunningProcess, runProcess } from '#core/host.ts';
import { silentLogger } from '#core/log.ts';
import { type Role, defineRole } from '#core/role.ts';
import { pipelineMonitorRole } from '../kafka/monitor-role.ts';
import { writerRole } from '../pipeline/role.ts';
import { gatewayRole } from '../receivers/role.ts';
import { queryRole } from '../../query/role.ts';
import { loadCommandConfig } from './platform.ts';
import { openStore } from './store.ts';
import { freePort } from '../../test/support/kafka.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-roles-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const ARGS = ['--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--otlp-http-port', '0', '--otlp-grpc-port', '0'];

async function run(roles: Role[], args: string[] = []): Promise<RunningProcess> {
  const { config } = loadCommandConfig('start', [...ARGS, ...args], {});
  return runProcess({ name: 'test', roles, config, log: silentLogger(), openStore: (log) => openStore(config as never, log) });
}

async function get(p: RunningProcess, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${p.ports.http}${path}`);
  return { status: res.status, text: await res.text() };
}

async function expectServesHealth(p: RunningProcess): Promise<void> {
  expect(await get(p, '/healthz')).toEqual({ status: 200, text: '{"status":"ok"}' });
  expect(await get(p, '/readyz')).toEqual({ status: 200, text: '{"status":"ready"}' });
  const metrics = await get(p, '/metrics');
  expect(metrics.status).toBe(200);
  expect(metrics.text).toContain('crowsnest_process_cpu_seconds_total');
}

describe('each role through the plugin interface', () => {
  it.each([
    ['writer (write-ahead log)', [writerRole]],
    ['writer and gateway', [writerRole, gatewayRole]],
    ['pipeline monitor', [pipelineMonitorRole]],
    ['query', [queryRole]],
    ['pipeline monitor and query', [pipelineMonitorRole, queryRole]],
  ] as [string, Role[]][])('%s: serves health and metrics, and closes', async (_name, roles) => {
    const p = await run(roles);
    try {
      await expectServesHealth(p);
      if (roles.includes(gatewayRole)) {
        const res = await fetch(`http://127.0.0.1:${p.ports['otlpHttp']}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}' });
        expect(res.status).toBe(200);
      }
      if (roles.includes(queryRole)) {
        expect((await get(p, '/api/v1/services')).status).toBe(200);
        expect((await get(p, '/api/v1/pipeline')).status).toBe(roles.includes(pipelineMonitorRole) ? 200 : 404);
      } else {
        expect((await get(p, '/api/v1/services')).status).toBe(404);
      }
    } finally {
      await p.close();
    }
    await expect(fetch(`http://127.0.0.1:${p.ports.http}/healthz`)).rejects.toThrow();
  });

  it('refuses a gateway without Kafka or a writer in the same process', async () => {
    await expect(run([gatewayRole])).rejects.toThrow(/the gateway role on its own needs Kafka/);
  });
});

describe('the host', () => {
  it('answers /healthz while roles start, /readyz with the reason, and the API with 503 + Retry-After', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let startedSignal!: () => void;
    const started = new Promise<void>((r) => (startedSignal = r));
    const slow = defineRole({
      name: 'slow',
      summary: 'starts when the test says so',
      options: {},
      async start() {
        startedSignal();
        await gate;
        return { close: async () => {} };
      },
    });
    const port = await freePort();
    const { config } = loadConfig(PROCESS, { argv: ['--host', '127.0.0.1', '--http-port', String(port)], env: {} });
    const pending = runProcess({ name: 'test', roles: [slow], config, log: silentLogger() });
    await started;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.json()).toEqual({ status: 'not ready', reason: 'the process is starting' });
    const api = await fetch(`http://127.0.0.1:${port}/api/v1/services`);
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    release();
    const p = await pending;
    expect(p.ports.http).toBe(port);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    await p.close();
  });

  it("reports a role's reason on /readyz, and closes roles in reverse order", async () => {
    const closed: string[] = [];
    let healthy = true;
    const role = (name: string) =>
      defineRole({
        name,
        summary: name,
        options: {},
        start: () =>
          Promise.resolve({
            notReady: () => (name === 'b' && !healthy ? 'consumer crashed; restarting in 2 s' : undefined),
            close: () => Promise.resolve(void closed.push(name)),
          }),
      });
    const { config } = loadConfig(PROCESS, { argv: ['--host', '127.0.0.1', '--http-port', '0'], env: {} });
    const p = await runProcess({ name: 'test', roles: [role('a'), role('b'), role('c')], config, log: silentLogger() });
    expect((await get(p, '/readyz')).status).toBe(200);
    healthy = false;
    expect(await get(p, '/readyz')).toEqual({ status: 503, text: '{"status":"not ready","reason":"b: consumer crashed; restarting in 2 s"}' });
    await p.close();
    expect(closed).toEqual(['c', 'b', 'a']);
  });

  it('closes the roles that started when a later one fails, and frees the port', async () => {
    const closed: string[] = [];
    const ok = defineRole({ name: 'ok', summary: '', options: {}, start: () => Promise.resolve({ close: () => Promise.resolve(void closed.push('ok')) }) });
    const broken = defineRole({
      name: 'broken',
      summary: '',
      options: {},
      start: () => Promise.reject(new Error('cannot reach the brokers')),
    });
    const { config } = loadConfig(PROCESS, { argv: ['--host', '127.0.0.1', '--http-port', '0'], env: {} });
    await expect(runProcess({ name: 'test', roles: [ok, broken], config, log: silentLogger() })).rejects.toThrow('cannot reach the brokers');
    expect(closed).toEqual(['ok']);
  });
});

describe('the crowsnest command', () => {
  const CLI = join(import.meta.dirname, 'crowsnest.mjs');
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 }, (error, out, err) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out, err }),
      );
    });

  it("lists a command's own options under --help", async () => {
    const gateway = await cli(['gateway', '--help']);
    expect(gateway.code).toBe(0);
    expect(gateway.out).toContain('--otlp-http-port');
    expect(gateway.out).toContain('--kafka-brokers');
    expect(gateway.out).not.toContain('--clickhouse-url');
    const query = await cli(['query', '--help']);
    expect(query.out).toContain('--clickhouse-url');
    expect(query.out).not.toContain('--otlp-http-port');
  });

  it('stops at a typo in a CROWSNEST_ variable, before touching any storage', async () => {
    const r = await cli(['start', '--data-dir', join(dataDir, 'never')], { CROWSNEST_CLICKHOUSE_ULR: 'http://ch:8123' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown environment variable CROWSNEST_CLICKHOUSE_ULR');
    expect(existsSync(join(dataDir, 'never'))).toBe(false);
  });
});
