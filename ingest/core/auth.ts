/**
 * Bearer-token check shared by the ingest receivers and the query API. Tokens come from config; with none
 * configured, authentication is off. Comparison is constant-time so a token cannot be guessed byte by byte.
 */
import { timingSafeEqual } from 'node:crypto';

export function tokenMatches(header: string | undefined, tokens: readonly string[]): boolean {
  if (header === undefined) return false;
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  let ok = false;
  for (const t of tokens) {
    const want = Buffer.from(t);
    // timingSafeEqual needs equal lengths; compare against itself on mismatch to keep the timing flat.
    const same = given.length === want.length ? timingSafeEqual(given, want) : (timingSafeEqual(want, want), false);
    ok = ok || same;
  }
  return ok;
}

export function authEnabled(tokens: readonly string[] | undefined): tokens is readonly string[] {
  return tokens !== undefined && tokens.length > 0;
}
