/**
 * The precompiled agent (build.mjs) as `crowsnest agent` uses it, in a copy of the repository's sources (node_modules
 * linked) so the checkout's own agents/dist, which other tests run, is never touched: the command builds the bundle
 * when it is missing, runs it when it is current, rebuilds it when a source changed (the change shows), and runs
 * the sources through the loader when the build cannot be written. `crowsnest agent --help` is the probe: it goes
 * through the whole launch and prints the agent's option docs, which come from agents/options.ts.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
let root: string;

function agentHelp(): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(root, 'ingest/cli/crowsnest.mjs'), 'agent', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const bundle = () => join(root, 'agents/dist/agent.mjs');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'agent-build-'));
  for (const p of ['package.json', 'package-lock.json', '.tsconfig.json', 'ingest', 'query', 'agents']) {
    cpSync(join(REPO, p), join(root, p), { recursive: true, filter: (src) => !src.includes('/agents/dist') });
  }
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('crowsnest agent runs the precompiled agent, never a stale one', { timeout: 120_000 }, () => {
  it('builds the bundle when it is missing, then runs it', () => {
    const r = agentHelp();
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('rebuilding agents/dist/agent.mjs (agents/dist/agent.mjs is missing)');
    expect(r.stdout).toContain('--tail');
    expect(readFileSync(bundle(), 'utf8').startsWith('// crowsnest-agent-build {')).toBe(true);
  });

  it('runs the current bundle as it is (no rebuild, no loader)', () => {
    // Mark the built file: only a run of the bundle itself can print the marker.
    const text = readFileSync(bundle(), 'utf8');
    expect(text).toContain('The node agent: tails container logs');
    writeFileSync(bundle(), text.replace('The node agent: tails container logs', 'MARKED BUNDLE: tails container logs'));
    // Written after the build started, the bundle is still newer than every input.
    const r = agentHelp();
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('MARKED BUNDLE');
  });

  it('rebuilds when a source changed, and runs the new code', () => {
    const options = join(root, 'agents/options.ts');
    const src = readFileSync(options, 'utf8');
    expect(src).toContain('Bytes of log records read and not yet acknowledged');
    writeFileSync(options, src.replace('Bytes of log records read and not yet acknowledged', 'CHANGED DOC of held bytes'));
    const r = agentHelp();
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('rebuilding agents/dist/agent.mjs (agents/options.ts changed since the last build)');
    expect(r.stdout).toContain('CHANGED DOC of held bytes');
    expect(r.stdout).not.toContain('MARKED BUNDLE');
  });

  it('runs the sources through the loader when the stale bundle cannot be rebuilt', () => {
    const options = join(root, 'agents/options.ts');
    writeFileSync(options, readFileSync(options, 'utf8').replace('CHANGED DOC of held bytes', 'CHANGED AGAIN'));
    // agents/dist as a file: the build cannot write its output.
    rmSync(join(root, 'agents/dist'), { recursive: true });
    writeFileSync(join(root, 'agents/dist'), 'not a directory');
    const r = agentHelp();
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('running the TypeScript sources through the loader instead');
    expect(r.stdout).toContain('CHANGED AGAIN');
  });
});
