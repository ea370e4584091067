import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api } from '../api/client.ts';
import { useMe, useSession } from '../session.tsx';
import { Button, InputField } from './ui.tsx';

/**
 * Shown where the server answered `mfa_required`: child-protection and allegation records need
 * a recent two-factor check. A code from the authenticator app passes it for this session.
 */
export function StepUpPrompt({ onPassed }: { onPassed: () => void }) {
  const me = useMe();
  const { refresh } = useSession();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  if (me.totpStatus !== 'active') {
    return (
      <section className="panel stepup" aria-labelledby="stepup-title">
        <h2 id="stepup-title">Two-factor check needed</h2>
        <p>
          This record is child-protection or allegation material. Reading it needs two-factor
          sign-in, which is not yet set up on your account.
        </p>
        <p>
          <Link to="/account/two-factor">Set up two-factor sign-in</Link>
        </p>
      </section>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/auth/step-up', { code: code.trim() });
      await refresh();
      onPassed();
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.code === 'invalid_code'
          ? 'That code is not right, or was already used. Wait for the next code and try again.'
          : caught instanceof ApiError
            ? (caught.fieldMessage('code') ?? caught.message)
            : String(caught),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel stepup" aria-labelledby="stepup-title">
      <h2 id="stepup-title">Two-factor check needed</h2>
      <p>
        This record is child-protection or allegation material. Enter the 6-digit code from your
        authenticator app to open it.
      </p>
      <form onSubmit={submit} noValidate>
        <InputField
          label="Code from your authenticator app"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]*"
          maxLength={6}
          value={code}
          onChange={(event) => setCode(event.target.value)}
          error={error}
          autoFocus
        />
        <Button type="submit" busy={busy}>
          Continue
        </Button>
      </form>
    </section>
  );
}

/** Whether an error is the server asking for a two-factor step-up. */
export function needsStepUp(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'mfa_required';
}
