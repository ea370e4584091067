import { type FormEvent, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router';
import type { SignInNotice } from '../accounts/ResetPasswordPage.tsx';
import { SsoMark, ssoButtonLabel, ssoErrorMessage, useSsoChoices } from '../accounts/sso.tsx';
import '../accounts/accounts.css';
import { ApiError } from '../api/client.ts';
import { Button, ErrorMessage, InputField, Notice, PageHeader } from '../components/ui.tsx';
import { useDebounced } from '../hooks.ts';
import { type OrganisationChoice, organisationsToChoose, useSession } from '../session.tsx';

export function SignInPage({ reason }: { reason?: 'expired' | 'signed_out' | undefined }) {
  const { signIn } = useSession();
  const location = useLocation();
  const [params] = useSearchParams();
  const ssoError = params.get('sso_error');
  const passwordReset = (location.state as SignInNotice | null)?.notice === 'password_reset';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [askTotp, setAskTotp] = useState(false);
  // Set when the password opens accounts in several organisations: which one to sign in to.
  const [choices, setChoices] = useState<OrganisationChoice[]>([]);
  const [organisationId, setOrganisationId] = useState('');
  const [choiceMissing, setChoiceMissing] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  // The single sign-on buttons: this installation's, or those for the domain of the email typed.
  const typed = useDebounced(email.trim());
  const sso = useSsoChoices(typed);
  const ssoChoices = sso?.items ?? [];
  const severalOrganisations = new Set(ssoChoices.map((c) => c.organisationName)).size > 1;
  const passwordOff = ssoChoices.length > 0 && sso?.passwordSignIn === false;
  const inPasswordSteps = askTotp || choices.length > 0;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setChoiceMissing(choices.length > 0 && !organisationId);
    if (choices.length > 0 && !organisationId) return;
    setBusy(true);
    setError(undefined);
    try {
      await signIn(email, password, askTotp ? totp : undefined, organisationId || undefined);
    } catch (caught) {
      const offered = organisationsToChoose(caught);
      if (offered.length > 0) {
        setChoices(offered);
        setOrganisationId('');
      } else if (caught instanceof ApiError && caught.code === 'totp_required') {
        setAskTotp(true);
      } else {
        setError(caught);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="narrow">
      <PageHeader title="Sign in to Haven" />
      {reason === 'expired' ? (
        <Notice tone="warning">Your session has ended. Sign in again to carry on.</Notice>
      ) : null}
      {reason === 'signed_out' ? <Notice>You have signed out.</Notice> : null}
      {passwordReset ? (
        <Notice tone="success">
          Your password has been changed and you have been signed out everywhere. Sign in with the
          new password.
        </Notice>
      ) : null}
      {ssoError ? (
        <div className="error" role="alert">
          <p>{ssoErrorMessage(ssoError)}</p>
        </div>
      ) : null}
      {ssoChoices.length > 0 && !inPasswordSteps ? (
        <>
          <nav className="panel sso-choices" aria-label="Sign in with your organisation account">
            {ssoChoices.map((choice) => (
              // A full page navigation: Haven's start redirects to the provider's own pages.
              <a key={choice.id} className="button secondary" href={choice.startUrl}>
                <SsoMark kind={choice.kind} />
                {ssoButtonLabel(choice, severalOrganisations)}
              </a>
            ))}
          </nav>
          {passwordOff && !typed ? null : (
            <p className="or-divider">or with your email and password</p>
          )}
        </>
      ) : null}
      {passwordOff && !typed ? null : (
        <form onSubmit={submit} noValidate className="panel">
          <ErrorMessage error={error} />
          {askTotp ? (
            <>
              <p>Two-factor sign-in is on for this account.</p>
              <InputField
                label="Code from your authenticator app"
                hint="The 6 digits shown now, or one of your recovery codes."
                inputMode="numeric"
                autoComplete="one-time-code"
                value={totp}
                onChange={(event) => setTotp(event.target.value)}
                autoFocus
              />
            </>
          ) : choices.length > 0 ? (
            <fieldset className={`checks${choiceMissing ? ' field-error' : ''}`}>
              <legend>Which organisation are you signing in to?</legend>
              <p className="hint">Your email and password open an account in each of these.</p>
              {choiceMissing ? <p className="field-message">Choose an organisation.</p> : null}
              {choices.map((choice) => (
                <label key={choice.id}>
                  <input
                    type="radio"
                    name="organisation"
                    value={choice.id}
                    checked={organisationId === choice.id}
                    onChange={() => setOrganisationId(choice.id)}
                  />{' '}
                  {choice.name}
                </label>
              ))}
            </fieldset>
          ) : (
            <>
              <InputField
                label="Email"
                type="email"
                autoComplete="username"
                value={email}
                onChange={(event) => setEmail(event.target.value)}
                required
              />
              {passwordOff ? (
                <Notice>
                  Your organisation signs in with its own accounts, not a Haven password: use the
                  button above.
                </Notice>
              ) : (
                <InputField
                  label="Password"
                  type="password"
                  autoComplete="current-password"
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                  required
                />
              )}
            </>
          )}
          {passwordOff && !inPasswordSteps ? null : (
            <div className="form-actions">
              <Button type="submit" busy={busy}>
                {askTotp ? 'Verify and sign in' : choices.length > 0 ? 'Continue' : 'Sign in'}
              </Button>
              {inPasswordSteps ? null : <Link to="/forgot-password">Forgot password?</Link>}
            </div>
          )}
        </form>
      )}
    </main>
  );
}
