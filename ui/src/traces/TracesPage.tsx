import { Placeholder } from '../shell/Placeholder.tsx';

export default function TracesPage() {
  return (
    <Placeholder
      title="Traces"
      coming={[
        'Search by service, operation, duration range, status and attributes',
        'A duration-over-time scatter: click or brush to open traces',
        'A paged result list',
      ]}
      today={
        <p>
          Today: the API answers searches, e.g. <a href="/api/v1/traces?limit=20">/api/v1/traces?limit=20</a> (parameters in{' '}
          <a href="/openapi.json">/openapi.json</a>); a service&apos;s page lists its slowest and failing traces.
        </p>
      }
    />
  );
}
