/**
 * Server-Sent Events on a raw Node response (the route hijacks fastify's reply): the head, `event:`/`data:`
 * frames, comment lines, and backpressure as the hub sees it. A frame's data is one line of JSON (JSON escapes
 * line breaks inside strings), so no `data:` splitting is needed.
 *
 * Backpressure: `backpressured` is Node's `writableNeedDrain`, true once more than the socket's high-water mark is
 * waiting because the client does not read; the hub then writes nothing more to this viewer (its records wait in
 * its bounded queue, and what overflows is dropped and reported). So one stuck viewer holds at most one frame
 * beyond the high-water mark, and the kernel's socket buffers, in memory.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Whether the client may reconnect after this many ms (EventSource's `retry:`). */
const RECONNECT_MS = 2000;

export class SseStream {
  #ended = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  /** Writes the 200 head and the reconnect hint. */
  open(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx) would otherwise buffer the stream and the lines would arrive late, in bursts.
      'x-accel-buffering': 'no',
    });
    this.res.socket?.setNoDelay(true);
    this.res.write(`retry: ${RECONNECT_MS}\n\n`);
  }

  get ended(): boolean {
    return this.#ended || this.res.destroyed || this.res.writableEnded;
  }

  get backpressured(): boolean {
    return this.res.writableNeedDrain;
  }

  event(name: string, data: string): void {
    if (!this.ended) this.res.write(`event: ${name}\ndata: ${data}\n\n`);
  }

  comment(text: string): void {
    if (!this.ended) this.res.write(`: ${text}\n\n`);
  }

  /** Calls `fn` once when the client goes away or the stream is ended. */
  onClose(fn: () => void): void {
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      fn();
    };
    this.res.once('close', once);
    this.req.once('close', () => {
      // The request's close also fires when its (empty) body is read; only a destroyed socket means the client left.
      if (this.req.socket.destroyed) once();
    });
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end();
  }
}
