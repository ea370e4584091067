import { PageHeader } from '../components/ui.tsx';

export function IncidentPage() {
  return <PageHeader title="IncidentPage" description="Not built yet." />;
}
