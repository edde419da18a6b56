import { describe, expect, it } from 'vitest';
import { Assembler, type Line, type Rec, textOf } from './join.ts';
import { parseLine, type Stream } from './parse.ts';

const T = '2024-01-02T03:04:05.000000001Z';
let off = 0;
function line(stream: Stream, tag: 'P' | 'F', text: string): Line {
  const raw = `${T} ${stream} ${tag} ${text}`;
  const start = { seq: 0, off };
  off += raw.length + 1;
  return { entry: parseLine(raw), start, end: { seq: 0, off }, truncated: false };
}

function run(asm: Assembler, lines: Line[]): Rec[] {
  const out: Rec[] = [];
  for (const l of lines) {
    asm.push(l, 0);
    for (let r = asm.take(); r; r = asm.take()) out.push(r);
  }
  return out;
}

const texts = (recs: Rec[]) => recs.map((r) => `${r.stream}:${textOf(r)}`);

describe('partial lines', () => {
  it('joins P pieces with their F, per stream, while the other stream goes on', () => {
    const asm = new Assembler({ maxRecordBytes: 1 << 20, maxPending: 100 });
    const recs = run(asm, [line('stdout', 'P', 'a1 '), line('stderr', 'F', 'e1'), line('stdout', 'P', 'a2 '), line('stdout', 'F', 'a3')]);
    // e1 was written after a's first piece: it waits behind it, so records leave in the order they began.
    expect(texts(recs)).toEqual(['stdout:a1 a2 a3', 'stderr:e1']);
    expect(recs[0]!.lines).toBe(3);
  });

  it('cuts a record over the limit and marks it', () => {
    const asm = new Assembler({ maxRecordBytes: 5, maxPending: 100 });
    const [rec] = run(asm, [line('stdout', 'P', 'abcd'), line('stdout', 'F', 'efgh')]);
    expect(textOf(rec!)).toBe('abcde');
    expect(rec!.truncated).toBe(true);
  });
});

describe('multiline', () => {
  const rule = { start: /^\S/, maxLines: 100, maxBytes: 1 << 20 };

  it('joins a stack trace on stderr while stdout lines interleave, never mixing the streams', () => {
    const asm = new Assembler({ multiline: rule, maxRecordBytes: 1 << 20, maxPending: 100 });
    const recs = run(asm, [
      line('stderr', 'F', 'Exception: boom'),
      line('stdout', 'F', 'request 1'),
      line('stderr', 'F', '    at a()'),
      line('stdout', 'F', 'request 2'),
      line('stderr', 'F', '    at b()'),
      line('stderr', 'F', 'next error'),
      line('stdout', 'F', 'request 3'),
    ]);
    asm.flushIdle(0, 0);
    for (let r = asm.take(); r; r = asm.take()) recs.push(r);
    expect(texts(recs)).toEqual(['stderr:Exception: boom\n    at a()\n    at b()', 'stdout:request 1', 'stdout:request 2', 'stderr:next error', 'stdout:request 3']);
  });

  it('closes a record at maxLines', () => {
    const asm = new Assembler({ multiline: { ...rule, maxLines: 2 }, maxRecordBytes: 1 << 20, maxPending: 100 });
    const recs = run(asm, [line('stdout', 'F', 'head'), line('stdout', 'F', ' 1'), line('stdout', 'F', ' 2')]);
    expect(texts(recs)).toEqual(['stdout:head\n 1']);
  });

  it('closes a record idle past the timeout and reports it, and a replayed break closes it at the same line', () => {
    const a = new Assembler({ multiline: rule, maxRecordBytes: 1 << 20, maxPending: 100 });
    const forced: Rec[] = [];
    a.onForced = (r) => forced.push(r);
    off = 0;
    const lines = [line('stdout', 'F', 'head'), line('stdout', 'F', ' 1'), line('stdout', 'F', ' late continuation')];
    a.push(lines[0]!, 0);
    a.push(lines[1]!, 10);
    a.flushIdle(5000, 1000);
    expect(forced.map((r) => r.end)).toEqual([lines[1]!.end]);
    a.push(lines[2]!, 6000);
    a.flushIdle(9000, 1000);
    const live: string[] = [];
    for (let r = a.take(); r; r = a.take()) live.push(textOf(r));
    expect(live).toEqual(['head\n 1', ' late continuation']);

    // After a restart all three lines are there at once; the recorded break splits them the same way.
    const b = new Assembler({ multiline: rule, maxRecordBytes: 1 << 20, maxPending: 100 });
    b.addBreak('stdout', forced[0]!.end);
    const replay = run(b, lines);
    b.flushIdle(0, 0);
    for (let r = b.take(); r; r = b.take()) replay.push(r);
    expect(replay.map(textOf)).toEqual(live);
  });

  it('bounds what waits behind an open record', () => {
    const asm = new Assembler({ multiline: rule, maxRecordBytes: 1 << 20, maxPending: 3 });
    const forced: Rec[] = [];
    asm.onForced = (r) => forced.push(r);
    const recs = run(asm, [line('stderr', 'F', 'trace'), line('stdout', 'F', 'a'), line('stdout', 'F', 'b'), line('stdout', 'F', 'c')]);
    expect(forced).toHaveLength(1);
    expect(texts(recs)[0]).toBe('stderr:trace');
  });
});
