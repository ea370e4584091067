import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import { Button, ErrorMessage, PageHeader } from '../components/ui.tsx';
import { useSession } from '../session.tsx';
import {
  BackToSignIn,
  LinkNotWorking,
  linkProblem,
  NewPasswordFields,
  PublicPage,
  SignedInAlready,
  useLinkToken,
  useNewPasswordForm,
} from './common.tsx';

/**
 * `/accept-invitation?token=…`, the link in an invitation email: the person chooses a password
 * and is signed in. The link works once, for 7 days; a resend replaces it.
 */
export function AcceptInvitationPage() {
  const token = useLinkToken();
  const session = useSession();
  const navigate = useNavigate();
  const [noRole, setNoRole] = useState(false);
  const form = useNewPasswordForm(async (password) => {
    try {
      const result = await api.post<Answer<'/api/v1/auth/accept-invitation', 'post'>>(
        '/auth/accept-invitation',
        { token, password },
      );
      session.signedIn(result);
      navigate('/', { replace: true });
    } catch (caught) {
      // The password is set, but the account holds no role yet: nothing to open.
      if (caught instanceof ApiError && caught.code === 'no_role') setNoRole(true);
      else throw caught;
    }
  });

  const signedInAs = session.state.status === 'signed_in' ? session.state.me.name : null;
  const problem = token ? linkProblem(form.error) : 'missing';

  return (
    <PublicPage>
      <PageHeader
        title="Welcome to Haven"
        description="You have been invited to your school's safeguarding records. Choose a password to finish setting up your account; you will be signed in straight away."
      />
      {signedInAs ? (
        <SignedInAlready name={signedInAs} onSignOut={() => void session.signOut()} />
      ) : null}
      {noRole ? (
        <div className="panel" role="status">
          <p>Your password is set.</p>
          <p>
            Your account holds no role that opens Haven yet. Ask your school's Haven administrator
            or Designated Safeguarding Lead to give you one (usually Viewer), then sign in.
          </p>
          <BackToSignIn />
        </div>
      ) : problem ? (
        <>
          <LinkNotWorking kind="invitation" problem={problem} />
          <BackToSignIn />
        </>
      ) : (
        <form onSubmit={form.submit} noValidate className="panel" aria-label="Choose your password">
          <ErrorMessage error={form.formError} />
          <NewPasswordFields
            label="Choose a password"
            confirmLabel="Type the password again"
            {...form.fields}
          />
          <Button type="submit" busy={form.busy} disabled={signedInAs !== null}>
            Set password and sign in
          </Button>
        </form>
      )}
    </PublicPage>
  );
}
