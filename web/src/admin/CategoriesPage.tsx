import { PageHeader } from '../components/ui.tsx';

export function CategoriesPage() {
  return <PageHeader title="CategoriesPage" description="Not built yet." />;
}
