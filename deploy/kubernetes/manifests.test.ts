/**
 * What the API server cannot know (manifests.int.test.ts has a real one accept every object): they parse, every role
 * runs the same image with its own command, probes hit the endpoints the roles serve, gateways and writers
 * reach the Kafka brokers the reference Kafka advertises, and secrets come from Secrets, not the ConfigMap.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../ingest/cli/commands.ts';
import { loadCommandConfig } from '../../ingest/cli/platform.ts';

const dir = import.meta.dirname;
const docs = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS(), errors: d.errors })));
const byKind = (kind: string) => docs.filter((d) => d.doc?.kind === kind).map((d) => d.doc);
/** By name: the agent ships a ConfigMap of its own (agent.yaml). */
const configMap = (name: string) => byKind('ConfigMap').find((c) => c.metadata.name === name);

describe('deploy/kubernetes', () => {
  it('parses, and kustomization lists every file', () => {
    for (const d of docs) expect(d.errors, d.file).toEqual([]);
    const kust = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kust.resources].sort()).toEqual(files.sort());
  });

  it('runs gateway, writer and query as Deployments of one image with their role as command', () => {
    const deployments = byKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['crowsnest-gateway', 'crowsnest-query', 'crowsnest-writer']);
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      expect(c.image).toMatch(/^crowsnest\/crowsnest:/);
      expect(c.args[0]).toBe(d.metadata.name.replace('crowsnest-', ''));
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.resources.requests.cpu).toBeDefined();
      expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
    }
    const pdbs = byKind('PodDisruptionBudget').map((p) => p.metadata.name);
    expect(pdbs).toEqual(expect.arrayContaining(['crowsnest-gateway', 'crowsnest-writer', 'crowsnest-query', 'kafka']));
  });

  it('points the platform at the brokers the Kafka StatefulSet advertises', () => {
    const config = parse(configMap('crowsnest').data['crowsnest.yaml']);
    const kafka = byKind('StatefulSet').find((s) => s.metadata.name === 'kafka');
    const headless = byKind('Service').find((s) => s.metadata.name === kafka.spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    const brokers = Array.from({ length: kafka.spec.replicas }, (_, i) => `kafka-${i}.${headless.metadata.name}:9092`);
    expect(config.kafkaBrokers).toEqual(brokers);
    const env = Object.fromEntries(kafka.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://$(POD_NAME).kafka-headless:9092');
    expect(Number(env.KAFKA_MIN_INSYNC_REPLICAS)).toBeLessThan(Number(env.KAFKA_DEFAULT_REPLICATION_FACTOR));
    expect(config.kafkaReplicationFactor).toBe(Number(env.KAFKA_DEFAULT_REPLICATION_FACTOR));
  });

  it('takes secrets from Secrets, never from the ConfigMap', () => {
    const config = parse(configMap('crowsnest').data['crowsnest.yaml']);
    expect(Object.keys(config)).not.toContain('clickhouseUrl');
    expect(Object.keys(config)).not.toContain('authToken');
    for (const name of ['crowsnest-writer', 'crowsnest-query']) {
      const d = byKind('Deployment').find((x) => x.metadata.name === name);
      const env = d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'CROWSNEST_CLICKHOUSE_URL');
      expect(env.valueFrom.secretKeyRef.name).toBe('crowsnest-clickhouse');
    }
  });

  it('exposes OTLP on the standard ports from the gateway Service', () => {
    const svc = byKind('Service').find((s) => s.metadata.name === 'crowsnest-gateway');
    expect(svc.spec.ports.map((p: any) => p.port).sort()).toEqual([4317, 4318]);
  });

  it('ships a ConfigMap and Secret variables that each role loads through the real config loader', () => {
    const dirs = mkdtempSync(join(tmpdir(), 'crowsnest-configmap-'));
    try {
      const path = join(dirs, 'crowsnest.yaml');
      writeFileSync(path, configMap('crowsnest').data['crowsnest.yaml']);
      for (const d of byKind('Deployment')) {
        const c = d.spec.template.spec.containers[0];
        const [command, ...args] = c.args as string[];
        expect(Object.keys(COMMANDS)).toContain(command);
        // Secrets arrive as environment variables; any value will do to check the names are options.
        const env = Object.fromEntries((c.env ?? []).filter((e: any) => e.name.startsWith('CROWSNEST_')).map((e: any) => [e.name, e.name === 'CROWSNEST_CLICKHOUSE_URL' ? 'http://u:p@ch:8123' : 'x']));
        const { config, positional } = loadCommandConfig(command!, args.map((a) => (a === '/etc/crowsnest/crowsnest.yaml' ? path : a)), env);
        expect(positional).toEqual([]);
        expect(config['host']).toBe('0.0.0.0');
        expect(config['kafkaBrokers']).toEqual(['kafka-0.kafka-headless:9092', 'kafka-1.kafka-headless:9092', 'kafka-2.kafka-headless:9092']);
        if (command !== 'gateway') expect(config['clickhouseUrl']).toBe('http://u:p@ch:8123');
      }
    } finally {
      rmSync(dirs, { recursive: true, force: true });
    }
  });

  it('ships the agent as a DaemonSet whose ConfigMap and variables the agent command loads', () => {
    const ds = byKind('DaemonSet').find((d) => d.metadata.name === 'crowsnest-agent');
    const c = ds.spec.template.spec.containers[0];
    expect(c.args[0]).toBe('agent');
    expect(ds.spec.template.spec.tolerations).toEqual([{ operator: 'Exists' }]);
    const dirs = mkdtempSync(join(tmpdir(), 'crowsnest-agent-configmap-'));
    try {
      const path = join(dirs, 'agent.yaml');
      writeFileSync(path, configMap('crowsnest-agent').data['agent.yaml']);
      const env = Object.fromEntries((c.env ?? []).filter((e: any) => e.name.startsWith('CROWSNEST_')).map((e: any) => [e.name, 'x']));
      const { config } = loadCommandConfig('agent', c.args.slice(1).map((a: string) => (a === '/etc/crowsnest/agent.yaml' ? path : a)), env);
      expect(config['otlpEndpoint']).toBe('http://crowsnest-gateway:4318');
      const state = c.volumeMounts.find((m: any) => m.name === 'state');
      expect(config['dataDir']).toBe(state.mountPath);
    } finally {
      rmSync(dirs, { recursive: true, force: true });
    }
  });
});
