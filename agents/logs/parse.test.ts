import { describe, expect, it } from 'vitest';
import { parseCri, parseDocker, parseLine, parseRfc3339Nano } from './parse.ts';

const ns = (iso: string, frac: bigint) => BigInt(Date.parse(iso)) * 1_000_000n + frac;

describe('RFC 3339 times', () => {
  it.each([
    ['2024-01-02T03:04:05.123456789Z', ns('2024-01-02T03:04:05Z', 123_456_789n)],
    ['2024-01-02T03:04:05.1Z', ns('2024-01-02T03:04:05Z', 100_000_000n)],
    ['2024-01-02T03:04:05Z', ns('2024-01-02T03:04:05Z', 0n)],
    ['2024-01-02T05:04:05.000000001+02:00', ns('2024-01-02T03:04:05Z', 1n)],
    ['2024-01-02T03:04:05.1234567891Z', ns('2024-01-02T03:04:05Z', 123_456_789n)], // beyond ns: cut
  ])('%s', (text, want) => expect(parseRfc3339Nano(text)).toBe(want));

  it.each(['2024-01-02 03:04:05Z', '2024-01-02T03:04:05.Z', '2024-01-02T03:04:05+0200', 'yesterday'])('refuses %s', (text) => {
    expect(parseRfc3339Nano(text)).toBeUndefined();
  });
});

describe('CRI lines', () => {
  const T = '2024-01-02T03:04:05.000000007Z';
  it.each([
    [`${T} stdout F hello world`, { stream: 'stdout', partial: false, text: 'hello world' }],
    [`${T} stderr P part one `, { stream: 'stderr', partial: true, text: 'part one ' }],
    [`${T} stdout F `, { stream: 'stdout', partial: false, text: '' }],
    [`${T} stdout F`, { stream: 'stdout', partial: false, text: '' }],
    [`${T} stdout F:x:y tagged`, { stream: 'stdout', partial: false, text: 'tagged' }],
    [`${T} stdout F  two leading spaces`, { stream: 'stdout', partial: false, text: ' two leading spaces' }],
    [`${T} stdout F tab\there`, { stream: 'stdout', partial: false, text: 'tab\there' }],
  ])('%j', (line, want) => {
    expect(parseCri(line)).toMatchObject({ ...want, format: 'cri', timeNs: ns('2024-01-02T03:04:05Z', 7n) });
  });

  it.each([`${T} stdin F x`, `${T} stdout X x`, `not-a-time stdout F x`, `${T}`])('is not CRI: %j', (line) => {
    expect(parseCri(line)).toBeUndefined();
    expect(parseLine(line).format).toBe('plain');
  });
});

describe('Docker json-file lines', () => {
  it('reads a full line, a partial piece and CRLF', () => {
    expect(parseDocker('{"log":"hello\\n","stream":"stderr","time":"2024-01-02T03:04:05.5Z"}')).toMatchObject({ stream: 'stderr', partial: false, text: 'hello', format: 'docker' });
    expect(parseDocker('{"log":"16k piece","stream":"stdout","time":"2024-01-02T03:04:05.5Z"}')).toMatchObject({ partial: true, text: '16k piece' });
    expect(parseDocker('{"log":"win\\r\\n","stream":"stdout","time":"2024-01-02T03:04:05.5Z"}')).toMatchObject({ partial: false, text: 'win' });
  });

  it('takes an application JSON line that is not Docker for a plain line', () => {
    const line = '{"level":"info","msg":"x"}';
    expect(parseDocker(line)).toBeUndefined();
    expect(parseLine(line)).toMatchObject({ format: 'plain', text: line, timeNs: 0n, stream: 'stdout' });
  });
});
