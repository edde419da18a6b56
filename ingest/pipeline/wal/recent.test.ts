/** Recognising retried requests: the window, the bound, the hash. */
import { describe, expect, it } from 'vitest';
import { RecentRequests, requestHash } from './recent.ts';

describe('RecentRequests', () => {
  it('remembers a request for the window and forgets it after', () => {
    const r = new RecentRequests<number>({ windowMs: 1000 });
    r.set('a', 1, 10_000);
    expect(r.get('a', 10_500)).toBe(1);
    expect(r.get('a', 11_000)).toBe(1); // the window's last moment
    expect(r.get('a', 11_001)).toBeUndefined();
    expect(r.size).toBe(0);
  });

  it('forgets the oldest first, keeping what is still inside the window', () => {
    const r = new RecentRequests<string>({ windowMs: 100 });
    r.set('old', 'o', 0);
    r.set('new', 'n', 90);
    r.forget(150);
    expect(r.get('old', 150)).toBeUndefined();
    expect(r.get('new', 150)).toBe('n');
  });

  it('keeps at most maxEntries, dropping the oldest early and counting them', () => {
    const r = new RecentRequests<number>({ windowMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 5; i++) r.set(`h${i}`, i, 1000 + i);
    expect(r.size).toBe(3);
    expect(r.evicted).toBe(2);
    expect(r.get('h0', 1005)).toBeUndefined();
    expect(r.get('h4', 1005)).toBe(4);
  });
});

describe('requestHash', () => {
  it('tells requests apart by tag and bytes, and is the same for the same ones', () => {
    const body = Buffer.from('payload');
    expect(requestHash('logs', body)).toBe(requestHash('logs', Buffer.from('payload')));
    expect(requestHash('logs', body)).not.toBe(requestHash('metrics', body));
    expect(requestHash('logs', body)).not.toBe(requestHash('logs', Buffer.from('payloae')));
  });
});
