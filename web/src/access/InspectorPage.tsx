import { PageHeader } from '../components/ui.tsx';

export function InspectorPage() {
  return <PageHeader title="InspectorPage" description="Not built yet." />;
}
