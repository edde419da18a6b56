import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, loadConfig as load, optionsHelp, redacted } from './load.ts';
import { ALL_OPTIONS, GATEWAY, KAFKA, PROCESS } from './options.ts';
import { type ConfigSpec, envName, flagName } from './spec.ts';

/** The all-in-one process's options, as `crowsnest start` loads them. */
const loadConfig = (argv: string[], env: Record<string, string>) => load(ALL_OPTIONS, { argv, env });

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
    expect(redacted(ALL_OPTIONS, config)).toMatchObject({ authToken: '<redacted>', clickhouseUrl: '<redacted>' });
    expect(JSON.stringify(redacted(ALL_OPTIONS, config))).not.toContain('secret');
  });

  it('documents every option with its flag and environment variable', () => {
    const help = optionsHelp(ALL_OPTIONS);
    expect(help).toContain('--clickhouse-cluster');
    expect(help).toContain('CROWSNEST_AUTH_TOKEN');
  });

  it('refuses an unknown CROWSNEST_ variable, so a typo in a Secret does not fall back to embedded chDB', () => {
    expect(() => loadConfig([], { CROWSNEST_CLICKHOUSE_ULR: 'http://ch:8123' })).toThrow(/unknown environment variable CROWSNEST_CLICKHOUSE_ULR/);
    // Other prefixes are not ours to judge.
    expect(loadConfig([], { OTEL_SERVICE_NAME: 'x', HOME: '/root' }).config.dataDir).toBe('./data');
  });

  it("ignores, and reports, another role's variables and file keys, but refuses its flags", () => {
    const gateway = { ...PROCESS, ...KAFKA, ...GATEWAY } as const satisfies ConfigSpec;
    const cfg = file('kafkaBrokers: [k:9092]\ninsertConcurrency: 4\n');
    const r = load(gateway, { argv: ['--config', cfg], env: { CROWSNEST_CLICKHOUSE_URL: 'http://ch:8123' }, platform: ALL_OPTIONS });
    expect(r.config.kafkaBrokers).toEqual(['k:9092']);
    expect(r.ignored).toEqual(['CROWSNEST_CLICKHOUSE_URL', `${cfg}: insertConcurrency`]);
    expect('clickhouseUrl' in r.config).toBe(false);
    expect(() => load(gateway, { argv: ['--insert-concurrency', '4'], env: {}, platform: ALL_OPTIONS })).toThrow(/unknown flag --insert-concurrency for this command/);
    expect(() => load(gateway, { argv: [], env: { CROWSNEST_INSERT_CONCURENCY: '4' }, platform: ALL_OPTIONS })).toThrow(/unknown environment variable/);
  });

  it('adds repeated list flags together', () => {
    expect(loadConfig(['--kafka-brokers', 'a:1', '--kafka-brokers', 'b:2,c:3'], {}).config.kafkaBrokers).toEqual(['a:1', 'b:2', 'c:3']);
  });

  it('types choices as their union and optional options as possibly undefined', () => {
    const { config } = loadConfig([], {});
    expectTypeOf(config.kafkaCompression).toEqualTypeOf<'gzip' | 'snappy' | 'lz4' | 'zstd' | 'none'>();
    expectTypeOf(config.logFormat).toEqualTypeOf<'auto' | 'json' | 'pretty'>();
    expectTypeOf(config.kafkaSaslMechanism).toEqualTypeOf<'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined>();
    expectTypeOf(config.httpPort).toEqualTypeOf<number>();
    expectTypeOf(config.kafkaBrokers).toEqualTypeOf<readonly string[] | undefined>();
  });

  it('reads structured options from the file only, validated by their schema and typed by it', () => {
    const spec = {
      config: PROCESS.config,
      tail: {
        type: 'json',
        doc: 'Files to tail.',
        default: [],
        schema: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['glob'], properties: { glob: { type: 'string' }, multiline: { type: 'string' } } },
        },
      },
    } as const satisfies ConfigSpec;
    const r = load(spec, { argv: ['--config', file('tail:\n  - glob: /var/log/pods/*/*/*.log\n    multiline: "^\\\\S"\n')], env: {} });
    expect(r.config.tail).toEqual([{ glob: '/var/log/pods/*/*/*.log', multiline: '^\\S' }]);
    expect(Object.isFrozen(r.config.tail[0])).toBe(true);
    expectTypeOf(r.config.tail).toEqualTypeOf<{ glob: string; multiline?: string }[]>();
    expect(load(spec, { argv: [], env: {} }).config.tail).toEqual([]);
    expect(() => load(spec, { argv: ['--config', file('tail: [{ glb: x }]')], env: {} })).toThrow(/tail: \/0 must have required property 'glob'/);
    expect(() => load(spec, { argv: ['--tail', 'x'], env: {} })).toThrow(/structured option: set tail in the config file/);
    expect(() => load(spec, { argv: [], env: { CROWSNEST_TAIL: 'x' } })).toThrow(/structured option/);
  });

  it.each([
    [['--kafka-sasl-mechanism', 'plain', '--kafka-sasl-username', 'u'], /--kafka-sasl-mechanism needs --kafka-sasl-username and --kafka-sasl-password/],
    [['--kafka-sasl-username', 'u', '--kafka-sasl-password', 'p'], /--kafka-sasl-mechanism is not/],
    [['--kafka-tls-ca-file', '/etc/hosts'], /--kafka-tls-ca-file is set but --kafka-tls is off/],
    [['--kafka-tls', '--kafka-tls-ca-file', '/does/not/exist.pem'], /--kafka-tls-ca-file: ENOENT/],
    [['--kafka-brokers', 'kafka-0:9092,kafka-1'], /"kafka-1" is not host:port/],
    [['--clickhouse-url', 'ch:8123'], /--clickhouse-url must be http:\/\/ or https:\/\//],
    [['--clickhouse-url', 'http://u:hunter2@[bad'], /--clickhouse-url is not a URL/],
    [['--clickhouse-cluster', 'main'], /--clickhouse-cluster needs --clickhouse-url/],
  ])('checks fields together: %j', (argv, message) => {
    expect(() => loadConfig(argv, {})).toThrow(message);
    try {
      loadConfig(argv, {});
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('accepts consistent security settings', () => {
    const { config } = loadConfig(['--kafka-sasl-mechanism', 'scram-sha-512', '--kafka-sasl-username', 'u', '--kafka-sasl-password', 'p', '--kafka-brokers', '[::1]:9093,k:9092'], {});
    expect(config.kafkaSaslMechanism).toBe('scram-sha-512');
  });
});
