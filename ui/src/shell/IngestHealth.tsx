import { useRef } from 'react';
import type { PipelineResponse } from '../../../query/contract.ts';
import { usePipeline } from '../shared/api/hooks.ts';
import { type Reading, ingestHealth } from './ingest-health.ts';

/** The header's ingest health: one pipeline reading every 5 s, rates from the last two. */
export function IngestHealth() {
  const q = usePipeline();
  const readings = useRef<{ prev?: Reading; cur?: Reading; data?: PipelineResponse }>({});
  if (q.data !== undefined && q.data !== readings.current.data) {
    readings.current = { prev: readings.current.cur, cur: { atMs: q.dataUpdatedAt, status: q.data }, data: q.data } as typeof readings.current;
  }
  const { prev, cur } = readings.current;
  if (cur === undefined) {
    const text = q.isError ? 'ingest: unknown' : 'ingest: …';
    return (
      <span className="ingest idle" title={q.isError ? 'The pipeline state is not available from this process.' : 'Reading the pipeline state…'} data-testid="ingest-health">
        {text}
      </span>
    );
  }
  const h = ingestHealth(prev, cur);
  return (
    <span className={`ingest ${h.tone}`} title={h.detail} data-testid="ingest-health" role="status">
      <span className="dot" aria-hidden="true" /> {h.text}
    </span>
  );
}
