/**
 * How an option is declared, and the typed configuration a set of options yields.
 *
 * A role declares its config section as a plain object of options (`as const satisfies ConfigSpec`); a process
 * loads the union of its roles' sections with `loadConfig` (load.ts). Every option has a flag (`--data-dir`), an
 * environment variable (`<PREFIX>_DATA_DIR`) and a config-file key (`dataDir`), except structured options
 * (`type: 'json'`: tail globs with per-glob settings, scrape targets, adapter rules), which only a file can hold.
 *
 * `ConfigOf<S>` is the frozen result: ints are numbers, bools booleans, lists readonly string arrays, strings with
 * `choices` the union of those choices, json values the type of their JSON schema; options without a default are
 * `… | undefined` when unset.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

interface Common {
  doc: string;
  /** Never printed or logged. */
  secret?: boolean;
}

export interface StringOption extends Common {
  type: 'string';
  default?: string;
  /** The only accepted values; the option's type narrows to their union. */
  choices?: readonly string[];
}

export interface IntOption extends Common {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
}

export interface BoolOption extends Common {
  type: 'bool';
  default?: boolean;
}

/** Strings: a comma-separated flag or variable, a repeated flag (`--tail a --tail b`), or a list in the file. */
export interface ListOption extends Common {
  type: 'list';
  default?: readonly string[];
}

/** A structured value, from the config file only, validated against `schema` (JSON Schema draft-07, via ajv). */
export interface JsonOption extends Common {
  type: 'json';
  schema: JSONSchema;
  default?: unknown;
}

export type OptionSpec = StringOption | IntOption | BoolOption | ListOption | JsonOption;
export type OptionType = OptionSpec['type'];
export type ConfigSpec = Readonly<Record<string, OptionSpec>>;

type ValueOf<O> = O extends { type: 'int' }
  ? number
  : O extends { type: 'bool' }
    ? boolean
    : O extends { type: 'list' }
      ? readonly string[]
      : O extends { type: 'string'; choices: readonly (infer C)[] }
        ? C
        : O extends { type: 'string' }
          ? string
          : O extends { type: 'json'; schema: infer S extends JSONSchema }
            ? FromSchema<S>
            : never;

/** The validated, frozen configuration of a spec. */
export type ConfigOf<S extends ConfigSpec> = {
  readonly [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** `dataDir` → `data-dir`. */
export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `dataDir` → `CROWSNEST_DATA_DIR` (with the default prefix). */
export function envName(name: string, prefix = 'CROWSNEST'): string {
  return `${prefix}_${flagName(name).replace(/-/g, '_').toUpperCase()}`;
}
