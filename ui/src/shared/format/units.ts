/**
 * Values with a unit, as metrics carry them: OpenTelemetry writes units in UCUM (`By`, `KiBy`, `s`, `ms`, `us`,
 * `ns`, `%`, `1`, `Cel`, `{request}`, and per-second forms `By/s`, `{request}/s`). One place decides how each
 * reads, so the explorer's axis, tooltip and table and the browser test that compares them with the API agree:
 * - bytes in binary multiples (`1.50 MiB`), per second as `1.50 MiB/s`;
 * - time units as durations (`12.3ms`, `1.5s`, `2m05s`);
 * - `%` as is, `1` (a dimensionless ratio, as OTel's `*.utilization`) as a plain number;
 * - annotations (`{request}`) dropped from the number (`12.3/s`); the unit is named in headers instead;
 * - anything else: a compact number (`12.3k`) and the unit (`7 widgets`; `Cel` as `21.5 °C`).
 * Numbers keep three significant digits; exact values are in the API (and in the table cells' titles).
 */
import { formatDurationNs } from './format.ts';

const SI = [
  { at: 1e12, suffix: 'T' },
  { at: 1e9, suffix: 'G' },
  { at: 1e6, suffix: 'M' },
  { at: 1e3, suffix: 'k' },
];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const BYTE_UNITS: Record<string, number> = { By: 1, KiBy: 1024, MiBy: 1024 ** 2, GiBy: 1024 ** 3, TiBy: 1024 ** 4, kBy: 1e3, MBy: 1e6, GBy: 1e9, TBy: 1e12 };
const TIME_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, min: 60e9, h: 3600e9, d: 86_400e9 };

/** Three significant digits, trailing zeros dropped (`1.5`, `12.3`, `123`, `0.00123`). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '–' : v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) {
    const s = SI.find((x) => a >= x.at)!;
    return `${trim(v / s.at)}${s.suffix}`;
  }
  return trim(v);
}

function trim(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return String(Math.round(v));
  // toPrecision keeps three significant digits for small values too (0.00123); Number() drops trailing zeros.
  return String(Number(v.toPrecision(3)));
}

function bytes(v: number): string {
  let a = Math.abs(v);
  let i = 0;
  while (a >= 1024 && i < BINARY.length - 1) {
    a /= 1024;
    i++;
  }
  return `${trim(Math.sign(v) * a)} ${BINARY[i]}`;
}

/** `{request}/s` → `/s`, `{request}` → ''. */
function stripAnnotations(unit: string): string {
  return unit.replace(/\{[^}]*\}/g, '').trim();
}

/** A value in a UCUM unit, for reading (see the module comment). */
export function formatUnit(v: number, unit: string): string {
  if (!Number.isFinite(v)) return formatNumber(v);
  const perSecond = unit.endsWith('/s');
  const base = perSecond ? unit.slice(0, -2) : unit;
  const per = perSecond ? '/s' : '';
  const byteScale = BYTE_UNITS[base];
  if (byteScale !== undefined) return `${bytes(v * byteScale)}${per}`;
  const ns = TIME_NS[base];
  if (ns !== undefined && !perSecond) {
    if (v === 0) return '0s';
    return v < 0 ? `-${formatDurationNs(-v * ns)}` : formatDurationNs(v * ns);
  }
  if (base === '%') return `${formatNumber(v)}%${per}`;
  const rest = stripAnnotations(base);
  if (rest === '' || rest === '1') return `${formatNumber(v)}${per}`;
  return `${formatNumber(v)} ${rest === 'Cel' ? '°C' : rest}${per}`;
}

/** The unit as a header reads it: `By` → `bytes`, `{request}/s` → `requests/s`, `ms` → `ms`, '' → ''. */
export function describeUnit(unit: string): string {
  const perSecond = unit.endsWith('/s');
  const base = perSecond ? unit.slice(0, -2) : unit;
  const names: Record<string, string> = { By: 'bytes', KiBy: 'KiB', MiBy: 'MiB', GiBy: 'GiB', '1': '', '%': '%', Cel: '°C' };
  let name = names[base] ?? base;
  const ann = /^\{([^}]*)\}$/.exec(base);
  if (ann) name = `${ann[1]}s`;
  if (perSecond) return name === '' ? 'per second' : `${name}/s`;
  return name;
}
