import { describe, expect, it } from 'vitest';
import { severityOfFields, severityOfText } from './severity.ts';

describe('severity from text', () => {
  it.each([
    ['ERROR something broke', 17, 'ERROR'],
    ['[warn] disk almost full', 13, 'WARN'],
    ['2024-01-02 03:04:05 INFO started', 9, 'INFO'],
    ['2024-01-02T03:04:05Z DEBUG cache', 5, 'DEBUG'],
    ['E0102 03:04:05.123456    1 controller.go:12] sync failed', 17, 'ERROR'],
    ['W0102 03:04:05.123456    1 x.go:1] slow', 13, 'WARN'],
    ['time=2024 level=error msg="db down"', 17, 'ERROR'],
    ['panic: runtime error: index out of range', 21, 'FATAL'],
    ['Traceback (most recent call last):', 17, 'ERROR'],
    ['Exception in thread "main" java.lang.NullPointerException', 17, 'ERROR'],
    ['FATAL: out of memory', 21, 'FATAL'],
  ])('%j', (text, number, name) => expect(severityOfText(text)).toEqual({ number, text: name }));

  it.each(['everything is fine', 'errors: 0 of 10 failed', 'the information desk', 'Listening on :8080'])('none in %j', (text) => {
    expect(severityOfText(text)).toBeUndefined();
  });
});

describe('severity from JSON fields', () => {
  it.each([
    [{ level: 'warn' }, 13],
    [{ severity: 'ERROR' }, 17],
    [{ level: 50 }, 17], // pino
    [{ level: 30 }, 9],
    [{ 'log.level': 'debug' }, 5],
    [{ log: { level: 'fatal' } }, 21],
    [{ lvl: 'crit' }, 18],
  ])('%j', (fields, number) => expect(severityOfFields(fields)?.number).toBe(number));

  it('none without a level field', () => expect(severityOfFields({ msg: 'error in message' })).toBeUndefined());
});
