/**
 * One scrape's HTTP exchange, as Prometheus makes it: GET with Prometheus's Accept header (OpenMetrics first, then
 * the text format), gzip accepted, `X-Prometheus-Scrape-Timeout-Seconds`, an optional bearer token (the kubelet's
 * service-account token, re-read from its file each scrape because bound tokens rotate), the timeout covering the
 * whole exchange, and a limit on the body's decompressed size (a runaway exporter cannot exhaust the agent's memory).
 *
 * node:http(s) rather than fetch: a CA bundle per target (the kubelet's), `rejectUnauthorized`, and a keep-alive
 * agent with bounded sockets, which fetch in Node 20 cannot take without undici as a dependency.
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createGunzip } from 'node:zlib';

/** Prometheus 2.x's scrape Accept header. */
export const ACCEPT_HEADER = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

export type ScrapeFailure = 'timeout' | 'http_status' | 'too_large' | 'connect' | 'encoding';

export class ScrapeError extends Error {
  override name = 'ScrapeError';
  constructor(
    readonly kind: ScrapeFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface ScrapeRequest {
  url: URL;
  timeoutMs: number;
  maxBodyBytes: number;
  bearerToken?: string | undefined;
  /** CA certificates to trust for an https target (the cluster CA for the kubelet). */
  ca?: Buffer | undefined;
  /** Skips certificate verification (kubelets often serve self-signed certificates). */
  insecureSkipVerify?: boolean | undefined;
  userAgent?: string;
}

export interface ScrapeResponse {
  body: string;
  contentType: string | undefined;
  /** Bytes of the body after decompression. */
  bytes: number;
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64 });
const httpsAgents = new Map<string, HttpsAgent>();

function httpsAgent(req: ScrapeRequest): HttpsAgent {
  const key = `${req.insecureSkipVerify === true}:${req.ca?.toString('base64') ?? ''}`;
  let a = httpsAgents.get(key);
  if (!a) {
    a = new HttpsAgent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 64, rejectUnauthorized: req.insecureSkipVerify !== true, ...(req.ca ? { ca: req.ca } : {}) });
    httpsAgents.set(key, a);
  }
  return a;
}

export function scrapeHttp(req: ScrapeRequest): Promise<ScrapeResponse> {
  const https = req.url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: ScrapeError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      r.destroy();
      reject(e);
    };
    const headers: Record<string, string> = {
      accept: ACCEPT_HEADER,
      'accept-encoding': 'gzip',
      'user-agent': req.userAgent ?? 'crowsnest-agent',
      'x-prometheus-scrape-timeout-seconds': String(req.timeoutMs / 1000),
    };
    if (req.bearerToken) headers.authorization = `Bearer ${req.bearerToken}`;
    const r = (https ? httpsRequest : httpRequest)(req.url, { method: 'GET', headers, agent: https ? httpsAgent(req) : httpAgent }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        fail(new ScrapeError('http_status', `server returned HTTP status ${status} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
      let stream: NodeJS.ReadableStream = res;
      if (encoding === 'gzip') {
        const gunzip = createGunzip();
        gunzip.on('error', (e) => fail(new ScrapeError('encoding', `invalid gzip body: ${e.message}`)));
        stream = res.pipe(gunzip);
      } else if (encoding !== '' && encoding !== 'identity') {
        res.resume();
        fail(new ScrapeError('encoding', `unsupported Content-Encoding "${encoding}"`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > req.maxBodyBytes) {
          fail(new ScrapeError('too_large', `body size limit of ${req.maxBodyBytes} bytes exceeded`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ body: Buffer.concat(chunks, bytes).toString('utf8'), contentType: res.headers['content-type'], bytes });
      });
      res.on('error', (e) => fail(new ScrapeError('connect', e.message)));
    });
    r.on('error', (e) => fail(new ScrapeError('connect', e.message)));
    const timer = setTimeout(() => fail(new ScrapeError('timeout', `scrape timed out after ${req.timeoutMs} ms`)), req.timeoutMs);
    r.end();
  });
}

/** Closes the keep-alive sockets (at agent shutdown and in tests). */
export function closeScrapeAgents(): void {
  httpAgent.destroy();
  for (const a of httpsAgents.values()) a.destroy();
  httpsAgents.clear();
}
