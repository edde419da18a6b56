/**
 * A client of GET /api/v1/logs/tail for tests, as the UI reads it: fetch with the bearer header, the body read as
 * a stream and cut into Server-Sent Events. Keeps every event, with the time it arrived.
 */
import type { LogRecord, LogTailDropped } from '../../contract.ts';

export interface ReceivedRecord {
  record: LogRecord;
  /** Date.now() when its event arrived. */
  at: number;
}

export interface TailClient {
  status: number;
  ready: Promise<{ source: string }>;
  records: ReceivedRecord[];
  dropped: LogTailDropped[];
  comments: string[];
  close(): void;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
}

export async function openTail(baseUrl: string, query: string, token?: string): Promise<TailClient> {
  const abort = new AbortController();
  const res = await fetch(`${baseUrl}/api/v1/logs/tail?${query}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: abort.signal,
  });
  let readyResolve: (v: { source: string }) => void = () => undefined;
  const ready = new Promise<{ source: string }>((r) => (readyResolve = r));
  const client: TailClient = { status: res.status, ready, records: [], dropped: [], comments: [], close: () => abort.abort(), ended: Promise.resolve() };
  if (res.status !== 200 || !res.body) return client;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  client.ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) client.comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event === 'ready') readyResolve(JSON.parse(data) as { source: string });
          else if (event === 'records') {
            const at = Date.now();
            for (const record of (JSON.parse(data) as { records: LogRecord[] }).records) client.records.push({ record, at });
          } else if (event === 'dropped') client.dropped.push(JSON.parse(data) as LogTailDropped);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return client;
}

/** Records in a total order (time, then everything else: records of one millisecond are common), for comparisons. */
export function inOrder(records: readonly LogRecord[]): LogRecord[] {
  const key = (r: LogRecord) => `${r.timeUnixNano.padStart(20, '0')} ${JSON.stringify(r)}`;
  return records
    .map((r) => [key(r), r] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => r);
}
