/**
 * A text box whose value lives in the URL. The box keeps its own draft: a router update lands a moment after the
 * keystroke, and an input controlled by the URL alone dropped characters typed faster than that (found by the
 * browser test typing "cart" and getting "ct"). The URL still follows every keystroke (replacing the entry), and
 * a URL change from elsewhere (back/forward) replaces the draft. Which URL values are our own, late, is told by
 * `Echoes`: comparing with the last value written alone took "c" arriving after "ca" was typed for an outside change
 * and reset the draft ("cart" became "cat" in CI).
 */
import { type InputHTMLAttributes, useEffect, useRef, useState } from 'react';
import { Echoes } from './echoes.ts';

export function TextFilter({ value, onValue, ...rest }: { value: string; onValue: (v: string) => void } & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'>) {
  const [draft, setDraft] = useState(value);
  const echoes = useRef(new Echoes());
  useEffect(() => {
    if (!echoes.current.seen(value)) setDraft(value);
  }, [value]);
  return (
    <input
      {...rest}
      value={draft}
      onChange={(e) => {
        setDraft(e.target.value);
        echoes.current.wrote(e.target.value);
        onValue(e.target.value);
      }}
    />
  );
}
