/** A page of issue 12 not built yet: says what is coming and what works today, never a fake. */
import type { ReactNode } from 'react';

export function Placeholder({ title, coming, today }: { title: string; coming: string[]; today?: ReactNode }) {
  return (
    <section className="page placeholder" aria-labelledby="placeholder-title">
      <h1 id="placeholder-title">{title}</h1>
      <p className="badge">Not built yet</p>
      <p>Coming on this page:</p>
      <ul>
        {coming.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      {today && <div className="today">{today}</div>}
    </section>
  );
}
