/**
 * The result list: one line per record (time, severity, service, body), virtualized (TanStack Virtual: only
 * the rows in view are in the DOM, so 10,000 lines scroll like 50) with a fixed row height. Scrolling near the
 * end asks for the next (older) page. In live tail new lines arrive on top; when the user has scrolled down,
 * the view is shifted by the rows added so what they read stays put.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useEffect, useLayoutEffect, useRef } from 'react';
import type { LogRecord } from '../../../query/contract.ts';
import { formatLogTime, oneLine, recordKey, severityClass, severityLabel } from './record.ts';

export const ROW_HEIGHT = 26;

export interface LogListProps {
  records: readonly LogRecord[];
  /** The keyboard cursor (j/k), an index into records. */
  cursor: number;
  openKey: string;
  onOpen: (r: LogRecord, index: number) => void;
  /** Called when the last rows come into view. */
  onNearEnd?: (() => void) | undefined;
  footer?: ReactNode;
  /** Keep the reader's place when lines are added on top (live tail). */
  anchorTop?: boolean;
}

export function LogList({ records, cursor, openKey, onOpen, onNearEnd, footer, anchorTop = false }: LogListProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: records.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1]?.index ?? -1;

  useEffect(() => {
    if (onNearEnd && records.length > 0 && last >= records.length - 40) onNearEnd();
  }, [last, records.length, onNearEnd]);

  // Live tail: lines added above the first one we showed push the reader's place down by that many rows.
  const firstKey = useRef<string | undefined>(undefined);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const first = records[0] ? recordKey(records[0]) : undefined;
    if (anchorTop && el && firstKey.current !== undefined && first !== firstKey.current && el.scrollTop > 0) {
      const added = records.findIndex((r) => recordKey(r) === firstKey.current);
      if (added > 0) el.scrollTop += added * ROW_HEIGHT;
    }
    firstKey.current = first;
  }, [records, anchorTop]);

  useEffect(() => {
    if (cursor >= 0 && cursor < records.length) virtual.scrollToIndex(cursor, { align: 'auto' });
  }, [cursor, records.length, virtual]);

  return (
    <div className="log-list" ref={scrollRef} role="list" aria-label="Log records" data-testid="log-list">
      <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
        {items.map((it) => {
          const r = records[it.index]!;
          const key = recordKey(r);
          const cls = severityClass(r.severityNumber).toLowerCase();
          return (
            <div
              key={key}
              role="listitem"
              className={`log-row${it.index === cursor ? ' cursor' : ''}${key === openKey ? ' open' : ''}`}
              style={{ transform: `translateY(${it.start}px)`, height: ROW_HEIGHT }}
              data-index={it.index}
              data-key={key}
              aria-current={key === openKey ? 'true' : undefined}
              onClick={() => onOpen(r, it.index)}
            >
              <span className="log-time">{formatLogTime(r.time)}</span>
              <span className={`log-sev sev-text sev-${cls}`}>{severityLabel(r)}</span>
              <span className="log-service" title={r.serviceName}>
                {r.serviceName}
              </span>
              <span className="log-body">{oneLine(r.body, 600)}</span>
            </div>
          );
        })}
      </div>
      {footer !== undefined && <div className="log-list-footer">{footer}</div>}
    </div>
  );
}
