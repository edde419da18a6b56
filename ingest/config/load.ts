/**
 * `loadConfig(spec, …)`: the frozen, typed configuration of one process from flags, environment and an optional
 * config file (precedence in that order, then defaults), for any role's spec (spec.ts).
 *
 * - Every value is parsed and range-checked here; a bad value is a `ConfigError` naming its source.
 * - A flag must be an option of this process. A `CROWSNEST_*` variable or a file key must be an option of the
 *   platform: one of another role is ignored (a ConfigMap or Secret shared by every role holds them) and
 *   reported in `ignored`, anything else is an error, so a typo in a Kubernetes Secret fails the boot instead of
 *   silently falling back to a default such as embedded chDB.
 * - Structured options (`type: 'json'`) come from the file only and are validated against their JSON schema.
 * - Cross-field checks (checks.ts: SASL, TLS, URLs) run last, before the caller does anything with the result
 *   (migrations, connections).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { crossFieldProblems } from './checks.ts';
import { type ConfigOf, type ConfigSpec, type OptionSpec, envName, flagName } from './spec.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Raw = { value: unknown; source: string };

export interface LoadOptions {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Prefix of the environment variables. @default 'CROWSNEST' */
  prefix?: string;
  /**
   * Every option of the platform. Variables and file keys of options outside `spec` but inside this are another
   * role's (ignored); outside it they are errors. @default spec
   */
  platform?: ConfigSpec;
}

export interface Loaded<S extends ConfigSpec> {
  config: ConfigOf<S>;
  positional: string[];
  help: boolean;
  /** Variables and file keys of other roles' options, which this process does not use. */
  ignored: string[];
}

/** The option whose flag is `--${flag}`, or undefined. */
function byFlag(spec: ConfigSpec, flag: string): string | undefined {
  return Object.keys(spec).find((name) => flagName(name) === flag);
}

/** Splits argv into option flags and positional arguments: `--name value`, `--name=value`, `--flag`/`--no-flag` for booleans; a list option may repeat. */
function parseFlags(spec: ConfigSpec, argv: readonly string[]): { flags: Map<string, Raw>; positional: string[]; help: boolean } {
  const flags = new Map<string, Raw>();
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
    let name = byFlag(spec, key);
    if (name === undefined && key.startsWith('no-')) {
      const positive = byFlag(spec, key.slice(3));
      if (positive !== undefined && spec[positive]!.type === 'bool' && value === undefined) {
        name = positive;
        key = key.slice(3);
        value = 'false';
      }
    }
    if (name === undefined) throw new ConfigError(`unknown flag --${key} for this command (see --help)`);
    const option = spec[name]!;
    if (option.type === 'json') throw new ConfigError(`--${key} is a structured option: set ${name} in the config file (--config)`);
    if (value === undefined) {
      if (option.type === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new ConfigError(`flag --${key} needs a value`);
        value = next;
        i++;
      }
    }
    const earlier = flags.get(name);
    if (option.type === 'list' && earlier !== undefined) {
      // A repeated list flag adds to the list (`--tail a --tail b`).
      flags.set(name, { value: `${String(earlier.value)},${value}`, source: earlier.source });
    } else {
      flags.set(name, { value, source: `flag --${key}` });
    }
  }
  return { flags, positional, help };
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new WeakMap<object, ValidateFunction>();

function coerce(option: OptionSpec, raw: Raw): unknown {
  const { value, source } = raw;
  const bad = (why: string) => new ConfigError(`${source}: ${why}`);
  switch (option.type) {
    case 'string': {
      if (typeof value !== 'string' && typeof value !== 'number') throw bad('must be a string');
      const s = String(value);
      if (option.choices && !option.choices.includes(s)) throw bad(`must be one of ${option.choices.join(', ')}, got "${s}"`);
      return s;
    }
    case 'int': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw bad(`must be an integer, got ${JSON.stringify(value)}`);
      if (option.min !== undefined && n < option.min) throw bad(`must be ≥ ${option.min}, got ${n}`);
      if (option.max !== undefined && n > option.max) throw bad(`must be ≤ ${option.max}, got ${n}`);
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
    case 'json': {
      let validate = validators.get(option);
      if (validate === undefined) {
        validate = ajv.compile(option.schema as object);
        validators.set(option, validate);
      }
      if (!validate(value)) {
        const e = validate.errors?.[0];
        throw bad(`${e?.instancePath || 'value'} ${e?.message ?? 'is invalid'}`);
      }
      return deepFreeze(structuredClone(value));
    }
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function readFile(path: string): Record<string, unknown> {
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
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config file ${path}: must be a mapping of option names to values`);
  return doc as Record<string, unknown>;
}

/** Loads the configuration of `spec`. `argv` and `env` are parameters so tests never touch the real process state. */
export function loadConfig<const S extends ConfigSpec>(spec: S, opts: LoadOptions): Loaded<S> {
  const prefix = opts.prefix ?? 'CROWSNEST';
  const platform = opts.platform ?? spec;
  const ignored: string[] = [];
  const { flags, positional, help } = parseFlags(spec, opts.argv);

  const fromEnv = new Map<string, Raw>();
  const envOf = new Map(Object.keys(platform).map((n) => [envName(n, prefix), n]));
  for (const [variable, value] of Object.entries(opts.env)) {
    if (!variable.startsWith(`${prefix}_`) || value === undefined) continue;
    const name = envOf.get(variable);
    if (name === undefined) throw new ConfigError(`unknown environment variable ${variable}: no option is named so (see --help)`);
    if (!(name in spec)) ignored.push(variable);
    else if (spec[name]!.type === 'json') throw new ConfigError(`environment ${variable}: ${name} is a structured option; set it in the config file`);
    else if (value !== '') fromEnv.set(name, { value, source: `environment ${variable}` });
  }

  const configPath = 'config' in spec ? (flags.get('config') ?? fromEnv.get('config')) : undefined;
  const fromFile = new Map<string, Raw>();
  if (configPath !== undefined) {
    const path = String(configPath.value);
    for (const [key, value] of Object.entries(readFile(path))) {
      if (!(key in platform) || key === 'config') throw new ConfigError(`config file ${path}: unknown key "${key}"`);
      if (!(key in spec)) ignored.push(`${path}: ${key}`);
      else fromFile.set(key, { value, source: `config file ${path}: ${key}` });
    }
  }

  const result: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec)) {
    const raw = flags.get(name) ?? fromEnv.get(name) ?? fromFile.get(name);
    result[name] = raw === undefined ? option.default : coerce(option, raw);
  }
  const problems = crossFieldProblems(result, spec);
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return { config: Object.freeze(result) as ConfigOf<S>, positional, help, ignored };
}

/** A `--help` text generated from the spec, so it never drifts from what is accepted. */
export function optionsHelp(spec: ConfigSpec, prefix = 'CROWSNEST'): string {
  return Object.entries(spec)
    .map(([name, option]) => {
      const def = option.default === undefined ? '' : ` (default: ${Array.isArray(option.default) ? option.default.join(',') : JSON.stringify(option.default)})`;
      const choices = option.type === 'string' && option.choices ? ` One of: ${option.choices.join(', ')}.` : '';
      if (option.type === 'json') return `  ${name} (config file only)\n      ${option.doc}${def}`;
      return `  --${flagName(name)} <${option.type}>\n      ${option.doc}${choices}${def}\n      env ${envName(name, prefix)}`;
    })
    .join('\n');
}

/** The config with secrets masked, for the startup log line. */
export function redacted(spec: ConfigSpec, config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec)) {
    const v = config[name];
    out[name] = option.secret && v !== undefined ? '<redacted>' : v;
  }
  return out;
}
