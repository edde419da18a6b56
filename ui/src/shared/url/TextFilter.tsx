/**
 * A text box whose value lives in the URL. The box keeps its own draft: a router update lands a moment after the
 * keystroke, and an input controlled by the URL alone dropped characters typed faster than that (found by the
 * browser test typing "cart" and getting "ct"). The URL still follows every keystroke (replacing the entry), and
 * a URL change from elsewhere (back/forward) replaces the draft.
 */
import { type InputHTMLAttributes, useEffect, useRef, useState } from 'react';

export function TextFilter({ value, onValue, ...rest }: { value: string; onValue: (v: string) => void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  const [draft, setDraft] = useState(value);
  const written = useRef(value);
  useEffect(() => {
    if (value !== written.current) {
      written.current = value;
      setDraft(value);
    }
  }, [value]);
  return (
    <input
      {...rest}
      value={draft}
      onChange={(e) => {
        setDraft(e.target.value);
        written.current = e.target.value;
        onValue(e.target.value);
      }}
    />
  );
}
