import { PageHeader } from '../components/ui.tsx';

export function LogConcernPage() {
  return <PageHeader title="LogConcernPage" description="Not built yet." />;
}
