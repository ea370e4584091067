import { type FormEvent, useState } from 'react';
import { ApiError } from '../api/client.ts';
import { Button, ErrorMessage, InputField, Notice, PageHeader } from '../components/ui.tsx';
import { useSession } from '../session.tsx';

export function SignInPage({ reason }: { reason?: 'expired' | 'signed_out' | undefined }) {
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [askTotp, setAskTotp] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(email, password, askTotp ? totp : undefined);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'totp_required') {
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
            <InputField
              label="Password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              required
            />
          </>
        )}
        <Button type="submit" busy={busy}>
          {askTotp ? 'Verify and sign in' : 'Sign in'}
        </Button>
      </form>
    </main>
  );
}
