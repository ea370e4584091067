import { Link } from 'react-router';
import { PageHeader } from '../components/ui.tsx';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is nothing here, or you do not have access to it.{' '}
        <Link to="/">Go to your home page</Link>.
      </p>
    </>
  );
}
