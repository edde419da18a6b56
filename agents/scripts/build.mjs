// The agent as it ships: one precompiled JavaScript file, agents/dist/agent.mjs, which `crowsnest agent` runs
// without the TypeScript loader. Built at install like the UI (the root package's `prepare` and `prestart`), in the
// agent's container image, and again by `crowsnest agent` itself when its sources changed since (never stale code).
//
// Why: the agent is meant to sit on every node in a few tens of megabytes. Run through tsx's loader, the `crowsnest`
// command compiles TypeScript at start and keeps the loader, its caches and ~500 separate module records resident:
// idle RSS 109-116 MB, of which 64-71 MB anonymous. The bundle starts at 64 MB (26 MB anonymous), measured on an
// idle host-mode agent (node 20, x64).
//
// What is in it: `ingest/cli/main.ts` (flags, config, help, signals) with the agent command only, the shared layer
// it uses, agents/, and the pure-JavaScript packages (fastify, pino, prom-client, ajv, yaml, @grpc/grpc-js, …).
// Left out, and loaded from node_modules when needed:
// - native modules (snappy, lz4-napi, chdb) and pino-pretty (loaded by path through createRequire);
// - @kubernetes/client-node: 13 MB of generated code, needed only with --kubernetes (imported lazily there);
// - every other command's roles, the store and the demo: their dynamic imports from ingest/cli become a module
//   that throws, so the bundle cannot start `crowsnest start` by mistake (crowsnest.mjs sends only `agent` here).
//
// Freshness: the bundle's first line records when its build started and the repository files it was made of (the
// esbuild metafile's inputs outside node_modules, plus package-lock.json and this script). It is stale when one of
// them is missing or changed after that time. Checking costs one stat per input (~100 files, about a millisecond).
// Writes are atomic (a temporary file renamed into place), so agents starting together may each rebuild safely.
//
//   node agents/scripts/build.mjs            build if stale
//   node agents/scripts/build.mjs --force    build anyway
//   node agents/scripts/build.mjs --check    exit 1 and say why when stale
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = join(ROOT, 'agents', 'dist', 'agent.mjs');
const STAMP_PREFIX = '// crowsnest-agent-build ';
/** Inputs besides the bundled sources: the dependency versions and this script. */
const ALWAYS = ['package-lock.json', 'agents/scripts/build.mjs'];
/** Packages left out of the bundle (see the header). */
const EXTERNAL = ['chdb', 'snappy', 'lz4-napi', 'pino-pretty', '@kubernetes/client-node', '@hpcc-js/wasm-zstd'];

/** The stamp on the bundle's first line: `{ startedAt, inputs }`, or undefined when there is no readable bundle. */
function readStamp(path = BUNDLE) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(64 * 1024);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head.toString('utf8', 0, n);
    const eol = text.indexOf('\n');
    if (!text.startsWith(STAMP_PREFIX) || eol === -1) return undefined;
    return JSON.parse(text.slice(STAMP_PREFIX.length, eol));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Why the bundle is stale, or undefined when it is current. */
export function staleness() {
  const stamp = readStamp();
  if (stamp === undefined) return 'agents/dist/agent.mjs is missing';
  for (const input of [...ALWAYS, ...stamp.inputs]) {
    let mtime;
    try {
      mtime = statSync(join(ROOT, input)).mtimeMs;
    } catch {
      return `${input} is gone`;
    }
    if (mtime > stamp.startedAt) return `${input} changed since the last build`;
  }
  return undefined;
}

/** Dynamic imports of other commands' code from ingest/cli: a module that refuses, instead of their code. */
const agentOnly = {
  name: 'agent-only',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import' || !args.importer.startsWith(join(ROOT, 'ingest', 'cli'))) return undefined;
      if (resolve(args.resolveDir, args.path).startsWith(join(ROOT, 'agents'))) return undefined; // the agent role
      return { path: args.path, namespace: 'agent-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'agent-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the agent's build (agents/dist/agent.mjs runs \`crowsnest agent\` only)`)});`,
      loader: 'js',
    }));
  },
};

export async function build({ quiet = false } = {}) {
  const started = Date.now();
  // The clock of the stamp: a source saved while the build reads it is newer than this, so the next start rebuilds.
  const startedAt = started - 1;
  const { build: esbuild } = await import('esbuild');
  const result = await esbuild({
    stdin: {
      contents: "import { main } from './ingest/cli/main.ts';\nprocess.exitCode = await main(process.argv.slice(2), process.env);\n",
      resolveDir: ROOT,
      sourcefile: 'agents/scripts/agent-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    plugins: [agentOnly],
    // Whitespace and syntax only: V8 keeps a script's source for lazy compilation, so smaller text is less memory;
    // names stay, so stack traces stay readable (agent.mjs.map maps them to the TypeScript with --enable-source-maps).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    // CommonJS packages call require() for Node's built-ins; an ES module has none of its own.
    banner: { js: "import { createRequire as __crowsnestRequire } from 'node:module';\nconst require = __crowsnestRequire(import.meta.url);" },
    legalComments: 'none',
    metafile: true,
    write: false,
    outfile: BUNDLE,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes('node_modules/') && !p.startsWith('agent-only:') && !p.startsWith('<'))
    .map((p) => relative(ROOT, join(ROOT, p)))
    .filter((p) => p !== 'agents/scripts/agent-entry.ts')
    .sort();
  const stamp = `${STAMP_PREFIX}${JSON.stringify({ startedAt, inputs })}\n`;
  mkdirSync(dirname(BUNDLE), { recursive: true });
  let bytes = 0;
  // The map first, so a bundle is never newer than its map; each renamed into place whole.
  for (const file of [...result.outputFiles].sort((a) => (a.path.endsWith('.map') ? -1 : 1))) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    const contents = file.path.endsWith('.map') ? file.contents : Buffer.concat([Buffer.from(stamp), file.contents]);
    try {
      writeFileSync(tmp, contents);
      renameSync(tmp, file.path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // never written
      }
      throw err;
    }
    if (!file.path.endsWith('.map')) bytes = contents.length;
  }
  if (!quiet) {
    console.log(`agent built into agents/dist/agent.mjs in ${((Date.now() - started) / 1000).toFixed(1)} s (${Math.round(bytes / 1000)} KB, ${inputs.length} source files)`);
  }
  return { bytes, inputs: inputs.length };
}

/** Builds when stale (or `force`); true when it built. */
export async function ensureBuilt({ force = false, quiet = false } = {}) {
  const why = force ? 'forced' : staleness();
  if (why === undefined) return false;
  if (!quiet) console.log(`building the agent (${why}) …`);
  await build({ quiet });
  return true;
}

/**
 * For `crowsnest agent` (ingest/cli/crowsnest.mjs): the bundle's path when it is current, after rebuilding it when
 * stale (in a child process, so the agent never holds esbuild in memory); undefined when that build failed, and
 * the caller runs the sources through the loader instead (never the stale bundle). Says why on stderr.
 */
export function currentBundle() {
  const why = staleness();
  if (why === undefined) return BUNDLE;
  process.stderr.write(`crowsnest agent: rebuilding agents/dist/agent.mjs (${why})\n`);
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--quiet'], { stdio: ['ignore', 2, 2] });
  const still = r.status === 0 ? staleness() : 'the build failed';
  if (still === undefined) return BUNDLE;
  process.stderr.write(`crowsnest agent: running the TypeScript sources through the loader instead (${still})\n`);
  return undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--check')) {
    const why = staleness();
    if (why !== undefined) console.log(`the agent's build is stale: ${why}`);
    process.exitCode = why === undefined ? 0 : 1;
  } else {
    ensureBuilt({ force: process.argv.includes('--force'), quiet: process.argv.includes('--quiet') }).catch((err) => {
      console.error('agent build failed:', err?.message ?? err);
      process.exit(1);
    });
  }
}
