/**
 * A sortable table (TanStack Table: headless sorting and column definitions) whose rows are virtualized
 * (TanStack Virtual: only rows in view are in the DOM, so a thousand services scroll like ten). The sort is
 * controlled by the caller, who keeps it in the URL. Keyboard: ↑/↓ move between rows (each row's first link or
 * input takes focus), Enter follows it.
 */
import { type ColumnDef, type SortingState, flexRender, getCoreRowModel, getSortedRowModel, useReactTable } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, type ReactNode, useRef } from 'react';

export interface DataTableProps<T> {
  data: T[];
  // TanStack's column type is invariant in the cell value; callers mix value types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  columns: ColumnDef<T, any>[];
  label: string;
  sorting?: SortingState;
  onSortingChange?: (s: SortingState) => void;
  rowId: (row: T) => string;
  rowHeight?: number;
  /** Scroll inside the table beyond this height (px). */
  maxHeight?: number;
  testId?: string;
  /**
   * Shown across the body while there are no rows (e.g. the rows' request is in flight). A page that renders its
   * table this way while it waits, instead of a spinner in its place, has the table mounted and measured when
   * the rows arrive, so only the rows are drawn then (measured on /services: the first rows came 50-100 ms after
   * their response when the whole table mounted with them).
   */
  placeholder?: ReactNode;
}

export function DataTable<T>({ data, columns, label, sorting, onSortingChange, rowId, rowHeight = 38, maxHeight = 640, testId, placeholder }: DataTableProps<T>) {
  const table = useReactTable({
    data,
    columns,
    getRowId: rowId,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    ...(sorting
      ? {
          state: { sorting },
          manualSorting: false,
          onSortingChange: (u) => onSortingChange?.(typeof u === 'function' ? u(sorting) : u),
        }
      : {}),
  });
  const rows = table.getRowModel().rows;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 12 });
  const items = virtual.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length > 0 ? virtual.getTotalSize() - items[items.length - 1]!.end : 0;
  const colCount = table.getVisibleLeafColumns().length;

  const focusRow = (index: number) => {
    if (index < 0 || index >= rows.length) return;
    virtual.scrollToIndex(index, { align: 'auto' });
    // The row may only be rendered after the scroll. Its first link or input takes focus (a selector list would
    // return the row itself, which comes first in document order and cannot take focus).
    requestAnimationFrame(() => {
      const tr = scrollRef.current?.querySelector<HTMLElement>(`tr[data-index="${index}"]`);
      (tr?.querySelector<HTMLElement>('a, input') ?? tr)?.focus();
    });
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const tr = (e.target as HTMLElement).closest('tr');
    const index = Number(tr?.dataset['index'] ?? -1);
    e.preventDefault();
    focusRow(e.key === 'ArrowDown' ? index + 1 : index - 1);
  };

  return (
    <div className="table-scroll" ref={scrollRef} style={{ maxHeight }} data-testid={testId}>
      <table aria-label={label} aria-rowcount={rows.length + 1}>
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => {
                const sorted = h.column.getIsSorted();
                const meta = h.column.columnDef.meta as { numeric?: boolean } | undefined;
                return (
                  <th key={h.id} className={meta?.numeric ? 'num' : undefined} aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}>
                    {h.column.getCanSort() ? (
                      <button type="button" className="sort" onClick={h.column.getToggleSortingHandler()}>
                        {flexRender(h.column.columnDef.header, h.getContext())}
                        <span aria-hidden="true">{sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}</span>
                      </button>
                    ) : (
                      flexRender(h.column.columnDef.header, h.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody onKeyDown={onKeyDown}>
          {rows.length === 0 && placeholder !== undefined && (
            <tr>
              <td colSpan={colCount} className="table-placeholder">
                {placeholder}
              </td>
            </tr>
          )}
          {padTop > 0 && (
            <tr aria-hidden="true">
              <td colSpan={colCount} style={{ height: padTop, padding: 0, border: 0 }} />
            </tr>
          )}
          {items.map((vi) => {
            const row = rows[vi.index]!;
            return (
              <tr key={row.id} data-index={vi.index} style={{ height: rowHeight }} data-row={row.id}>
                {row.getVisibleCells().map((cell) => {
                  const meta = cell.column.columnDef.meta as { numeric?: boolean } | undefined;
                  return (
                    <td key={cell.id} className={meta?.numeric ? 'num' : undefined} data-col={cell.column.id}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  );
                })}
              </tr>
            );
          })}
          {padBottom > 0 && (
            <tr aria-hidden="true">
              <td colSpan={colCount} style={{ height: padBottom, padding: 0, border: 0 }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
