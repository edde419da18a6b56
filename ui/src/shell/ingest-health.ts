/**
 * The header's ingest health, from two consecutive readings of GET /api/v1/pipeline. Pure, so every transport's
 * wording and tone is tested in a table:
 *
 *   wal    requests acknowledged per second (the appended offset's rise between readings: one WAL record per
 *          OTLP request), and what is acknowledged but not yet in ClickHouse; an insert error is shown as such
 *   kafka  messages/s produced to the signal topics and the writer group's lag (whole pipeline, read from
 *          Kafka's offsets); a failed poll or a crashed writer consumer is shown
 *   local  the process reads no pipeline state (a query process apart): says so instead of inventing figures
 */
import type { PipelineResponse } from '../../../query/contract.ts';

export type Tone = 'ok' | 'warn' | 'bad' | 'idle';

export interface Reading {
  atMs: number;
  status: PipelineResponse;
}

export interface Health {
  tone: Tone;
  /** Short text for the header. */
  text: string;
  /** The longer explanation (tooltip). */
  detail: string;
}

/** Acknowledged data older than this and still not inserted is worth a warning. */
export const STALE_PENDING_S = 10;
/** Kafka lag (messages) above which the header warns. */
export const LAG_WARN = 10_000;

function perSecond(n: number): string {
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  return Math.round(n).toLocaleString('en-US');
}

export function ingestHealth(prev: Reading | undefined, cur: Reading): Health {
  const s = cur.status;
  if (!('appendedOffset' in s) && !('topics' in s)) {
    return { tone: 'idle', text: `ingest: ${s.transport}`, detail: 'This process reads no pipeline state (a query process apart); see the writer or gateway.' };
  }
  if ('appendedOffset' in s) {
    let rate: number | undefined;
    if (prev !== undefined && 'appendedOffset' in prev.status && cur.atMs > prev.atMs) {
      const d = Number(BigInt(s.appendedOffset) - BigInt(prev.status.appendedOffset));
      rate = d >= 0 ? (d * 1000) / (cur.atMs - prev.atMs) : undefined;
    }
    const rateText = rate === undefined ? '… req/s' : `${perSecond(rate)} req/s`;
    const pending = `${s.pendingRecords.toLocaleString('en-US')} pending`;
    const detail = `Write-ahead log: ${s.appendedOffset} requests acknowledged, ${s.insertedOffset} inserted into ClickHouse; ${s.pendingRecords} pending (${s.pendingBytes} bytes of ${s.maxBytes}).`;
    if (s.error !== null) return { tone: 'bad', text: `insert failing · ${pending}`, detail: `${detail} The latest insert failed: ${s.error}` };
    if (s.pendingBytes >= s.maxBytes * 0.9) return { tone: 'bad', text: `WAL nearly full · ${pending}`, detail: `${detail} At the bound, receivers answer 503.` };
    if (s.oldestPendingSeconds !== null && s.oldestPendingSeconds > STALE_PENDING_S) {
      return { tone: 'warn', text: `${rateText} · ${pending} (${Math.round(s.oldestPendingSeconds)}s behind)`, detail };
    }
    return { tone: rate === 0 || rate === undefined ? 'idle' : 'ok', text: `${rateText} · ${pending}`, detail };
  }
  const lag = s.topics.reduce((a, t) => a + Math.max(0, t.lag), 0);
  const rates = s.topics.map((t) => t.producedPerSecond).filter((r): r is number => r !== null);
  const rateText = rates.length === 0 ? '… msg/s' : `${perSecond(rates.reduce((a, b) => a + b, 0))} msg/s`;
  const text = `${rateText} · lag ${lag.toLocaleString('en-US')}`;
  const detail = `Kafka (group ${s.groupId}): ${s.topics.map((t) => `${t.topic} lag ${t.lag}`).join(', ')}.`;
  if (s.writer !== null && s.writer.state === 'restarting') return { tone: 'bad', text: `writer restarting · lag ${lag}`, detail: `${detail} ${s.writer.error ?? ''}` };
  if (s.error !== null) return { tone: 'warn', text: `Kafka unreadable · ${text}`, detail: `${detail} The latest poll failed: ${s.error}` };
  if (lag > LAG_WARN) return { tone: 'warn', text, detail };
  return { tone: rates.some((r) => r > 0) ? 'ok' : 'idle', text, detail };
}
