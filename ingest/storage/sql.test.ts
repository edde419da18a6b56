import { describe, expect, it } from 'vitest';
import { ident, join, param, sql, stringLiteral, unsafeRaw } from './sql.ts';

describe('sql tag', () => {
  it('binds every value as a numbered parameter, never as text', () => {
    const evil = "x' OR 1=1 --";
    const q = sql`SELECT * FROM t WHERE a = ${param('String', evil)} AND b > ${param('UInt64', '5')}`.render();
    expect(q.text).toBe('SELECT * FROM t WHERE a = {p0:String} AND b > {p1:UInt64}');
    expect(q.params).toEqual({ p0: evil, p1: '5' });
    expect(q.text).not.toContain(evil);
  });

  it('composes fragments and renumbers their parameters', () => {
    const conds = [sql`a = ${param('String', 'x')}`, sql`b = ${param('String', 'y')}`];
    const q = sql`SELECT 1 WHERE ${join(conds, ' AND ')} LIMIT ${param('UInt32', 10)}`.render();
    expect(q.text).toBe('SELECT 1 WHERE a = {p0:String} AND b = {p1:String} LIMIT {p2:UInt32}');
    expect(q.params).toEqual({ p0: 'x', p1: 'y', p2: 10 });
  });

  it('quotes identifiers and refuses ones that are not plain names', () => {
    expect(sql`SELECT * FROM ${ident('otel')}.${unsafeRaw('otel_logs')}`.render().text).toBe('SELECT * FROM `otel`.otel_logs');
    expect(() => ident('otel; DROP TABLE x')).toThrow(/invalid identifier/);
  });

  it('writes a string literal with its backslashes and quotes escaped', () => {
    expect(stringLiteral('/data/insert-scratch/a.native').render()).toEqual({ text: "'/data/insert-scratch/a.native'", params: {} });
    expect(stringLiteral("it's C:\\x").render().text).toBe("'it\\'s C:\\\\x'");
  });
});
