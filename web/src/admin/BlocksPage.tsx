import { PageHeader } from '../components/ui.tsx';

export function BlocksPage() {
  return <PageHeader title="BlocksPage" description="Not built yet." />;
}
