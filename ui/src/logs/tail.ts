/**
 * The live tail's state in the page, as a pure reducer: what the stream delivered, what the user chose (pause),
 * and what was dropped and why, so the page can always say what it shows and what it does not.
 *
 * - Lines are kept newest first, at most `cap` (oldest dropped, counted in `trimmed`): a tail left open all day
 *   stays a few MB.
 * - Paused: new lines are held, not shown (at most `cap` held; beyond that the oldest held are dropped, counted
 *   in `heldDropped`); resume shows them and says how many arrived.
 * - The server may skip lines for this viewer (`dropped` events: too slow, too many): counted in `serverDropped`.
 * - A broken stream reconnects after a backoff (./tail-client.ts runs it); refusals that will not change by
 *   retrying (401, 400) stop with `failed`.
 */
import type { LogRecord } from '../../../query/contract.ts';

export const DEFAULT_CAP = 5000;

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'failed';

export interface TailState {
  connection: Connection;
  paused: boolean;
  /** Where the server reads lines from (`ready` event). */
  source?: string | undefined;
  /** Newest first, at most `cap`. */
  lines: LogRecord[];
  /** Arrived while paused, newest first, at most `cap`. */
  held: LogRecord[];
  cap: number;
  /** Lines received since the tail opened. */
  received: number;
  /** Oldest lines dropped from the page by the cap. */
  trimmed: number;
  /** Lines dropped while paused because more than `cap` arrived. */
  heldDropped: number;
  /** Lines the server skipped for this viewer, and its last reason. */
  serverDropped: number;
  dropReason?: string | undefined;
  /** The last resume: lines that arrived while paused, and how many of those were dropped. */
  resumed?: { arrived: number; dropped: number } | undefined;
  /** Reconnect attempts since the stream was last live. */
  attempt: number;
  /** When the next reconnect happens (epoch ms). */
  retryAtMs?: number | undefined;
  error?: string | undefined;
}

export type TailAction =
  | { type: 'connect' }
  | { type: 'ready'; source: string }
  | { type: 'records'; records: readonly LogRecord[] }
  | { type: 'dropped'; count: number; reason: string }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'broken'; error: string; retryAtMs: number }
  | { type: 'failed'; error: string }
  | { type: 'clear' }
  | { type: 'reset' };

export function initialTail(cap = DEFAULT_CAP): TailState {
  return { connection: 'connecting', paused: false, lines: [], held: [], cap, received: 0, trimmed: 0, heldDropped: 0, serverDropped: 0, attempt: 0 };
}

/** `newest` (newest first) on top of `list`, cut to `cap`; how many were cut. */
function prepend(newest: readonly LogRecord[], list: readonly LogRecord[], cap: number): { list: LogRecord[]; cut: number } {
  const all = newest.length >= cap ? newest.slice(0, cap) : [...newest, ...list.slice(0, cap - newest.length)];
  return { list: all, cut: newest.length + list.length - all.length };
}

export function tailReducer(s: TailState, a: TailAction): TailState {
  switch (a.type) {
    case 'connect':
      return { ...s, connection: s.attempt === 0 ? 'connecting' : 'reconnecting', retryAtMs: undefined };
    case 'ready':
      return { ...s, connection: 'live', source: a.source, attempt: 0, retryAtMs: undefined, error: undefined };
    case 'records': {
      if (a.records.length === 0) return s;
      // Events carry records oldest first; the page shows newest first.
      const newest = [...a.records].reverse();
      const received = s.received + a.records.length;
      if (s.paused) {
        const h = prepend(newest, s.held, s.cap);
        return { ...s, received, held: h.list, heldDropped: s.heldDropped + h.cut };
      }
      const l = prepend(newest, s.lines, s.cap);
      return { ...s, received, lines: l.list, trimmed: s.trimmed + l.cut };
    }
    case 'dropped':
      return { ...s, serverDropped: s.serverDropped + a.count, dropReason: a.reason };
    case 'pause':
      return s.paused ? s : { ...s, paused: true, held: [], heldDropped: 0, resumed: undefined };
    case 'resume': {
      if (!s.paused) return s;
      const l = prepend(s.held, s.lines, s.cap);
      const arrived = s.held.length + s.heldDropped;
      return { ...s, paused: false, lines: l.list, trimmed: s.trimmed + l.cut, held: [], heldDropped: 0, resumed: { arrived, dropped: s.heldDropped } };
    }
    case 'broken':
      return { ...s, connection: 'reconnecting', attempt: s.attempt + 1, retryAtMs: a.retryAtMs, error: a.error };
    case 'failed':
      return { ...s, connection: 'failed', retryAtMs: undefined, error: a.error };
    case 'clear':
      return { ...s, lines: [], held: [], trimmed: 0, heldDropped: 0, resumed: undefined };
    case 'reset':
      return initialTail(s.cap);
  }
}

/** Wait before reconnect attempt `attempt` (1, 2, …): 0.5 s doubling to 15 s, jittered to 50–100 %; a server's Retry-After wins (≤ 60 s). */
export function backoffMs(attempt: number, random: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, 60_000);
  const full = Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * Math.min(1, Math.max(0, random)));
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(raw: string | null, nowMs: number): number | undefined {
  if (raw === null) return undefined;
  const s = raw.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

/** The state line the tail bar shows. */
export function tailStatus(s: TailState, nowMs: number): { kind: 'connecting' | 'live' | 'paused' | 'reconnecting' | 'failed'; text: string } {
  const dropped = s.serverDropped > 0 ? ` · server dropped ${s.serverDropped.toLocaleString('en-US')}${s.dropReason ? ` (${s.dropReason})` : ''}` : '';
  const trimmed = s.trimmed > 0 ? ` · ${s.trimmed.toLocaleString('en-US')} oldest removed (keeps ${s.cap.toLocaleString('en-US')})` : '';
  if (s.connection === 'failed') return { kind: 'failed', text: `Stopped: ${s.error ?? 'the tail was refused'}` };
  if (s.connection === 'reconnecting') {
    const secs = s.retryAtMs === undefined ? 0 : Math.max(0, Math.ceil((s.retryAtMs - nowMs) / 1000));
    return { kind: 'reconnecting', text: `Reconnecting${secs > 0 ? ` in ${secs}s` : '…'} (attempt ${s.attempt}${s.error ? `: ${s.error}` : ''})${dropped}` };
  }
  if (s.paused) {
    const n = s.held.length + s.heldDropped;
    const beyond = s.heldDropped > 0 ? `, ${s.heldDropped.toLocaleString('en-US')} beyond the cap will not be shown` : '';
    return { kind: 'paused', text: `Paused · ${n.toLocaleString('en-US')} new line${n === 1 ? '' : 's'} waiting${beyond}${dropped}` };
  }
  if (s.connection === 'connecting') return { kind: 'connecting', text: 'Connecting…' };
  return { kind: 'live', text: `Live${s.source ? ` (${s.source})` : ''} · ${s.received.toLocaleString('en-US')} received${trimmed}${dropped}` };
}
