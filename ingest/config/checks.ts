/**
 * Checks across options, run by `loadConfig` once every value is parsed and before anything acts on the config
 * (migrations, connections). A check applies to a process whose spec has every option it `needs`; it returns the
 * problems it found, each a sentence naming the flags to fix.
 */
import { readFileSync } from 'node:fs';
import type { ConfigSpec } from './spec.ts';

interface Check {
  needs: readonly string[];
  problems(c: Readonly<Record<string, unknown>>): string[];
}

const set = (v: unknown) => v !== undefined && v !== '';

function readable(path: string): string | undefined {
  try {
    readFileSync(path);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const CHECKS: readonly Check[] = [
  {
    needs: ['kafkaSaslMechanism', 'kafkaSaslUsername', 'kafkaSaslPassword'],
    problems: (c) => {
      const mechanism = set(c['kafkaSaslMechanism']);
      const user = set(c['kafkaSaslUsername']);
      const password = set(c['kafkaSaslPassword']);
      if (mechanism && (!user || !password)) return ['--kafka-sasl-mechanism needs --kafka-sasl-username and --kafka-sasl-password'];
      if (!mechanism && (user || password)) return ['--kafka-sasl-username/--kafka-sasl-password are set but --kafka-sasl-mechanism is not (plain, scram-sha-256 or scram-sha-512)'];
      return [];
    },
  },
  {
    needs: ['kafkaTls', 'kafkaTlsCaFile'],
    problems: (c) => {
      const ca = c['kafkaTlsCaFile'];
      if (typeof ca !== 'string') return [];
      if (c['kafkaTls'] !== true) return ['--kafka-tls-ca-file is set but --kafka-tls is off'];
      const err = readable(ca);
      return err === undefined ? [] : [`--kafka-tls-ca-file: ${err}`];
    },
  },
  {
    needs: ['kafkaBrokers'],
    problems: (c) =>
      ((c['kafkaBrokers'] as readonly string[] | undefined) ?? [])
        .filter((b) => {
          const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s/]+):(\d{1,5})$/.exec(b);
          return m === null || Number(m[2]) < 1 || Number(m[2]) > 65535;
        })
        .map((b) => `--kafka-brokers: "${b}" is not host:port`),
  },
  {
    needs: ['clickhouseUrl'],
    problems: (c) => {
      const url = c['clickhouseUrl'];
      if (typeof url !== 'string') return [];
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        // The URL may carry a password: never echo it.
        return ['--clickhouse-url is not a URL (http://user:pass@host:8123)'];
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return [`--clickhouse-url must be http:// or https://, got ${parsed.protocol}//`];
      return [];
    },
  },
  {
    needs: ['clickhouseCluster', 'clickhouseUrl'],
    problems: (c) => (set(c['clickhouseCluster']) && !set(c['clickhouseUrl']) ? ['--clickhouse-cluster needs --clickhouse-url: embedded chDB is a single node'] : []),
  },
];

export function crossFieldProblems(config: Readonly<Record<string, unknown>>, spec: ConfigSpec): string[] {
  return CHECKS.filter((check) => check.needs.every((n) => n in spec)).flatMap((check) => check.problems(config));
}
