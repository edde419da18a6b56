import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from './errors.ts';
import { type RetryInfo, type StepResult, attempt, parseRetryAfter, retry, unwrap } from './retry.ts';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

/** A step that answers from a script, one result per attempt, and records when each attempt started. */
function scripted<T>(results: StepResult<T>[]) {
  const startedAt: number[] = [];
  const step = vi.fn(() => {
    startedAt.push(Date.now());
    return Promise.resolve(results[startedAt.length - 1] ?? results.at(-1)!);
  });
  return { step, startedAt };
}

const transient = (retryAfterMs?: number): StepResult<never> => ({ status: 'retryable', error: new Error('down'), retryAfterMs });

describe('retry', () => {
  it('returns the first success without waiting', async () => {
    const { step } = scripted([{ status: 'success', value: 42 }]);
    await expect(retry(step)).resolves.toEqual({ status: 'success', value: 42, attempts: 1 });
  });

  it('backs off exponentially, capped, between retryable failures (no jitter)', async () => {
    const { step, startedAt } = scripted<string>([transient(), transient(), transient(), transient(), transient(), { status: 'success', value: 'ok' }]);
    const delays: number[] = [];
    const done = retry(step, { initialDelayMs: 100, multiplier: 2, maxDelayMs: 500, jitter: 0, onRetry: (i) => delays.push(i.delayMs) });
    await vi.runAllTimersAsync();
    await expect(done).resolves.toMatchObject({ status: 'success', value: 'ok', attempts: 6 });
    expect(delays).toEqual([100, 200, 400, 500, 500]);
    expect(startedAt.map((t, i) => t - (startedAt[i - 1] ?? t))).toEqual([0, 100, 200, 400, 500, 500]);
  });

  it('varies each computed delay by at most the jitter fraction, never past the cap', async () => {
    const delays: number[] = [];
    const { step } = scripted<number>([transient(), transient(), transient(), { status: 'success', value: 1 }]);
    const randoms = [0, 0.999999, 0.5];
    const done = retry(step, { initialDelayMs: 100, maxDelayMs: 300, jitter: 0.2, random: () => randoms.shift()!, onRetry: (i) => delays.push(i.delayMs) });
    await vi.runAllTimersAsync();
    await done;
    expect(delays[0]).toBeCloseTo(80); // 100 × (1 − 0.2)
    expect(delays[1]).toBeCloseTo(240, 0); // 200 × (1 + 0.2)
    expect(delays[2]).toBe(300); // 400, capped
  });

  it('does not retry a permanent failure', async () => {
    const error = new Error('refused');
    const { step } = scripted<number>([{ status: 'failure', error }]);
    const onRetry = vi.fn();
    await expect(retry(step, { onRetry })).resolves.toEqual({ status: 'failure', error, attempts: 1, reason: 'permanent' });
    expect(onRetry).not.toHaveBeenCalled();
    expect(step).toHaveBeenCalledTimes(1);
  });

  it('stops after maxAttempts with the last error', async () => {
    const { step } = scripted<number>([transient()]);
    const done = retry(step, { maxAttempts: 3, initialDelayMs: 10 });
    await vi.runAllTimersAsync();
    await expect(done).resolves.toMatchObject({ status: 'failure', attempts: 3, reason: 'attempts', error: new Error('down') });
    expect(step).toHaveBeenCalledTimes(3);
  });

  it('honours a retry-after hint over its own backoff, even past maxDelayMs', async () => {
    const { step, startedAt } = scripted<number>([transient(5000), { status: 'success', value: 1 }]);
    const done = retry(step, { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    await vi.runAllTimersAsync();
    await done;
    expect(startedAt[1]! - startedAt[0]!).toBe(5000);
  });

  it('gives up rather than schedule a retry past the deadline, and aborts the attempt signal at the deadline', async () => {
    const signals: AbortSignal[] = [];
    const step = vi.fn(({ signal }: { signal: AbortSignal }) => {
      signals.push(signal);
      return Promise.resolve(transient(400));
    });
    const done = retry(step, { deadlineMs: 1000 });
    await vi.runAllTimersAsync();
    // Attempts at 0 and 400 ms; the next would start at 800 + 400 > 1000.
    await expect(done).resolves.toMatchObject({ status: 'failure', attempts: 3, reason: 'deadline' });
    expect(step).toHaveBeenCalledTimes(3);
    expect(signals[0]!.aborted).toBe(false); // the deadline timer is cleared once retry returns

    let attemptSignal: AbortSignal | undefined;
    const slow = retry(
      ({ signal }) => {
        attemptSignal = signal;
        return new Promise<StepResult<number>>((resolve) => signal.addEventListener('abort', () => resolve(transient())));
      },
      { deadlineMs: 50 },
    );
    await vi.advanceTimersByTimeAsync(50);
    expect(attemptSignal!.aborted).toBe(true);
    await expect(slow).resolves.toMatchObject({ status: 'failure', reason: 'deadline' });
  });

  it('ends a pending wait at once when the signal aborts, and starts no further attempt', async () => {
    const stop = new AbortController();
    const { step } = scripted<number>([transient()]);
    const done = retry(step, { initialDelayMs: 60_000, signal: stop.signal });
    await vi.advanceTimersByTimeAsync(10);
    stop.abort();
    await expect(done).resolves.toMatchObject({ status: 'failure', attempts: 1, reason: 'aborted' });
    expect(step).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0); // no timer left behind
  });

  it('still makes the first attempt when the signal has already aborted (a stopping writer flushes once)', async () => {
    const stop = new AbortController();
    stop.abort();
    const ok = scripted<number>([{ status: 'success', value: 7 }]);
    await expect(retry(ok.step, { signal: stop.signal })).resolves.toMatchObject({ status: 'success', value: 7 });
    const failing = scripted<number>([transient()]);
    await expect(retry(failing.step, { signal: stop.signal })).resolves.toMatchObject({ reason: 'aborted', attempts: 1 });
  });

  it('calls onRetry once per retry, before the wait, with the failed attempt and its error', async () => {
    const infos: RetryInfo[] = [];
    const { step } = scripted<number>([transient(), transient(), { status: 'success', value: 1 }]);
    const done = retry(step, { initialDelayMs: 10, jitter: 0, onRetry: (i) => infos.push(i) });
    await vi.runAllTimersAsync();
    await done;
    expect(infos.map((i) => [i.attempt, i.delayMs, (i.error as Error).message])).toEqual([
      [1, 10, 'down'],
      [2, 20, 'down'],
    ]);
  });
});

describe('attempt', () => {
  it('retries anything thrown by default, and takes an AppError at its word', async () => {
    let calls = 0;
    const flaky = attempt(() => (++calls < 3 ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve('done')));
    const done = retry(flaky, { initialDelayMs: 1 });
    await vi.runAllTimersAsync();
    expect(unwrap(await done)).toBe('done');

    const bad = attempt(() => Promise.reject(new AppError('BAD_REQUEST', 'no')));
    await expect(retry(bad)).resolves.toMatchObject({ status: 'failure', reason: 'permanent' });

    const busy = await attempt(() => Promise.reject(new AppError('UNAVAILABLE', 'busy', { retryAfterSeconds: 3 })))({ attempt: 1, signal: new AbortController().signal });
    expect(busy).toMatchObject({ status: 'retryable', retryAfterMs: 3000 });
  });

  it('unwrap throws the last error of a failure', async () => {
    const failed = await retry(attempt(() => Promise.reject(new AppError('NOT_FOUND', 'gone'))));
    expect(() => unwrap(failed)).toThrow('gone');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });
  it('reads an HTTP-date, a past one as no wait', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores what is absent or unreadable, so the caller backs off on its own', () => {
    for (const v of [undefined, null, '', '-1', '1.5', 'soon']) expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});
