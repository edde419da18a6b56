/**
 * The shared time range as the pages use it: read from the URL (`from`, `to`, `refresh`), resolved against a
 * `now` that moves only on a refresh (manual, automatic, or a new range), so every query of one refresh covers
 * exactly the same window and the figures of a page agree with each other.
 */
import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { type Resolved, type TimeRange, formatRange, parseRange, parseRefresh, resolve } from './range.ts';

export interface TimeState {
  range: TimeRange;
  /** Why the URL's range was ignored, if it was. */
  rangeError: string | undefined;
  resolved: Resolved;
  /** Auto-refresh interval in ms, undefined when off. */
  refreshMs: number | undefined;
  refreshText: string;
  setRange: (range: TimeRange) => void;
  setRefresh: (text: string) => void;
  /** Re-resolves a relative range at now and refetches everything on screen. */
  refresh: () => void;
}

const TimeContext = createContext<TimeState | undefined>(undefined);

/**
 * `nowMs`: the moment a relative range is first resolved at, when the caller already resolved it (main.tsx, whose
 * prefetch of the first page must send the very same window the page will ask for); default: the first render.
 */
export function TimeProvider({ children, nowMs: initialNow }: { children: ReactNode; nowMs?: number }) {
  const [params, setParams] = useSearchParams();
  const client = useQueryClient();
  const from = params.get('from');
  const to = params.get('to');
  const refreshRaw = params.get('refresh');
  const { range, error } = useMemo(() => parseRange(from, to), [from, to]);
  const [at, setAt] = useState(() => ({ from, to, nowMs: initialNow ?? Date.now() }));
  // A new range is looked at from now, decided while rendering (not in an effect), so no render and no query
  // ever sees the new range with the old now; and only on a change: at mount the range was just resolved, and
  // resolving it again a moment later (in another second) would move every query's window, wasting a prefetch
  // made for the first one and sending its request twice.
  if (at.from !== from || at.to !== to) setAt({ from, to, nowMs: Date.now() });
  const nowMs = at.nowMs;
  const refreshMs = parseRefresh(refreshRaw);

  const refresh = useCallback(() => {
    setAt((a) => ({ ...a, nowMs: Date.now() }));
    // An absolute range keeps its keys: refetch what is on screen (the pipeline polls on its own).
    void client.invalidateQueries({ predicate: (q) => q.queryKey[0] !== '/pipeline' });
  }, [client]);

  useEffect(() => {
    if (refreshMs === undefined) return;
    const id = window.setInterval(refresh, refreshMs);
    return () => window.clearInterval(id);
  }, [refreshMs, refresh]);

  const value = useMemo<TimeState>(
    () => ({
      range,
      rangeError: error,
      resolved: resolve(range, nowMs),
      refreshMs,
      refreshText: refreshMs === undefined ? 'off' : (refreshRaw ?? 'off'),
      setRange(next) {
        setParams((prev) => {
          const sp = new URLSearchParams(prev);
          const { from: f, to: t } = formatRange(next);
          if (f === null) sp.delete('from');
          else sp.set('from', f);
          if (t === null) sp.delete('to');
          else sp.set('to', t);
          return sp;
        });
      },
      setRefresh(text) {
        setParams((prev) => {
          const sp = new URLSearchParams(prev);
          if (parseRefresh(text) === undefined) sp.delete('refresh');
          else sp.set('refresh', text);
          return sp;
        });
      },
      refresh,
    }),
    [range, error, nowMs, refreshMs, refreshRaw, setParams, refresh],
  );
  return <TimeContext.Provider value={value}>{children}</TimeContext.Provider>;
}

export function useTime(): TimeState {
  const t = useContext(TimeContext);
  if (t === undefined) throw new Error('useTime outside <TimeProvider>');
  return t;
}
