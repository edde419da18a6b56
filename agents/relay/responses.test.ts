/** What an application gets from the relay for each way the gateway settled its request. */
import { describe, expect, it } from 'vitest';
import { parsePartialSuccess } from '../forward/http-sink.ts';
import { GRPC, partialSuccessJson, partialSuccessProtobuf, refusalAnswer } from './responses.ts';

describe('refusalAnswer', () => {
  const cases: { gateway: number; http: number; grpc: number; retryable: boolean; agentFault: boolean; says: RegExp }[] = [
    { gateway: 400, http: 400, grpc: GRPC.INVALID_ARGUMENT, retryable: false, agentFault: false, says: /refused the request \(400\): bad field/ },
    { gateway: 413, http: 413, grpc: GRPC.RESOURCE_EXHAUSTED, retryable: false, agentFault: false, says: /413/ },
    { gateway: 401, http: 503, grpc: GRPC.UNAVAILABLE, retryable: true, agentFault: true, says: /agent's credentials \(401: bad field\).*--otlp-auth-token/ },
    { gateway: 403, http: 503, grpc: GRPC.UNAVAILABLE, retryable: true, agentFault: true, says: /agent's credentials \(403/ },
    { gateway: 404, http: 503, grpc: GRPC.UNAVAILABLE, retryable: true, agentFault: true, says: /--otlp-endpoint/ },
    { gateway: 415, http: 503, grpc: GRPC.UNAVAILABLE, retryable: true, agentFault: true, says: /415/ },
    { gateway: 500, http: 502, grpc: GRPC.UNAVAILABLE, retryable: true, agentFault: false, says: /refused the request \(500\).*Retry later/ },
    { gateway: 501, http: 502, grpc: GRPC.UNAVAILABLE, retryable: true, agentFault: false, says: /501/ },
  ];
  // OTLP/HTTP: 429, 502, 503, 504 are the retryable statuses.
  const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
  for (const c of cases) {
    it(`gateway ${c.gateway} → app ${c.http} / gRPC ${c.grpc}${c.retryable ? ', retryable' : ''}`, () => {
      const a = refusalAnswer(c.gateway, 'bad field', 7);
      expect(a).toMatchObject({ http: c.http, grpc: c.grpc, agentFault: c.agentFault });
      expect(RETRYABLE_HTTP.has(a.http)).toBe(c.retryable);
      expect(a.retryAfterSeconds).toBe(c.retryable ? 7 : undefined);
      expect(a.message).toMatch(c.says);
    });
  }
});

describe('partial success bodies', () => {
  it('protobuf: what the forwarder read from the gateway, written back the same', () => {
    expect(parsePartialSuccess(partialSuccessProtobuf(3, 'metric "x" has no data'))).toEqual({ rejected: 3, message: 'metric "x" has no data' });
    expect(partialSuccessProtobuf(0, '')).toHaveLength(0);
  });
  it('JSON: the signal\'s own field, int64 as a string', () => {
    expect(JSON.parse(partialSuccessJson('metrics', 2, 'm'))).toEqual({ partialSuccess: { rejectedDataPoints: '2', errorMessage: 'm' } });
    expect(JSON.parse(partialSuccessJson('logs', 1, ''))).toEqual({ partialSuccess: { rejectedLogRecords: '1', errorMessage: '' } });
    expect(JSON.parse(partialSuccessJson('traces', 1, 'x')).partialSuccess.rejectedSpans).toBe('1');
    expect(partialSuccessJson('traces', 0, '')).toBe('{}');
  });
});
