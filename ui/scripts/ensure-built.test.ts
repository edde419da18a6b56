/** The build's compressed copies (ensure-built.mjs compressAll): which files get them, and that they decode to the file. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressAll } from './ensure-built.mjs';

const JS = Array.from({ length: 500 }, (_, i) => `export const v${i} = ${i};`).join('\n');
let dir: string;
let result: { files: number; raw: number; br: number; gzip: number };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crowsnest-ui-compress-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html>${'<p>crow</p>'.repeat(200)}`);
  writeFileSync(join(dir, 'assets', 'index-abc.js'), JS);
  writeFileSync(join(dir, 'assets', 'tiny-abc.js'), 'export {};');
  writeFileSync(join(dir, 'assets', 'logo-abc.png'), Buffer.alloc(4096, 1));
  result = compressAll(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compressAll', () => {
  it.each(['index.html', 'assets/index-abc.js'])('writes %s.br and .gz that decode to the file', (file) => {
    const raw = readFileSync(join(dir, file));
    expect(brotliDecompressSync(readFileSync(join(dir, `${file}.br`)))).toEqual(raw);
    expect(gunzipSync(readFileSync(join(dir, `${file}.gz`)))).toEqual(raw);
  });

  it.each([
    ['assets/tiny-abc.js', 'too small to gain'],
    ['assets/logo-abc.png', 'not text'],
  ])('leaves %s alone (%s)', (file) => {
    expect(existsSync(join(dir, `${file}.br`))).toBe(false);
    expect(existsSync(join(dir, `${file}.gz`))).toBe(false);
  });

  it('reports what it compressed, brotli smaller than gzip smaller than the files', () => {
    expect(result.files).toBe(2);
    expect(result.raw).toBe(readFileSync(join(dir, 'index.html')).length + JS.length);
    expect(result.gzip).toBeLessThan(result.raw);
    expect(result.br).toBeLessThan(result.gzip);
  });
});
