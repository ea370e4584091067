import { PageHeader } from '../components/ui.tsx';

export function AuditLogPage() {
  return <PageHeader title="AuditLogPage" description="Not built yet." />;
}

export function AccessLogPage() {
  return <PageHeader title="AccessLogPage" description="Not built yet." />;
}
