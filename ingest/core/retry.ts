/**
 * The one retry wrapper: capped exponential backoff with jitter around a pipeline step, bounded by attempts, a
 * deadline and an abort signal, honouring a retry-after hint carried by a failure. The writers wrap their inserts
 * in it; the agent's forwarder will wrap its sends (an HTTP caller turns `Retry-After` into a hint with
 * `parseRetryAfter`).
 *
 * Shaped after OpenTelemetry JS's `retrying-transport.ts`: a step answers with a result union (`success`,
 * `failure` that no retry can fix, `retryable`), and retrying is a wrapper around the step, not a loop inside it.
 * `attempt()` adapts a function that throws.
 */
import { AppError } from './errors.ts';

/** What one attempt of a step produced. */
export type StepResult<T> =
  | { status: 'success'; value: T }
  /** Permanent: retrying cannot help (invalid input, a refusal). */
  | { status: 'failure'; error: unknown }
  /** Transient: worth another attempt, after `retryAfterMs` when the failure said how long to wait. */
  | { status: 'retryable'; error: unknown; retryAfterMs?: number | undefined };

export interface AttemptContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts when the caller's signal does or the deadline passes, for steps that can cancel (fetch). */
  signal: AbortSignal;
}

export type Step<T> = (ctx: AttemptContext) => Promise<StepResult<T>>;

export interface RetryInfo {
  /** The attempt that just failed (1 for the first). */
  attempt: number;
  /** How long the wrapper waits before the next attempt. */
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Delay after the first failure. @default 200 */
  initialDelayMs?: number;
  /** Longest computed delay (a retry-after hint may ask for more, and is honoured). @default 30000 */
  maxDelayMs?: number;
  /** Growth of the delay per attempt. @default 2 */
  multiplier?: number;
  /** Each computed delay is varied by ±this fraction, so callers that failed together do not retry together. @default 0.2 */
  jitter?: number;
  /** Attempts in all, the first included. @default Infinity (until the deadline or the signal) */
  maxAttempts?: number;
  /**
   * Time budget from the first attempt, in ms: no retry is scheduled that would start after it, and the
   * attempt's signal aborts when it passes. @default none
   */
  deadlineMs?: number;
  /**
   * Stops retrying (a writer stopping): a pending wait ends at once and no further attempt starts. The first
   * attempt runs even when the signal has already aborted, so a stopping writer still tries its last flush once.
   */
  signal?: AbortSignal;
  /** Called after each failed attempt that will be retried, before the wait: count and log here. */
  onRetry?: (info: RetryInfo) => void;
  /** Source of randomness for the jitter, in [0, 1). @default Math.random */
  random?: () => number;
}

export type RetryResult<T> =
  | { status: 'success'; value: T; attempts: number }
  | {
      status: 'failure';
      /** The last attempt's error. */
      error: unknown;
      attempts: number;
      /** Why retrying stopped: a permanent failure, the attempt limit, the deadline or the signal. */
      reason: 'permanent' | 'attempts' | 'deadline' | 'aborted';
    };

/** Runs `step` until it succeeds, fails permanently, or the attempts, the deadline or the signal run out. */
export async function retry<T>(step: Step<T>, opts: RetryOptions = {}): Promise<RetryResult<T>> {
  const initial = opts.initialDelayMs ?? 200;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const multiplier = opts.multiplier ?? 2;
  const jitter = opts.jitter ?? 0.2;
  const maxAttempts = opts.maxAttempts ?? Infinity;
  const random = opts.random ?? Math.random;
  const started = Date.now();
  const deadline = opts.deadlineMs === undefined ? Infinity : started + opts.deadlineMs;

  // The attempts' signal: the caller's, or with a deadline one that also aborts when it passes. Without a
  // deadline no listener is added, since callers share one signal among many retry loops (a writer's partitions).
  let attemptSignal = opts.signal ?? NEVER;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let abort: (() => void) | undefined;
  if (Number.isFinite(deadline)) {
    const controller = new AbortController();
    abort = () => controller.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', abort, { once: true });
    deadlineTimer = setTimeout(() => controller.abort(new Error('retry deadline passed')), deadline - started);
    deadlineTimer.unref?.();
    attemptSignal = controller.signal;
  }

  let nextDelay = initial;
  try {
    for (let attempt = 1; ; attempt++) {
      const result = await step({ attempt, signal: attemptSignal });
      if (result.status === 'success') return { status: 'success', value: result.value, attempts: attempt };
      const fail = (reason: 'permanent' | 'attempts' | 'deadline' | 'aborted'): RetryResult<T> => ({ status: 'failure', error: result.error, attempts: attempt, reason });
      if (result.status === 'failure') return fail('permanent');
      if (opts.signal?.aborted) return fail('aborted');
      if (attempt >= maxAttempts) return fail('attempts');

      const computed = Math.min(nextDelay * (1 + jitter * (2 * random() - 1)), maxDelay);
      nextDelay = Math.min(nextDelay * multiplier, maxDelay);
      const hint = result.retryAfterMs;
      const delayMs = Math.max(0, hint !== undefined && Number.isFinite(hint) && hint >= 0 ? hint : computed);
      if (Date.now() + delayMs > deadline) return fail('deadline');

      opts.onRetry?.({ attempt, delayMs, error: result.error });
      await sleep(delayMs, opts.signal);
      if (opts.signal?.aborted) return fail('aborted');
    }
  } finally {
    if (abort) opts.signal?.removeEventListener('abort', abort);
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
  }
}

const NEVER = new AbortController().signal;

/** How `attempt` sorts a thrown error. */
export type Classify = (error: unknown) => { retryable: boolean; retryAfterMs?: number | undefined };

/**
 * The default classification: an `AppError` says itself whether it is retryable and after how long; anything else
 * thrown (a ClickHouse or Kafka client error, a timeout) is taken as transient.
 */
export const classifyError: Classify = (error) => {
  if (error instanceof AppError) {
    return { retryable: error.retryable, retryAfterMs: error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000 };
  }
  return { retryable: true };
};

/** Adapts a function that throws into a step: its value is a success, a thrown error is classified. */
export function attempt<T>(fn: (ctx: AttemptContext) => Promise<T>, classify: Classify = classifyError): Step<T> {
  return async (ctx) => {
    try {
      return { status: 'success', value: await fn(ctx) };
    } catch (error) {
      const c = classify(error);
      return c.retryable ? { status: 'retryable', error, retryAfterMs: c.retryAfterMs } : { status: 'failure', error };
    }
  };
}

/** The value of a successful result; otherwise throws the last error. */
export function unwrap<T>(result: RetryResult<T>): T {
  if (result.status === 'success') return result.value;
  throw result.error;
}

/**
 * Milliseconds to wait from an HTTP `Retry-After` value: delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`; a date already past means 0). Undefined when absent or unreadable, so the
 * caller's own backoff applies.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined; // "-1", "1.5": neither form
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
