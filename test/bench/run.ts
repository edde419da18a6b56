/**
 * `npm run bench`: every benchmark in one run, on this machine, each figure beside a reference measured the same
 * way in the same run. Writes test/bench/results/latest.json ({name, value, unit, reference, ratio, note}
 * entries plus the machine) and latest.md, a readable summary.
 */
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from './result.ts';

const suites: [string, () => Promise<{ run: () => Promise<BenchResult[]> }>][] = [
  ['ingest', () => import('./ingest.bench.ts')],
  ['kafka', () => import('./kafka.bench.ts')],
  ['gateway', () => import('./gateway.bench.ts')],
  ['latency', () => import('./latency.bench.ts')],
  ['query', () => import('./query.bench.ts')],
  ['ui', () => import('./ui.bench.ts')],
  ['scrape', () => import('./scrape.bench.ts')],
  ['agent', () => import('./agent.bench.ts')],
];

const only = process.argv.slice(2);
const results: BenchResult[] = [];
const started = new Date();
for (const [name, load] of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  const t0 = performance.now();
  results.push(...(await (await load()).run()));
  process.stderr.write(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
writeFileSync(join(dir, 'latest.json'), JSON.stringify({ startedAt: started.toISOString(), machine, results }, null, 2) + '\n');
const fmt = (v: number | null) => (v === null ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(3));
const md = [
  `# Benchmark results`,
  ``,
  `Run ${started.toISOString()} on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}.`,
  ``,
  `| name | value | unit | reference | ratio | note |`,
  `| --- | --- | --- | --- | --- | --- |`,
  ...results.map((r) => `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.reference)} | ${fmt(r.ratio)} | ${r.note ?? ''} |`),
  ``,
].join('\n');
writeFileSync(join(dir, 'latest.md'), md);
process.stdout.write(md);
