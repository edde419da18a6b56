import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AppError, errorHandler, requestIds, statusOf, toAppError } from './errors.ts';
import { silentLogger } from './log.ts';

describe('AppError', () => {
  it('takes status, gRPC status, retryability and exposure from its code', () => {
    const bad = new AppError('BAD_REQUEST', 'querystring/limit must be <= 1000');
    expect([bad.status, bad.grpcStatus, bad.retryable, bad.expose, bad.bug]).toEqual([400, 3, false, true, false]);
    const down = new AppError('UNAVAILABLE', 'ClickHouse: connect ECONNREFUSED 10.0.0.7:8123');
    expect([down.status, down.grpcStatus, down.retryable, down.expose, down.bug]).toEqual([503, 14, true, false, false]);
    const bug = new AppError('INTERNAL', 'x is undefined');
    expect([bug.status, bug.grpcStatus, bug.bug]).toEqual([500, 13, true]);
    expect(statusOf('PAYLOAD_TOO_LARGE')).toBe(413);
  });

  it('accepts the older form with retry-after seconds as third argument', () => {
    const e = new AppError('OVERLOADED', 'narrow the time range', 5);
    expect(e.retryAfterSeconds).toBe(5);
    expect(e.publicMessage('abc-1')).toBe('narrow the time range (request id abc-1)');
  });

  it('never shows an unexposed 5xx message, and names the request id in every 5xx', () => {
    expect(new AppError('UNAVAILABLE', 'ECONNREFUSED 10.0.0.7').publicMessage('r1')).toBe('service unavailable; retry later (request id r1)');
    expect(new AppError('INTERNAL', 'boom').publicMessage('r2')).toBe('internal error (request id r2)');
    expect(new AppError('BAD_REQUEST', 'bad limit').publicMessage('r3')).toBe('bad limit');
  });

  it('wraps fastify client errors by status and anything else as a bug', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(toAppError(tooLarge)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' });
    const thrown = toAppError(new TypeError('oops'));
    expect(thrown).toMatchObject({ code: 'INTERNAL', bug: true, status: 500 });
    expect(thrown.cause).toBeInstanceOf(TypeError);
  });
});

describe('requestIds', () => {
  it('gives ids unique within a process and apart between generators', () => {
    const a = requestIds();
    const b = requestIds();
    const ids = [a(), a(), b()];
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]!.split('-')[0]).not.toBe(ids[2]!.split('-')[0]);
  });
});

describe('errorHandler', () => {
  async function app() {
    const lines: { level: number; reqId?: string; msg: string }[] = [];
    const log = silentLogger();
    const capture = {
      ...log,
      error: (o: { reqId: string }, msg: string) => lines.push({ level: 50, reqId: o.reqId, msg }),
      warn: (o: { reqId: string }, msg: string) => lines.push({ level: 40, reqId: o.reqId, msg }),
      debug: () => undefined,
    } as unknown as typeof log;
    const a = Fastify();
    a.setErrorHandler(errorHandler(capture));
    a.get('/bad', () => {
      throw new AppError('BAD_REQUEST', 'querystring/x is wrong');
    });
    a.get('/bug', () => {
      throw new Error('SELECT … FROM secret_table failed');
    });
    a.get('/busy', () => {
      throw new AppError('OVERLOADED', 'narrow the time range', 5);
    });
    await a.ready();
    return { a, lines };
  }

  it('sends 4xx messages as they are, unlogged', async () => {
    const { a, lines } = await app();
    const r = await a.inject('/bad');
    expect([r.statusCode, r.json()]).toEqual([400, { error: { code: 'BAD_REQUEST', message: 'querystring/x is wrong' } }]);
    expect(lines).toEqual([]);
  });

  it('answers an unexpected error 500 with a generic message and the request id, and logs it with that id', async () => {
    const { a, lines } = await app();
    const r = await a.inject('/bug');
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: { code: 'INTERNAL', message: `internal error (request id ${String(r.headers['x-request-id'])})` } });
    expect(r.body).not.toContain('secret_table');
    expect(lines).toEqual([{ level: 50, reqId: r.headers['x-request-id'], msg: 'SELECT … FROM secret_table failed' }]);
  });

  it('sends Retry-After and a message written for the client', async () => {
    const { a } = await app();
    const r = await a.inject('/busy');
    expect([r.statusCode, r.headers['retry-after']]).toEqual([503, '5']);
    expect(r.json<{ error: { message: string } }>().error.message).toMatch(/^narrow the time range \(request id /);
  });
});
