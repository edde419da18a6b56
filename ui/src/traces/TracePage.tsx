import { useParams } from 'react-router';
import { Placeholder } from '../shell/Placeholder.tsx';

export default function TracePage() {
  const { traceId = '' } = useParams();
  return (
    <Placeholder
      title={`Trace ${traceId}`}
      coming={[
        'A waterfall that stays smooth at 10,000+ spans (virtualized, collapsible, searchable)',
        'Span details: attributes, events, links, resource, status',
        'The critical path, orphan spans shown, and the trace’s logs on the same timeline',
      ]}
      today={
        <p>
          Today: every span of this trace as JSON at <a href={`/api/v1/traces/${encodeURIComponent(traceId)}`}>/api/v1/traces/{traceId}</a>.
        </p>
      }
    />
  );
}
