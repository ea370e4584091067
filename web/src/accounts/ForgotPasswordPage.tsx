import { type FormEvent, useState } from 'react';
import type { Answer } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import { Button, ErrorMessage, InputField, Notice, PageHeader } from '../components/ui.tsx';
import { BackToSignIn, PublicPage } from './common.tsx';

/**
 * `/forgot-password`: asks for a reset link by email. The answer is the same whether or not the
 * address has an account, so the page never says which.
 */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [emailOff, setEmailOff] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.post<Answer<'/api/v1/auth/password-reset', 'post'>>(
        '/auth/password-reset',
        {
          email: email.trim(),
        },
      );
      setEmailOff(!answer.emailOn);
      setSentTo(email.trim());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const emailError =
    error instanceof ApiError && error.fieldMessage('email')
      ? 'Enter your email address, like name@school.org.uk.'
      : undefined;

  return (
    <PublicPage>
      <PageHeader
        title="Reset your password"
        description="Enter the email address you sign in to Haven with. We will email you a link to choose a new password."
      />
      {sentTo && emailOff ? (
        <div className="panel">
          <Notice tone="warning">
            Haven cannot send email yet, so no link was sent. Ask your school's Haven administrator
            to set up email, or to help you sign in.
          </Notice>
          <BackToSignIn />
        </div>
      ) : sentTo ? (
        <div className="panel">
          <Notice tone="success">
            If an account exists for <strong>{sentTo}</strong>, we have sent a link to reset its
            password.
          </Notice>
          <p>
            The link works once, for one hour. If nothing arrives in a few minutes, check your junk
            folder, or ask your school's Haven administrator.
          </p>
          <p>
            If your school signs in with Microsoft or Google, use that button on the sign-in page
            instead: Haven does not hold that password.
          </p>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setSentTo(null);
              setEmail('');
            }}
          >
            Use a different email address
          </button>
          <BackToSignIn />
        </div>
      ) : (
        <form onSubmit={submit} noValidate className="panel" aria-label="Ask for a reset link">
          {emailError ? null : <ErrorMessage error={error} />}
          <InputField
            label="Email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={emailError}
            required
            autoFocus
          />
          <div className="form-actions">
            <Button type="submit" busy={busy}>
              Send me a link
            </Button>
          </div>
          <BackToSignIn />
        </form>
      )}
    </PublicPage>
  );
}
