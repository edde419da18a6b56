import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from './log.ts';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  // First in the file: the pretty tests below load pino-pretty.
  it('does not load pino-pretty for JSON lines', () => {
    createLogger({ level: 'info', destination: sink().stream, isTTY: false }).info('x');
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('pino-pretty'));
    expect(loaded).toEqual([]);
  });

  it('writes JSON lines when the destination is not a terminal', () => {
    const out = sink();
    const log = createLogger({ level: 'info', destination: out.stream, isTTY: false });
    log.child({ component: 'writer' }).info({ rows: 3 }, 'inserted');
    const line = JSON.parse(out.text().trim());
    expect(line).toMatchObject({ level: 30, service: 'crowsnest', component: 'writer', rows: 3, msg: 'inserted' });
  });

  it('writes each line with component once: a child of a child replaces it instead of repeating it', () => {
    const out = sink();
    const log = createLogger({ level: 'info', format: 'json', destination: out.stream });
    const inner = log.child({ component: 'writer', role: 'w' }).child({ component: 'kafkajs' }).child({ reqId: 'r1' });
    inner.info('hello');
    const text = out.text().trim();
    expect(text.match(/"component":/g)).toHaveLength(1);
    expect(JSON.parse(text)).toMatchObject({ component: 'kafkajs', role: 'w', reqId: 'r1', msg: 'hello' });
    // The parent keeps its own.
    log.child({ component: 'writer' }).info('parent');
    expect(JSON.parse(out.text().trim().split('\n')[1]!)).toMatchObject({ component: 'writer' });
  });

  it('writes human-readable lines on a terminal, component first, without pid or hostname', () => {
    const out = sink();
    const log = createLogger({ level: 'info', destination: out.stream, isTTY: true, format: 'auto' });
    log.child({ component: 'query' }).child({ component: 'http' }).warn({ port: 8080 }, 'listening');
    // Colours are on for a terminal; strip them to read the text.
    // eslint-disable-next-line no-control-regex
    const text = out.text().replace(/\u001b\[[0-9;]*m/g, '');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: http: listening\n/);
    expect(text).toContain('port: 8080');
    expect(text).not.toMatch(/pid|hostname|"level"|query/);
  });

  it('lets an explicit format override the terminal test', () => {
    const out = sink();
    createLogger({ level: 'info', format: 'json', destination: out.stream, isTTY: true }).info('x');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'x' });
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('auto', true)).toBe('pretty');
  });

  it('redacts authorization headers in logged objects', () => {
    const out = sink();
    createLogger({ level: 'info', format: 'json', destination: out.stream }).info({ headers: { authorization: 'Bearer s3cret' } }, 'req');
    expect(out.text()).not.toContain('s3cret');
  });
});
