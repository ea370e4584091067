import { PageHeader } from '../components/ui.tsx';

export function SchoolsPage() {
  return <PageHeader title="SchoolsPage" description="Not built yet." />;
}
