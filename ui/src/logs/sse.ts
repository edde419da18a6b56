/**
 * A Server-Sent Events parser (the WHATWG `text/event-stream` rules) for streams read with `fetch`: the live
 * tail needs the bearer token header, which `EventSource` cannot send. Fed decoded text in chunks of any size
 * (a chunk may end mid-line, even between `\r` and `\n`), it returns the events completed so far. Pure: the
 * network side is ./tail-client.ts.
 *
 * Rules kept: lines end in `\n`, `\r\n` or `\r`; a blank line dispatches; `:` starts a comment (the server's
 * keepalives, reported so a watchdog can see the stream is alive); `field: value` drops one leading space;
 * `data` lines join with `\n`; an event without data is not dispatched; `event` defaults to `message`; `id`
 * persists across events; `retry` takes digits only. A line longer than `maxLine` characters (a broken or
 * hostile stream) is an error rather than unbounded memory.
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

export interface SseOutput {
  events: SseEvent[];
  /** Comment lines seen in this chunk (keepalives). */
  comments: number;
  /** A `retry:` the server asked for, in ms. */
  retryMs?: number;
}

export class SseParser {
  private buffer = '';
  /** The previous chunk ended in `\r`: a `\n` starting the next one belongs to that line ending. */
  private pendingCR = false;
  private data: string[] = [];
  private event = '';
  private lastId = '';

  constructor(private readonly maxLine = 8 * 1024 * 1024) {}

  push(chunk: string): SseOutput {
    const out: SseOutput = { events: [], comments: 0 };
    let text = chunk;
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    let start = 0;
    for (;;) {
      const nl = this.nextBreak(start);
      if (nl === -1) break;
      const line = this.buffer.slice(start, nl);
      let next = nl + 1;
      if (this.buffer[nl] === '\r') {
        if (nl + 1 < this.buffer.length) {
          if (this.buffer[nl + 1] === '\n') next = nl + 2;
        } else this.pendingCR = true;
      }
      this.line(line, out);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLine) {
      this.buffer = '';
      throw new Error(`event stream line longer than ${this.maxLine} characters`);
    }
    return out;
  }

  private nextBreak(from: number): number {
    for (let i = from; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c === 10 || c === 13) return i;
    }
    return -1;
  }

  private line(line: string, out: SseOutput): void {
    if (line === '') {
      if (this.data.length > 0) out.events.push({ event: this.event === '' ? 'message' : this.event, data: this.data.join('\n'), id: this.lastId });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) {
      out.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) out.retryMs = Number(value);
        break;
      default:
      // Unknown fields are ignored.
    }
  }
}
