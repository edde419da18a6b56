/**
 * The forwarder: the agent's `Sink`. Sends each batch to the gateway as OTLP/HTTP protobuf (`POST
 * <endpoint>/v1/logs|metrics|traces`), gzip-compressed, over keep-alive connections, and settles it only when
 * the gateway acknowledged it or refused it for good.
 *
 * - Retries through the shared wrapper (#core/retry.ts): capped exponential backoff with jitter, honouring
 *   `Retry-After`. Retryable, as OTLP/HTTP says: 429, 502, 503, 504 (and 408), network errors and timeouts; other
 *   5xx are retried at most `maxServerErrorAttempts` times (a gateway bug must not stall a container's log forever)
 *   and then refused. Any other 4xx is permanent: the batch is settled `ok: false` with the gateway's message.
 * - A 200 with an OTLP partial success reports how many items the gateway rejected (`rejected`).
 * - Bounded: at most `maxInFlight` requests at once; a caller past it waits for a slot (its batch is its own
 *   memory; the log source bounds how many batches exist). Bodies are compressed one request at a time per slot;
 *   a batch that comes compressed (`encoding: 'gzip'`: the log source's) is sent as it is.
 * - `healthy` turns false on a failed attempt and back to true on the next success; the log source stops reading
 *   files meanwhile, so the files stay the buffer.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gzip, constants as zlibConstants } from 'node:zlib';
import { promisify } from 'node:util';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '#core/log.ts';
import { parseRetryAfter, retry, type StepResult } from '#core/retry.ts';
import type { Batch, Settled, Sink } from '../core/contracts.ts';

const gzipAsync = promisify(gzip);

export interface HttpSinkOptions {
  /** The gateway's OTLP/HTTP base URL, e.g. `http://gateway:4318` (the signal path is appended). */
  endpoint: string;
  /** Bearer token sent as `Authorization`. */
  authToken?: string | undefined;
  /** @default true */
  gzip?: boolean;
  /** @default 4 */
  maxInFlight?: number;
  /** Time for one attempt (connect, send, answer). @default 30000 */
  timeoutMs?: number;
  /** @default 250 */
  initialRetryDelayMs?: number;
  /** @default 10000 */
  maxRetryDelayMs?: number;
  /** @default 5 */
  maxServerErrorAttempts?: number;
  log: Logger;
  registry: Registry;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Reads `rejected_*` (field 1, varint) and `error_message` (field 2) of an OTLP `Export*ServiceResponse.partial_success` (field 1). */
export function parsePartialSuccess(body: Uint8Array): { rejected: number; message: string } {
  const out = { rejected: 0, message: '' };
  const walk = (buf: Uint8Array, start: number, end: number, depth: number) => {
    let i = start;
    const varint = () => {
      let v = 0;
      let mul = 1;
      for (;;) {
        const b = buf[i++];
        if (b === undefined) throw new Error('truncated');
        v += (b & 0x7f) * mul;
        if (b < 0x80) return v;
        mul *= 128;
      }
    };
    while (i < end) {
      const tag = varint();
      const no = tag >>> 3;
      const wire = tag & 7;
      if (wire === 0) {
        const v = varint();
        if (depth === 1 && no === 1) out.rejected = v;
      } else if (wire === 2) {
        const len = varint();
        if (depth === 0 && no === 1) walk(buf, i, i + len, 1);
        else if (depth === 1 && no === 2) out.message = Buffer.from(buf.subarray(i, i + len)).toString('utf8');
        i += len;
      } else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return;
    }
  };
  try {
    walk(body, 0, body.length, 0);
  } catch {
    // A malformed response body does not undo the 200: the batch was accepted.
  }
  return out;
}

/** The gateway's message in an error answer: google.rpc.Status (protobuf, field 2) or `{error: {message}}` / `{message}` JSON. */
export function errorMessage(a: Answer): string {
  const type = String(a.headers['content-type'] ?? '');
  const text = a.body.toString('utf8');
  if (type.includes('json')) {
    try {
      const j = JSON.parse(text) as { message?: string; error?: { message?: string } };
      return j.error?.message ?? j.message ?? text;
    } catch {
      return text.slice(0, 500);
    }
  }
  if (type.includes('protobuf')) {
    const buf = a.body;
    for (let i = 0; i < buf.length; ) {
      const tag = buf[i++]!;
      const no = tag >>> 3;
      if ((tag & 7) === 0) {
        while ((buf[i++]! & 0x80) !== 0);
      } else if ((tag & 7) === 2) {
        let len = 0;
        let mul = 1;
        for (;;) {
          const b = buf[i++]!;
          len += (b & 0x7f) * mul;
          if (b < 0x80) break;
          mul *= 128;
        }
        if (no === 2) return buf.subarray(i, i + len).toString('utf8');
        i += len;
      } else break;
    }
  }
  return text.slice(0, 500);
}

const RETRYABLE = new Set([408, 429, 502, 503, 504]);

export class HttpSink implements Sink {
  readonly #opts: Required<Omit<HttpSinkOptions, 'authToken'>> & Pick<HttpSinkOptions, 'authToken'>;
  readonly #base: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  #inFlight = 0;
  readonly #waiting: (() => void)[] = [];
  #healthy = true;
  #closed = false;
  readonly #metrics;

  constructor(opts: HttpSinkOptions) {
    this.#opts = {
      gzip: true,
      maxInFlight: 4,
      timeoutMs: 30_000,
      initialRetryDelayMs: 250,
      maxRetryDelayMs: 10_000,
      maxServerErrorAttempts: 5,
      ...opts,
    };
    this.#base = new URL(opts.endpoint.endsWith('/') ? opts.endpoint : `${opts.endpoint}/`);
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') throw new Error(`OTLP endpoint must be http:// or https://: ${opts.endpoint}`);
    const https = this.#base.protocol === 'https:';
    const agentOpts = { keepAlive: true, maxSockets: this.#opts.maxInFlight, keepAliveMsecs: 10_000 };
    this.#agent = https ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
    this.#request = https ? httpsRequest : httpRequest;
    const registers = [opts.registry];
    this.#metrics = {
      requests: new Counter({
        name: 'crowsnest_agent_forward_requests_total',
        help: 'Requests sent to the gateway, by signal and outcome (ok, retryable, refused, error).',
        labelNames: ['signal', 'outcome'],
        registers,
      }),
      items: new Counter({ name: 'crowsnest_agent_forward_items_total', help: 'Items (records, points, spans) acknowledged by the gateway, by signal.', labelNames: ['signal'], registers }),
      bytes: new Counter({ name: 'crowsnest_agent_forward_bytes_total', help: 'Request bytes sent (after compression), by signal.', labelNames: ['signal'], registers }),
      healthy: new Gauge({ name: 'crowsnest_agent_forward_healthy', help: '1 while the last attempt to reach the gateway succeeded.', registers }),
      inFlight: new Gauge({ name: 'crowsnest_agent_forward_in_flight', help: 'Requests in flight to the gateway.', registers }),
      seconds: new Histogram({
        name: 'crowsnest_agent_forward_request_seconds',
        help: 'Time of one request to the gateway, by signal.',
        labelNames: ['signal'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
    };
    this.#metrics.healthy.set(1);
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  #setHealthy(v: boolean): void {
    if (v !== this.#healthy) this.#opts.log[v ? 'info' : 'warn'](v ? 'gateway reachable again' : 'gateway unreachable or refusing: reading paused, retrying');
    this.#healthy = v;
    this.#metrics.healthy.set(v ? 1 : 0);
  }

  async #slot(signal: AbortSignal | undefined): Promise<void> {
    while (this.#inFlight >= this.#opts.maxInFlight) {
      if (signal?.aborted) throw signal.reason;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#inFlight++;
    this.#metrics.inFlight.set(this.#inFlight);
  }

  #release(): void {
    this.#inFlight--;
    this.#metrics.inFlight.set(this.#inFlight);
    this.#waiting.shift()?.();
  }

  async send(batch: Batch, signal?: AbortSignal): Promise<Settled> {
    if (this.#closed) throw new Error('the forwarder is closed');
    await this.#slot(signal);
    try {
      const gzipped = batch.encoding === 'gzip' || this.#opts.gzip;
      const body =
        batch.encoding === 'gzip'
          ? Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength)
          : this.#opts.gzip
            ? await gzipAsync(batch.body, { level: zlibConstants.Z_BEST_SPEED })
            : Buffer.from(batch.body);
      const url = new URL(`v1/${batch.signal}`, this.#base);
      const step = async (ctx: { attempt: number; signal: AbortSignal }): Promise<StepResult<Settled>> => {
        const t0 = performance.now();
        let a: Answer;
        try {
          a = await this.#post(url, body, gzipped, ctx.signal);
        } catch (error) {
          this.#metrics.requests.inc({ signal: batch.signal, outcome: 'error' });
          this.#setHealthy(false);
          return { status: 'retryable', error };
        }
        this.#metrics.seconds.observe({ signal: batch.signal }, (performance.now() - t0) / 1000);
        this.#metrics.bytes.inc({ signal: batch.signal }, body.length);
        if (a.status >= 200 && a.status < 300) {
          this.#metrics.requests.inc({ signal: batch.signal, outcome: 'ok' });
          this.#setHealthy(true);
          const partial = parsePartialSuccess(a.body);
          this.#metrics.items.inc({ signal: batch.signal }, batch.items - partial.rejected);
          return { status: 'success', value: partial.rejected > 0 ? { ok: true, rejected: partial.rejected, message: partial.message } : { ok: true } };
        }
        const message = errorMessage(a);
        const serverError = a.status >= 500 && !RETRYABLE.has(a.status);
        if (RETRYABLE.has(a.status) || (serverError && ctx.attempt < this.#opts.maxServerErrorAttempts)) {
          this.#metrics.requests.inc({ signal: batch.signal, outcome: 'retryable' });
          this.#setHealthy(false);
          const ra = a.headers['retry-after'];
          return { status: 'retryable', error: new Transient(`${a.status}: ${message}`), retryAfterMs: parseRetryAfter(Array.isArray(ra) ? ra[0] : ra) };
        }
        // Refused for good: the gateway is up and answering, so reading goes on.
        this.#metrics.requests.inc({ signal: batch.signal, outcome: 'refused' });
        this.#setHealthy(true);
        return { status: 'success', value: { ok: false, permanent: true, status: a.status, reason: message } };
      };
      const result = await retry(step, {
        initialDelayMs: this.#opts.initialRetryDelayMs,
        maxDelayMs: this.#opts.maxRetryDelayMs,
        ...(signal ? { signal } : {}),
        onRetry: ({ attempt, delayMs, error }) => {
          if (attempt === 1 || attempt % 10 === 0) this.#opts.log.warn({ signal: batch.signal, attempt, delayMs, err: error }, 'send to the gateway failed; retrying');
        },
      });
      if (result.status === 'success') return result.value;
      throw result.error instanceof Error ? result.error : new Error(String(result.error));
    } finally {
      this.#release();
    }
  }

  #post(url: URL, body: Buffer, gzipped: boolean, signal: AbortSignal): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/x-protobuf', 'content-length': body.length };
      if (gzipped) headers['content-encoding'] = 'gzip';
      if (this.#opts.authToken !== undefined) headers['authorization'] = `Bearer ${this.#opts.authToken}`;
      const req = this.#request(url, { method: 'POST', agent: this.#agent, headers, signal, timeout: this.#opts.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 1024 * 1024) chunks.push(c); // an answer is small; never hold a huge one
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from the gateway in ${this.#opts.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.#closed = true;
    this.#agent.destroy();
  }
}
