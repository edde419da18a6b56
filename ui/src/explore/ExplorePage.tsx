import { Placeholder } from '../shell/Placeholder.tsx';

export default function ExplorePage() {
  return (
    <Placeholder
      title="Metrics explorer"
      coming={[
        'A searchable metric catalogue with type, unit and description',
        'Filter and group by labels; rate/increase, avg/min/max/sum, p50…p99 by metric type',
        'Several queries on one chart, with the series table under it',
      ]}
      today={
        <p>
          Today: the catalogue at <a href="/api/v1/metrics">/api/v1/metrics</a> and series at <code>/api/v1/metrics/query</code>. (
          <code>/metrics</code> stays the platform&apos;s own Prometheus endpoint.)
        </p>
      }
    />
  );
}
