/**
 * One raw line of a container log file → an entry: time, stream, whether it is a partial piece, and its text.
 *
 * Formats, detected per line (a file holds one of them, but detecting per line costs one byte test and survives a
 * runtime switch after a node upgrade):
 * - CRI (containerd, CRI-O): `<RFC3339Nano time> <stdout|stderr> <tag> <text>`, the tag `P` (partial: the runtime
 *   split a long line, more follows) or `F` (full: the line ends here), possibly with more `:`-separated tags.
 *   An empty text is legal (`... stdout F ` or without the trailing space).
 * - Docker json-file: `{"log":"text\n","stream":"stdout","time":"..."}`. A `log` without a trailing `\n` is a
 *   partial piece (Docker splits lines at 16 KiB).
 * - Anything else (a plain file tailed in host mode, or a line a runtime garbled): the whole line is the text, on
 *   stdout, with no time of its own (`timeNs` 0: the forwarder then sets the observed time).
 *
 * Times are kept as nanoseconds since the epoch in a bigint: RFC 3339 nanoseconds do not fit a double. The
 * seconds part is parsed once per distinct second (lines of one second share it), so a busy file costs one
 * `Date.parse` per second, not per line.
 */

export type Stream = 'stdout' | 'stderr';

export type LogFormat = 'cri' | 'docker' | 'plain';

export interface Entry {
  /** Nanoseconds since the epoch; 0n when the line carried no time (plain files). */
  timeNs: bigint;
  stream: Stream;
  /** More of this line follows in the next entry of the same stream. */
  partial: boolean;
  text: string;
  format: LogFormat;
}

const SPACE = 0x20;
const BRACE = 0x7b;

// The last distinct second seen (`2024-01-02T03:04:05`) and its zone (`Z`, `+01:00`), validated, and its ns.
let lastSecond = '';
let lastZone = '';
let lastSecondNs = 0n;

/**
 * RFC 3339 with up to 9 fraction digits and `Z` or a `±hh:mm` offset, as the runtimes write it. Undefined when the
 * text is not such a time.
 */
export function parseRfc3339Nano(s: string): bigint | undefined {
  return timeAt(s, s.length);
}

/** The time in `s[0, end)`, without slicing `s` when its second and zone are the last ones seen (lines of one second). */
function timeAt(s: string, end: number): bigint | undefined {
  // 2024-01-02T03:04:05[.fraction](Z|+hh:mm)
  if (end < 20 || s.charCodeAt(4) !== 0x2d || s.charCodeAt(10) !== 0x54) return undefined;
  let i = 19;
  let frac = 0;
  let digits = 0;
  if (s.charCodeAt(i) === 0x2e) {
    i++;
    while (i < end) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (digits < 9) {
        frac = frac * 10 + c;
        digits++;
      }
      i++;
    }
    if (digits === 0) return undefined;
  }
  for (let d = digits; d < 9; d++) frac *= 10;
  let base: bigint;
  if (end - i === lastZone.length && s.startsWith(lastZone, i) && s.startsWith(lastSecond)) base = lastSecondNs;
  else {
    const second = s.slice(0, 19);
    const zone = s.slice(i, end);
    if (zone !== 'Z' && !/^[+-]\d\d:\d\d$/.test(zone)) return undefined;
    const ms = Date.parse(second + zone);
    if (Number.isNaN(ms)) return undefined;
    base = BigInt(ms) * 1_000_000n;
    lastSecond = second;
    lastZone = zone;
    lastSecondNs = base;
  }
  return frac === 0 ? base : base + BigInt(frac);
}

function plain(line: string): Entry {
  return { timeNs: 0n, stream: 'stdout', partial: false, text: line, format: 'plain' };
}

/** A CRI line; undefined when it is not one. Reads the line in place: one slice (the text) per line. */
export function parseCri(line: string): Entry | undefined {
  const s1 = line.indexOf(' ');
  if (s1 < 20) return undefined;
  let stream: Stream;
  if (line.startsWith('stdout ', s1 + 1)) stream = 'stdout';
  else if (line.startsWith('stderr ', s1 + 1)) stream = 'stderr';
  else return undefined;
  const t = s1 + 8; // the tag's first character
  // The tag: `P` or `F`, possibly followed by more `:`-separated tags; then a space and the text, or the end.
  const tag = line.charCodeAt(t);
  if (tag !== 0x50 && tag !== 0x46) return undefined;
  let s3 = line.indexOf(' ', t);
  // "<time> stdout F" with nothing after the tag: an empty line.
  if (s3 === -1) s3 = line.length;
  if (s3 !== t + 1 && line.charCodeAt(t + 1) !== 0x3a) return undefined;
  const timeNs = timeAt(line, s1);
  if (timeNs === undefined) return undefined;
  return { timeNs, stream, partial: tag === 0x50, text: s3 >= line.length ? '' : line.slice(s3 + 1), format: 'cri' };
}

/** A Docker json-file line; undefined when it is not one. */
export function parseDocker(line: string): Entry | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const { log, stream, time } = doc as Record<string, unknown>;
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof time !== 'string') return undefined;
  const timeNs = parseRfc3339Nano(time);
  if (timeNs === undefined) return undefined;
  const full = log.endsWith('\n');
  return { timeNs, stream, partial: !full, text: full ? log.slice(0, log.endsWith('\r\n') ? -2 : -1) : log, format: 'docker' };
}

/** The entry of one raw line (without its `\n`), whatever its format. */
export function parseLine(line: string): Entry {
  const c = line.charCodeAt(0);
  if (c === BRACE) return parseDocker(line) ?? plain(line);
  if (c >= 0x30 && c <= 0x39 && line.charCodeAt(4) === 0x2d) return parseCri(line) ?? plain(line);
  if (c === SPACE) return plain(line);
  return plain(line);
}
