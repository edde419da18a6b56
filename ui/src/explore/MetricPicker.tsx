/**
 * The metric picker: a combobox (WAI-ARIA pattern) over the catalogue. Typing filters (catalogue.ts), ↑/↓ move
 * through the list, Enter picks, Esc puts the current metric back; each entry shows its type, unit and
 * description. The first query's picker is the page's `/` target. The list renders at most LIST_CAP entries
 * and says how many more match, so 5,000 metrics open instantly.
 */
import { useId, useMemo, useRef, useState } from 'react';
import type { MetricInfo } from '../../../query/contract.ts';
import { describeUnit } from '../shared/format/units.ts';
import { kindLabel, searchMetrics } from './catalogue.ts';

const LIST_CAP = 200;

export function MetricPicker({
  metrics,
  value,
  loading,
  onPick,
  searchTarget,
  label,
}: {
  metrics: readonly MetricInfo[];
  value: string;
  loading: boolean;
  onPick: (m: MetricInfo) => void;
  /** The page's `/` shortcut focuses this picker. */
  searchTarget: boolean;
  label: string;
}) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const listId = useId();
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const found = useMemo(() => (open ? searchMetrics(metrics, text) : []), [metrics, text, open]);
  const shown = found.slice(0, LIST_CAP);

  const move = (to: number) => {
    const i = Math.max(0, Math.min(shown.length - 1, to));
    setActive(i);
    list.current?.querySelector(`[data-i="${i}"]`)?.scrollIntoView({ block: 'nearest' });
  };
  const pick = (m: MetricInfo | undefined) => {
    if (!m) return;
    onPick(m);
    setOpen(false);
    setText('');
    input.current?.blur();
  };

  return (
    <div className="metric-picker">
      <input
        ref={input}
        type="search"
        role="combobox"
        aria-label={label}
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && shown[active] ? `${listId}-${active}` : undefined}
        placeholder={value === '' ? (searchTarget ? 'Pick a metric  ( / )' : 'Pick a metric') : value}
        value={open ? text : value}
        spellCheck={false}
        {...(searchTarget ? { 'data-search': true } : {})}
        onFocus={() => {
          setOpen(true);
          setText('');
          setActive(0);
        }}
        onBlur={() => setOpen(false)}
        onChange={(e) => {
          setText(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') move(active + 1);
          else if (e.key === 'ArrowUp') move(active - 1);
          else if (e.key === 'PageDown') move(active + 10);
          else if (e.key === 'PageUp') move(active - 10);
          else if (e.key === 'Enter') pick(shown[active]);
          else if (e.key === 'Escape') {
            setOpen(false);
            input.current?.blur();
          } else return;
          e.preventDefault();
        }}
      />
      {open && (
        <div className="picker-pop" role="presentation">
          {loading && metrics.length === 0 ? (
            <p className="hint">Loading the metric catalogue…</p>
          ) : found.length === 0 ? (
            <p className="hint">
              {metrics.length === 0
                ? 'No metric has data points in this time range. Widen the range, or send metrics over OTLP (/v1/metrics).'
                : `No metric matches "${text}". Words match names and descriptions.`}
            </p>
          ) : (
            <ul id={listId} role="listbox" ref={list} aria-label="Metrics" className="picker-list">
              {shown.map((m, i) => (
                <li
                  key={`${m.name}\u0000${m.type}`}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === active}
                  data-i={i}
                  data-metric={m.name}
                  className={i === active ? 'active' : undefined}
                  // mousedown, not click: a click lands after the input's blur has closed the list.
                  onMouseDown={(e) => {
                    e.preventDefault();
                    pick(m);
                  }}
                  onMouseMove={() => setActive(i)}
                >
                  <span className="metric-name">{m.name}</span>
                  <span className={`type-badge t-${m.type}`}>{kindLabel(m)}</span>
                  {m.unit !== '' && m.unit !== '1' && <span className="muted unit">{describeUnit(m.unit) || m.unit}</span>}
                  {m.description !== '' && <span className="muted desc">{m.description}</span>}
                </li>
              ))}
            </ul>
          )}
          {found.length > shown.length && <p className="hint">{found.length - shown.length} more match; type to narrow.</p>}
        </div>
      )}
    </div>
  );
}
