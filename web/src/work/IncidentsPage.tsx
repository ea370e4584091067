import { PageHeader } from '../components/ui.tsx';

export function IncidentsPage() {
  return <PageHeader title="IncidentsPage" description="Not built yet." />;
}
