import { useSearchParams } from 'react-router';
import { Placeholder } from '../shell/Placeholder.tsx';

export default function LogsPage() {
  const [params] = useSearchParams();
  const service = params.get('service');
  const api = `/api/v1/logs?limit=100${service ? `&service=${encodeURIComponent(service)}` : ''}`;
  return (
    <Placeholder
      title={service ? `Logs of ${service}` : 'Logs'}
      coming={[
        'Full-text search with attribute and resource filters and a facet sidebar',
        'A severity histogram over time and a virtualized result list',
        'Surrounding lines from the same pod, and live tail',
      ]}
      today={
        <p>
          Today: the API answers log searches, e.g. <a href={api}>{api}</a>.
        </p>
      }
    />
  );
}
