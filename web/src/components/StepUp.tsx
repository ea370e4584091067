import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api } from '../api/client.ts';
import { useMe, useSession } from '../session.tsx';
import { Button, Dialog, InputField } from './ui.tsx';

/**
 * The two-factor step-up itself: a code from the authenticator app passes it for this session.
 * Someone without two-factor sign-in is sent to set it up instead.
 */
function StepUpForm({
  onPassed,
  codeText,
  setupText,
}: {
  onPassed: () => void;
  /** Said above the code field. */
  codeText: string;
  /** Said when two-factor sign-in is not set up on the account. */
  setupText: string;
}) {
  const me = useMe();
  const { refresh } = useSession();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  if (me.totpStatus !== 'active') {
    return (
      <>
        <p>{setupText}</p>
        <p>
          <Link to="/account/two-factor">Set up two-factor sign-in</Link>
        </p>
      </>
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
    <>
      <p>{codeText}</p>
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
    </>
  );
}

/**
 * Shown where the server answered `mfa_required`: child-protection and allegation records need
 * a recent two-factor check. A code from the authenticator app passes it for this session.
 */
export function StepUpPrompt({ onPassed }: { onPassed: () => void }) {
  return (
    <section className="panel stepup" aria-labelledby="stepup-title">
      <h2 id="stepup-title">Two-factor check needed</h2>
      <StepUpForm
        onPassed={onPassed}
        codeText="This record is child-protection or allegation material. Enter the 6-digit code from your authenticator app to open it."
        setupText="This record is child-protection or allegation material. Reading it needs two-factor sign-in, which is not yet set up on your account."
      />
    </section>
  );
}

/**
 * Says how many records a list leaves out only because this session has not passed a recent
 * two-factor check (`stepUpNeeded`), so nothing vanishes silently; the button opens the check.
 * Once passed, every list is asked again.
 */
export function StepUpBanner({ count }: { count: number }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  if (count <= 0) return null;
  const held = count === 1 ? '1 record is' : `${count.toLocaleString('en-GB')} records are`;
  return (
    <>
      <div className="notice notice-warning stepup-banner" role="status">
        <p>{held} held back until you pass a two-factor check.</p>
        <Button className="secondary" onClick={() => setOpen(true)}>
          Pass the two-factor check
        </Button>
      </div>
      <Dialog open={open} title="Two-factor check" onClose={() => setOpen(false)}>
        <StepUpForm
          onPassed={() => {
            setOpen(false);
            void queryClient.invalidateQueries();
          }}
          codeText="Child-protection and allegation records need a recent two-factor check. Enter the 6-digit code from your authenticator app to see them."
          setupText="Child-protection and allegation records need two-factor sign-in, which is not yet set up on your account."
        />
        <div className="dialog-actions">
          <Button className="secondary" onClick={() => setOpen(false)}>
            Not now
          </Button>
        </div>
      </Dialog>
    </>
  );
}

/** Whether an error is the server asking for a two-factor step-up. */
export function needsStepUp(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'mfa_required';
}
