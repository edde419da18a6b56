/**
 * The import boundaries of .eslint.boundaries.js, checked on fixture imports: each case lints one line as if it
 * were in the named file, with exactly the rule blocks the project's lint uses.
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS config module, typed by its use below.
import boundaries from '../../.eslint.boundaries.js';

const eslint = new ESLint({
  cwd: new URL('../..', import.meta.url).pathname,
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } },
    ...(boundaries as object[]),
  ],
});

async function problems(file: string, line: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${line}\nexport {};\n`, { filePath: file });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

describe('import boundaries', () => {
  it.each([
    ['query/routes/x.ts', "import { KafkaWriter } from '../../ingest/kafka/writer.ts';", 'composed by ingest/cli only'],
    ['query/routes/x.ts', "import { buildHttpReceiver } from '../../ingest/receivers/http.ts';", 'composed by ingest/cli only'],
    ['query/routes/x.ts', "import { sql } from '../../ingest/storage/sql.ts';", 'by its name'],
    ['query/routes/x.ts', "import { main } from '../../ingest/cli/main.ts';", 'only ingest/cli composes roles'],
    ['agents/tail/x.ts', "import { KafkaTransport } from '../../ingest/kafka/transport.ts';", 'composed by ingest/cli only'],
    ['agents/x.ts', "import { buildQueryApp } from '../query/app.ts';", 'query role is composed'],
    ['ingest/storage/x.ts', "import { KafkaWriter } from '../kafka/writer.ts';", 'never imports a role'],
    ['ingest/core/x.ts', "import { buildQueryApp } from '../../query/app.ts';", 'query role is composed'],
    ['ingest/otlp/x.ts', "import { main } from '../cli/main.ts';", 'never imports a role'],
    ['ingest/kafka/x.ts', "import { buildQueryApp } from '../../query/app.ts';", 'never imports another role'],
    ['ingest/kafka/x.ts', "import { AppError } from '../core/errors.ts';", 'by its name'],
    ['ui/src/x.ts', "import { API_PREFIX } from '../../query/app.ts';", 'types only'],
    ['ui/src/x.ts', "import { AppError } from '#core/errors.ts';", 'types only'],
    ['ingest/demo/x.ts', "import { gatewayRole } from '../receivers/role.ts';", 'over OTLP only'],
    ['ingest/demo/x.ts', "import { buildQueryApp } from '../../query/app.ts';", 'over OTLP only'],
    ['ingest/demo/x.ts', "import { main } from '../cli/main.ts';", 'over OTLP only'],
    ['ingest/demo/x.ts', "import { createLogger } from '../core/log.ts';", 'by its name'],
  ])('%s: refuses %s', async (file, line, why) => {
    const found = await problems(file, line);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('no-restricted-imports');
    expect(found[0]).toContain(why);
  });

  it.each([
    ['query/routes/x.ts', "import { sql } from '#storage/sql.ts';"],
    ['query/routes/x.ts', "import { runQuery } from '../run.ts';"],
    ['agents/x.ts', "import { loadConfig } from '#config/load.ts';"],
    ['ingest/kafka/x.ts', "import { AppError } from '#core/errors.ts';"],
    ['ingest/kafka/x.ts', "import type { Transport } from '../pipeline/transport.ts';"],
    ['ingest/storage/x.ts', "import { rowsOf } from '#otlp/rows.ts';"],
    ['ingest/cli/x.ts', "import { buildQueryApp } from '../../query/app.ts';"],
    ['ingest/cli/x.ts', "import { DEMO } from '../demo/options.ts';"],
    ['ingest/demo/x.ts', "import type { Logger } from '#core/log.ts';"],
    ['ingest/demo/x.ts', "import { millisToHrTime } from '@opentelemetry/core';"],
    ['ui/src/x.ts', "import type { ServicesResponse } from '../../query/contract.ts';"],
    ['query/routes/x.test.ts', "import { KafkaWriter } from '../../ingest/kafka/writer.ts';"],
  ])('%s: allows %s', async (file, line) => {
    expect(await problems(file, line)).toEqual([]);
  });
});
