import { useNavigate } from 'react-router';
import { api } from '../api/client.ts';
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

/** What the sign-in page is told after a reset, through the router's state. */
export interface SignInNotice {
  notice: 'password_reset';
}

/**
 * `/reset-password?token=…`, the link in a password reset email: a new password, then the
 * sign-in page. The reset ends every session of the account, wherever it was signed in.
 */
export function ResetPasswordPage() {
  const token = useLinkToken();
  const session = useSession();
  const navigate = useNavigate();
  const form = useNewPasswordForm(async (password) => {
    await api.post('/auth/password-reset/confirm', { token, password });
    navigate('/sign-in', {
      replace: true,
      state: { notice: 'password_reset' } satisfies SignInNotice,
    });
  });

  const signedInAs = session.state.status === 'signed_in' ? session.state.me.name : null;
  const problem = token ? linkProblem(form.error) : 'missing';

  return (
    <PublicPage>
      <PageHeader
        title="Choose a new password"
        description="Once it is changed, you will be signed out everywhere and can sign in with the new password."
      />
      {signedInAs ? (
        <SignedInAlready name={signedInAs} onSignOut={() => void session.signOut()} />
      ) : null}
      {problem ? (
        <>
          <LinkNotWorking kind="reset" problem={problem} />
          <BackToSignIn />
        </>
      ) : (
        <form
          onSubmit={form.submit}
          noValidate
          className="panel"
          aria-label="Choose a new password"
        >
          <ErrorMessage error={form.formError} />
          <NewPasswordFields {...form.fields} />
          <Button type="submit" busy={form.busy} disabled={signedInAs !== null}>
            Change password
          </Button>
        </form>
      )}
    </PublicPage>
  );
}
