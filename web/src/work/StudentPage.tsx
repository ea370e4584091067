import { PageHeader } from '../components/ui.tsx';

export function StudentPage() {
  return <PageHeader title="StudentPage" description="Not built yet." />;
}
