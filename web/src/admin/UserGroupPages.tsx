import { PageHeader } from '../components/ui.tsx';

export function UserGroupsPage() {
  return <PageHeader title="UserGroupsPage" description="Not built yet." />;
}

export function UserGroupPage() {
  return <PageHeader title="UserGroupPage" description="Not built yet." />;
}
