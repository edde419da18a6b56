/** The header's time controls: presets 5m…7d, an absolute window, zoom out, auto-refresh, refresh now. */
import { type FormEvent, useState } from 'react';
import { useTime } from './context.tsx';
import { PRESETS, REFRESH_CHOICES, describeRange, relative, zoomOut } from './range.ts';

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

export function TimePicker() {
  const t = useTime();
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<string>();

  const openPanel = () => {
    setFrom(toLocalInput(t.resolved.startMs));
    setTo(toLocalInput(t.resolved.endMs));
    setError(undefined);
    setOpen(!open);
  };

  const applyAbsolute = (e: FormEvent) => {
    e.preventDefault();
    const f = new Date(from).getTime();
    const tt = new Date(to).getTime();
    if (Number.isNaN(f) || Number.isNaN(tt)) return setError('Both times are needed.');
    if (f >= tt) return setError('The start must be before the end.');
    t.setRange({ kind: 'absolute', fromMs: f, toMs: tt });
    setOpen(false);
  };

  return (
    <div className="time-picker">
      <button type="button" className="btn" aria-haspopup="dialog" aria-expanded={open} onClick={openPanel} data-testid="time-range">
        {describeRange(t.range)}
      </button>
      <button type="button" className="btn" title="Zoom out (twice the window)" aria-label="Zoom out" onClick={() => t.setRange(zoomOut(t.resolved, Date.now()))}>
        −
      </button>
      <label className="refresh">
        <span className="sr-only">Auto-refresh</span>
        <select value={t.refreshText} onChange={(e) => t.setRefresh(e.target.value)} aria-label="Auto-refresh" data-testid="refresh-select">
          {REFRESH_CHOICES.map((c) => (
            <option key={c} value={c}>
              {c === 'off' ? 'Auto-refresh off' : `Every ${c}`}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn" onClick={t.refresh} title="Refresh now (r)" aria-label="Refresh now">
        ⟳
      </button>
      {open && (
        <div className="popover" role="dialog" aria-label="Time range">
          <div className="presets">
            {PRESETS.map((p) => (
              <button
                type="button"
                key={p}
                className={`chip ${t.range.kind === 'relative' && t.range.text === p ? 'active' : ''}`}
                onClick={() => {
                  const r = relative(p);
                  if (r) t.setRange(r);
                  setOpen(false);
                }}
              >
                Last {p}
              </button>
            ))}
          </div>
          <form onSubmit={applyAbsolute} className="absolute">
            <label>
              From <input type="datetime-local" step="1" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              To <input type="datetime-local" step="1" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
            <button type="submit" className="btn primary">
              Apply
            </button>
            {error && <p className="form-error">{error}</p>}
          </form>
          <p className="hint">Tip: drag across any time chart to zoom into that window.</p>
        </div>
      )}
    </div>
  );
}
