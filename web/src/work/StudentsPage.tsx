import { PageHeader } from '../components/ui.tsx';

export function StudentsPage() {
  return <PageHeader title="StudentsPage" description="Not built yet." />;
}
