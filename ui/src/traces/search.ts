/**
 * The trace search's view state in the URL and what it sends to the API. Pure (tested in search.test.ts):
 * filters (`service`, `operation`, `minDuration`, `maxDuration`, `status`, repeated `attr=key=value`) and the
 * page (`cursors`: the cursors of the pages walked so far, dot-separated, the last one the current page; a
 * cursor is base64url, so a dot never occurs in one). Any filter change goes back to the first page.
 */
import { oneOf, text } from '../shared/url/state.ts';

export const STATUSES = ['', 'Error', 'Ok', 'Unset'] as const;

export const SEARCH_SCHEMA = {
  service: text(),
  operation: text(),
  minDuration: text(),
  maxDuration: text(),
  status: oneOf(STATUSES, ''),
  cursors: text(),
};

/** Traces per page. */
export const PAGE_SIZE = 50;

/** A duration the API accepts: nanoseconds, or number-unit parts (250ms, 1.5s, 1m30s). Empty is "no bound". */
export function validDuration(s: string): boolean {
  const t = s.trim();
  return t === '' || /^\d+(\.\d+)?$/.test(t) || /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(t);
}

/** `key=value` with a non-empty key. */
export function validAttr(s: string): boolean {
  return s.indexOf('=') > 0;
}

export function cursorStack(raw: string): string[] {
  return raw === '' ? [] : raw.split('.').filter((c) => /^[A-Za-z0-9_-]{1,128}$/.test(c));
}

/** A duration for the URL from nanoseconds, rounded to 3 significant digits in the largest fitting unit. */
export function durationParam(ns: number): string {
  const units: [string, number][] = [
    ['s', 1e9],
    ['ms', 1e6],
    ['us', 1e3],
  ];
  for (const [u, f] of units) if (ns >= f) return `${Number((ns / f).toPrecision(3))}${u}`;
  return `${Math.max(0, Math.round(ns))}`;
}

export interface SearchFilters {
  service: string;
  operation: string;
  minDuration: string;
  maxDuration: string;
  status: (typeof STATUSES)[number];
  attrs: readonly string[];
}

/** The API's filter parameters: empty and invalid values left out (the page shows why they are ignored). */
export function apiFilters(f: SearchFilters) {
  return {
    service: f.service || undefined,
    operation: (f.service && f.operation) || undefined,
    minDuration: f.minDuration && validDuration(f.minDuration) ? f.minDuration.trim() : undefined,
    maxDuration: f.maxDuration && validDuration(f.maxDuration) ? f.maxDuration.trim() : undefined,
    status: f.status || undefined,
    attr: f.attrs.filter(validAttr),
  };
}
