import { PageHeader } from '../components/ui.tsx';
import { useSession } from '../session.tsx';

/** A Member-only account may sign in to nothing: say so plainly, and who can change it. */
export function MemberOnlyPage({ email }: { email: string }) {
  const { setupDone } = useSession();
  return (
    <main id="main" className="narrow">
      <PageHeader title="No access yet" />
      <div className="panel">
        <p>
          {email ? <strong>{email}</strong> : 'Your account'} is part of your organisation, but
          holds no role that opens Haven yet.
        </p>
        <p>
          Ask your school's Haven administrator or Designated Safeguarding Lead to give you a role
          (usually Viewer) if your work needs it.
        </p>
        <button type="button" className="secondary" onClick={setupDone}>
          Back to sign in
        </button>
      </div>
    </main>
  );
}
