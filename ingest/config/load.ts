/**
 * Builds the frozen `Config` from flags, environment and an optional config file (precedence in that order,
 * then defaults). Every value is parsed and range-checked here; an unknown flag, unknown file key or bad value
 * is a `ConfigError` naming the source, so a typo fails the boot instead of being silently ignored.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { OPTIONS, envName, flagName, type Config, type OptionName, type OptionSpec } from './options.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Raw = { value: unknown; source: string };

const NAMES = Object.keys(OPTIONS) as OptionName[];
const BY_FLAG = new Map(NAMES.map((n) => [flagName(n), n]));

/** Splits argv into option flags and positional arguments. Accepts `--name value`, `--name=value`, `--flag`/`--no-flag` for booleans. */
export function parseFlags(argv: readonly string[]): { flags: Map<OptionName, Raw>; positional: string[]; help: boolean } {
  const flags = new Map<OptionName, Raw>();
  const positional: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let name = BY_FLAG.get(key);
    if (name === undefined && key.startsWith('no-')) {
      const positive = BY_FLAG.get(key.slice(3));
      if (positive !== undefined && (OPTIONS[positive] as OptionSpec).type === 'bool' && value === undefined) {
        name = positive;
        key = key.slice(3);
        value = 'false';
      }
    }
    if (name === undefined) throw new ConfigError(`unknown flag --${key} (see --help)`);
    if (value === undefined) {
      if ((OPTIONS[name] as OptionSpec).type === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new ConfigError(`flag --${key} needs a value`);
        value = next;
        i++;
      }
    }
    flags.set(name, { value, source: `flag --${key}` });
  }
  return { flags, positional, help };
}

function coerce(name: OptionName, raw: Raw): unknown {
  const spec: OptionSpec = OPTIONS[name];
  const { value, source } = raw;
  const bad = (why: string) => new ConfigError(`${source}: ${why}`);
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string' && typeof value !== 'number') throw bad('must be a string');
      const s = String(value);
      if (spec.choices && !spec.choices.includes(s)) throw bad(`must be one of ${spec.choices.join(', ')}, got "${s}"`);
      return s;
    }
    case 'int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw bad(`must be an integer, got ${JSON.stringify(value)}`);
      if (spec.min !== undefined && n < spec.min) throw bad(`must be ≥ ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw bad(`must be ≤ ${spec.max}, got ${n}`);
      return n;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw bad(`must be true or false, got ${JSON.stringify(value)}`);
    }
    case 'list': {
      const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : null;
      if (items === null || items.some((v) => typeof v !== 'string')) throw bad('must be a comma-separated list of strings');
      return Object.freeze(items.map((v: string) => v.trim()).filter((v) => v !== ''));
    }
  }
}

function readFile(path: string): Map<OptionName, Raw> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML is a superset of JSON, so both file kinds parse here.
  } catch (e) {
    throw new ConfigError(`config file ${path}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${path}: must be a mapping of option names to values`);
  const out = new Map<OptionName, Raw>();
  for (const [key, value] of Object.entries(doc)) {
    if (!(key in OPTIONS) || key === 'config') throw new ConfigError(`config file ${path}: unknown key "${key}"`);
    out.set(key as OptionName, { value, source: `config file ${path}: ${key}` });
  }
  return out;
}

/** Loads the configuration. `env` and `argv` are parameters so tests never touch the real process state. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): { config: Config; positional: string[]; help: boolean } {
  const { flags, positional, help } = parseFlags(argv);
  const fromEnv = new Map<OptionName, Raw>();
  for (const name of NAMES) {
    const v = env[envName(name)];
    if (v !== undefined && v !== '') fromEnv.set(name, { value: v, source: `environment ${envName(name)}` });
  }
  const configPath = flags.get('config') ?? fromEnv.get('config');
  const fromFile = configPath ? readFile(String(configPath.value)) : new Map<OptionName, Raw>();
  const result: Record<string, unknown> = {};
  for (const name of NAMES) {
    const raw = flags.get(name) ?? fromEnv.get(name) ?? fromFile.get(name);
    result[name] = raw === undefined ? (OPTIONS[name] as OptionSpec).default : coerce(name, raw);
  }
  return { config: Object.freeze(result) as Config, positional, help };
}

/** A `--help` text generated from the option table, so it never drifts from what is accepted. */
export function optionsHelp(): string {
  return NAMES.map((name) => {
    const spec: OptionSpec = OPTIONS[name];
    const def = spec.default === undefined ? '' : ` (default: ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)})`;
    return `  --${flagName(name)} <${spec.type}>\n      ${spec.doc}${def}\n      env ${envName(name)}`;
  }).join('\n');
}

/** The config with secrets masked, for the startup log line. */
export function redacted(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of NAMES) {
    const v = config[name];
    out[name] = (OPTIONS[name] as OptionSpec).secret && v !== undefined ? '<redacted>' : v;
  }
  return out;
}
