import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, optionsHelp, redacted } from './load.ts';
import { envName, flagName } from './options.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function file(text: string, ext = 'yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'crowsnest-cfg-'));
  dirs.push(dir);
  const path = join(dir, `c.${ext}`);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const { config } = loadConfig([], {});
    expect(config).toMatchObject({ dataDir: './data', otlpHttpPort: 4318, otlpGrpcPort: 4317, httpPort: 8080, clickhouseUrl: undefined, authToken: undefined });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names flags and environment variables after the option', () => {
    expect(flagName('clickhouseCluster')).toBe('clickhouse-cluster');
    expect(envName('dataDir')).toBe('CROWSNEST_DATA_DIR');
    expect(envName('otlpHttpPort')).toBe('CROWSNEST_OTLP_HTTP_PORT');
  });

  it('takes flag over environment over file over default', () => {
    const cfg = file('dataDir: /from/file\nhttpPort: 9000\notlpGrpcPort: 5000\n');
    const { config } = loadConfig(['--config', cfg, '--data-dir=/from/flag'], { CROWSNEST_DATA_DIR: '/from/env', CROWSNEST_HTTP_PORT: '9100' });
    expect(config.dataDir).toBe('/from/flag');
    expect(config.httpPort).toBe(9100);
    expect(config.otlpGrpcPort).toBe(5000);
    expect(config.otlpHttpPort).toBe(4318);
  });

  it('reads JSON config files and list options', () => {
    const { config } = loadConfig(['--config', file('{"authToken": ["a", "b"]}', 'json')], {});
    expect(config.authToken).toEqual(['a', 'b']);
    expect(loadConfig(['--auth-token', 'x, y'], {}).config.authToken).toEqual(['x', 'y']);
  });

  it('keeps positional arguments and --help apart from options', () => {
    const r = loadConfig(['start', '--http-port', '1', '--help'], {});
    expect(r.positional).toEqual(['start']);
    expect(r.help).toBe(true);
  });

  it.each([
    [['--nope'], /unknown flag --nope/],
    [['--http-port', 'abc'], /flag --http-port: must be an integer/],
    [['--http-port', '70000'], /must be ≤ 65535/],
    [['--log-level', 'loud'], /must be one of/],
    [['--data-dir'], /needs a value/],
  ])('rejects %j clearly', (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
  });

  it('rejects bad environment values and unknown file keys, naming the source', () => {
    expect(() => loadConfig([], { CROWSNEST_OTLP_GRPC_PORT: '-1' })).toThrow(/environment CROWSNEST_OTLP_GRPC_PORT: must be ≥ 0/);
    expect(() => loadConfig(['--config', file('dataDirr: x')], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--config', file('dataDirr: x')], {})).toThrow(/unknown key "dataDirr"/);
    expect(() => loadConfig(['--config', '/does/not/exist.yaml'], {})).toThrow(/config file/);
  });

  it('masks secrets in what it logs', () => {
    const { config } = loadConfig(['--auth-token', 'secret', '--clickhouse-url', 'http://u:p@h:8123'], {});
    expect(redacted(config)).toMatchObject({ authToken: '<redacted>', clickhouseUrl: '<redacted>' });
    expect(JSON.stringify(redacted(config))).not.toContain('secret');
  });

  it('documents every option with its flag and environment variable', () => {
    const help = optionsHelp();
    expect(help).toContain('--clickhouse-cluster');
    expect(help).toContain('CROWSNEST_AUTH_TOKEN');
  });
});
