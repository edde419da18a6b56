/**
 * Severity of a log record, from what the application wrote: a level field of a JSON body (`level`, `severity`,
 * `lvl`, `log.level`, …), else a level word at the start of the text (`ERROR …`, `[warn] …`, `2024-01-02 03:04:05
 * INFO …`, logfmt `level=error`, klog's `E0102 …`), else a few unmistakable shapes (`panic:`, `Traceback (most
 * recent call last):`, `Exception in thread`). Undefined when nothing says: the stream alone never decides, since
 * many programs write everything, or their banner and progress, to stderr.
 *
 * Numbers follow OpenTelemetry's SeverityNumber ranges (TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20,
 * FATAL 21-24); the text is the word as written, upper-cased, so the store's severity filters work.
 */

export interface Severity {
  number: number;
  text: string;
}

const WORDS: Readonly<Record<string, number>> = {
  trace: 1,
  finest: 1,
  finer: 2,
  fine: 3,
  debug: 5,
  dbg: 5,
  info: 9,
  information: 9,
  informational: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  wrn: 13,
  error: 17,
  err: 17,
  eror: 17,
  severe: 17,
  critical: 18,
  crit: 18,
  alert: 19,
  emerg: 21,
  emergency: 21,
  fatal: 21,
  panic: 21,
};

/** syslog / Bunyan-style numeric levels found in JSON `level` fields. */
function fromNumber(n: number): Severity | undefined {
  // Bunyan/pino: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
  const pino: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  const t = pino[n];
  if (t !== undefined) return { number: WORDS[t.toLowerCase()]!, text: t };
  // syslog: 0 emerg … 7 debug.
  const syslog = ['EMERG', 'ALERT', 'CRIT', 'ERROR', 'WARN', 'NOTICE', 'INFO', 'DEBUG'];
  const s = Number.isInteger(n) && n >= 0 && n <= 7 ? syslog[n] : undefined;
  if (s !== undefined) return { number: WORDS[s.toLowerCase()]!, text: s };
  return undefined;
}

export function fromWord(word: string): Severity | undefined {
  const n = WORDS[word.toLowerCase()];
  return n === undefined ? undefined : { number: n, text: word.toUpperCase() };
}

const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log.level', 'levelname', 'severity_text', 'severityText', '@l', 'log_level'];

/** From the fields of a JSON body. */
export function severityOfFields(fields: Readonly<Record<string, unknown>>): Severity | undefined {
  for (const key of LEVEL_KEYS) {
    const v = fields[key];
    if (typeof v === 'string') {
      const s = fromWord(v.trim());
      if (s) return s;
    } else if (typeof v === 'number') {
      const s = fromNumber(v);
      if (s) return s;
    }
  }
  const log = fields['log'];
  if (typeof log === 'object' && log !== null && typeof (log as Record<string, unknown>)['level'] === 'string') return fromWord((log as Record<string, string>)['level']!);
  return undefined;
}

// A level word near the start: alone, in brackets, or after a timestamp; upper case, or any case in brackets.
const LEADING = /^(?:\S+[ T]\S+\s+|\S+\s+)?\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|ALERT|EMERG|FATAL|PANIC|SEVERE)\]?(?=[\s:|\]-]|$)/;
const BRACKETED = /^\s*(?:\S+\s+){0,2}\[(trace|debug|info|notice|warn|warning|error|err|critical|crit|alert|emerg|fatal|panic)\]/i;
const LOGFMT = /(?:^|\s)(?:level|lvl|severity)=["']?([A-Za-z]+)/;
const KLOG = /^([IWEF])\d{4} \d\d:\d\d:\d\d\.\d{6}/;
const KLOG_LEVEL: Record<string, Severity> = { I: { number: 9, text: 'INFO' }, W: { number: 13, text: 'WARN' }, E: { number: 17, text: 'ERROR' }, F: { number: 21, text: 'FATAL' } };
const SHAPES: [RegExp, Severity][] = [
  [/^panic: /, { number: 21, text: 'FATAL' }],
  [/^Traceback \(most recent call last\):/, { number: 17, text: 'ERROR' }],
  [/^Exception in thread "/, { number: 17, text: 'ERROR' }],
];

/** From the text of a record (its first line matters). */
export function severityOfText(text: string): Severity | undefined {
  const head = text.length > 200 ? text.slice(0, 200) : text;
  const klog = KLOG.exec(head);
  if (klog) return KLOG_LEVEL[klog[1]!];
  const m = LEADING.exec(head) ?? BRACKETED.exec(head);
  if (m) return fromWord(m[1]!);
  const l = LOGFMT.exec(head);
  if (l) {
    const s = fromWord(l[1]!);
    if (s) return s;
  }
  for (const [re, s] of SHAPES) if (re.test(head)) return s;
  return undefined;
}
