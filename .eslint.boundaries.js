// Import boundaries between the layers (README, "Where things live"), as flat-config blocks that
// .eslint.config.js includes and test/lint/boundaries.test.ts checks on fixture imports.
//
//   shared layer   ingest/{core,config,storage,otlp}, imported by name: #core/… #config/… #storage/… #otlp/…
//   roles          ingest/{receivers,pipeline,kafka} (gateway, writer) · query/ (query API, later the adapter
//                  and the inspector) · agents/ (the node agent): each imports the shared layer, never another role
//   composition    ingest/cli: the only code that imports roles and puts them into a process
//   demo           ingest/demo: simulated applications (the OpenTelemetry SDK), which reach the platform over
//                  OTLP only; the CLI loads them for `crowsnest demo` and `start --demo`
//   ui/            imports our code for its types only (the API contract); at run time it talks HTTP
//
// Tests may reach across (an end-to-end test starts a whole platform), so these rules skip them.

const TESTS = ['**/*.test.ts', 'test/**', '**/testing/**'];

const SHARED = 'ingest/{core,config,storage,otlp}';
const sharedByName = {
  group: [`**/${SHARED}/**`],
  message: 'import the shared layer by its name (#core/…, #config/…, #storage/…, #otlp/…), not by a relative path',
};
const ingestRoles = {
  group: ['**/ingest/{receivers,pipeline,kafka}/**'],
  message: 'the gateway and writer roles (receivers, pipeline, kafka) are composed by ingest/cli only',
};
const cli = { group: ['**/ingest/cli/**'], message: 'only ingest/cli composes roles; nothing imports it' };
const query = { group: ['**/query/**'], message: 'the query role is composed by ingest/cli only' };
const agents = { group: ['**/agents/**'], message: 'the agent role is composed by ingest/cli only' };
const ui = { group: ['**/ui/**'], message: 'the UI is a separate bundle; nothing on the server imports it' };

/** Relative imports inside ingest/ that leave a shared folder for a role folder. */
const sharedToRole = {
  group: ['../{receivers,pipeline,kafka,cli}/**'],
  message: 'the shared layer never imports a role or the CLI',
};

/** `a/{b,c}/**` → `a/b/**`, `a/c/**`: the patterns are gitignore-style, which has no braces. */
const expand = (glob) => {
  const m = /\{([^}]*)\}/.exec(glob);
  return m ? m[1].split(',').flatMap((alt) => expand(glob.replace(m[0], alt))) : [glob];
};
const rule = (...patterns) => ['error', { patterns: patterns.map((p) => ({ ...p, group: p.group.flatMap(expand) })) }];

export default [
  {
    files: [`${SHARED}/**/*.ts`],
    ignores: TESTS,
    rules: { '@typescript-eslint/no-restricted-imports': rule(sharedToRole, cli, query, agents, ui) },
  },
  {
    files: ['ingest/{receivers,pipeline,kafka}/**/*.ts'],
    ignores: TESTS,
    rules: {
      '@typescript-eslint/no-restricted-imports': rule(
        { group: ['../cli/**', '../../{query,agents,ui}/**', ...cli.group, ...query.group, ...agents.group], message: 'a role never imports another role or the CLI' },
        { group: ['../{core,config,storage,otlp}/**'], message: sharedByName.message },
      ),
    },
  },
  {
    files: ['ingest/demo/**/*.ts'],
    ignores: TESTS,
    rules: {
      '@typescript-eslint/no-restricted-imports': rule(
        {
          group: ['../{receivers,pipeline,kafka,cli}/**', '../../{query,agents,ui}/**', ...ingestRoles.group, ...cli.group, ...query.group, ...agents.group, ...ui.group],
          message: 'the demo is an application of its own: it reaches the platform over OTLP only',
        },
        { group: ['../{core,config,storage,otlp}/**'], message: sharedByName.message },
      ),
    },
  },
  {
    files: ['query/**/*.ts'],
    ignores: TESTS,
    rules: { '@typescript-eslint/no-restricted-imports': rule(sharedByName, ingestRoles, cli, agents, ui) },
  },
  {
    files: ['agents/**/*.ts'],
    ignores: TESTS,
    rules: { '@typescript-eslint/no-restricted-imports': rule(sharedByName, ingestRoles, cli, query, ui) },
  },
  {
    files: ['ui/**/*.{ts,tsx}'],
    ignores: TESTS,
    rules: {
      '@typescript-eslint/no-restricted-imports': rule({
        group: ['\\#*', // gitignore syntax: an unescaped # starts a comment
           '**/ingest/**', '**/query/**', '**/agents/**'],
        allowTypeImports: true,
        message: 'the UI imports server code for types only (import type …); at run time it calls the HTTP API',
      }),
    },
  },
];
