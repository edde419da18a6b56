/** Content negotiation for the few answers the query role compresses itself (large traces, the UI's pages). */

/**
 * Whether an Accept-Encoding header allows `coding` with a non-zero q. `*` stands for gzip only: a client that
 * says `*` is old or generic, and gzip is the coding every one of those decodes.
 */
export function acceptsEncoding(header: string | undefined, coding: 'gzip' | 'br'): boolean {
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const n = name.trim();
    if (n !== coding && !(coding === 'gzip' && n === '*')) continue;
    const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  }
  return false;
}

/** Whether an Accept-Encoding header allows gzip (`gzip` or `*`, with a non-zero q). */
export const acceptsGzip = (header: string | undefined): boolean => acceptsEncoding(header, 'gzip');
