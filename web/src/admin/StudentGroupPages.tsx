import { PageHeader } from '../components/ui.tsx';

export function StudentGroupsPage() {
  return <PageHeader title="StudentGroupsPage" description="Not built yet." />;
}

export function StudentGroupPage() {
  return <PageHeader title="StudentGroupPage" description="Not built yet." />;
}
