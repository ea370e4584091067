import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import { Button, ErrorMessage, InputField, Notice, PageHeader } from '../components/ui.tsx';
import { NewPasswordFields, newPasswordProblems, passwordFieldMessage } from './common.tsx';

/**
 * `/account/password`: the signed-in person changes their own password with the current one.
 * Every other session of theirs ends; this one carries on.
 */
export function ChangePasswordPage() {
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [changed, setChanged] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    setChanged(false);
    const problems = newPasswordProblems(password, confirm);
    if (!current || problems.password || problems.confirm) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/me/password', { currentPassword: current, newPassword: password });
      setChanged(true);
      setChecked(false);
      setCurrent('');
      setPassword('');
      setConfirm('');
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  // 401 here is the current password, not the session (the client keeps the session).
  const currentError =
    error instanceof ApiError && error.status === 401
      ? 'That is not your current password.'
      : checked && !current
        ? 'Enter your current password.'
        : undefined;
  const newError = passwordFieldMessage(error, 'newPassword');

  return (
    <>
      <PageHeader
        title="Change your password"
        description="You will stay signed in here; Haven signs you out on every other device and browser."
      />
      {changed ? (
        <Notice tone="success">
          Your password has been changed. You have been signed out everywhere else.
        </Notice>
      ) : null}
      <form onSubmit={submit} noValidate className="panel" aria-label="Change your password">
        {currentError || newError ? null : <ErrorMessage error={error} />}
        <InputField
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(event) => setCurrent(event.target.value)}
          error={currentError}
          required
        />
        <NewPasswordFields
          password={password}
          confirm={confirm}
          onPassword={setPassword}
          onConfirm={setConfirm}
          checked={checked}
          serverError={newError}
        />
        <Button type="submit" busy={busy}>
          Change password
        </Button>
      </form>
      <p className="muted">
        Forgotten it, or never had one because you sign in with Microsoft or Google? Sign out and
        use "Forgot password?" on the sign-in page to get a link by email.
      </p>
    </>
  );
}
