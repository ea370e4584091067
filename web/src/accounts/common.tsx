import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { InputField, Notice } from '../components/ui.tsx';
import './accounts.css';

/** The server's rules for a new password (it decides; this says them before anyone types). */
export const PASSWORD_RULES =
  'At least 12 characters, and not easy to guess: a few unrelated words make a strong one. Avoid your name and email.';

const MIN_LENGTH = 12;

/**
 * A new password and its confirmation, checked here only for what the person can fix at once
 * (too short, the two differ); how strong it is, the server says, next to the field.
 */
export function NewPasswordFields({
  password,
  confirm,
  onPassword,
  onConfirm,
  checked,
  serverError,
  label = 'New password',
  confirmLabel = 'Type the new password again',
}: {
  password: string;
  confirm: string;
  onPassword: (value: string) => void;
  onConfirm: (value: string) => void;
  /** Show the local problems (after a first try to submit). */
  checked: boolean;
  serverError?: string | undefined;
  label?: string;
  confirmLabel?: string;
}) {
  const problems = newPasswordProblems(password, confirm);
  return (
    <>
      <InputField
        label={label}
        type="password"
        autoComplete="new-password"
        hint={PASSWORD_RULES}
        value={password}
        onChange={(event) => onPassword(event.target.value)}
        error={(checked ? problems.password : undefined) ?? serverError}
        required
      />
      <InputField
        label={confirmLabel}
        type="password"
        autoComplete="new-password"
        value={confirm}
        onChange={(event) => onConfirm(event.target.value)}
        error={checked ? problems.confirm : undefined}
        required
      />
    </>
  );
}

/** What stops a new password before it is sent; empty when it may go to the server. */
export function newPasswordProblems(
  password: string,
  confirm: string,
): { password?: string; confirm?: string } {
  const problems: { password?: string; confirm?: string } = {};
  if (password.length < MIN_LENGTH)
    problems.password = `Use at least ${MIN_LENGTH} characters (this has ${password.length}).`;
  if (confirm !== password) problems.confirm = 'The two passwords are not the same.';
  return problems;
}

/** The server's message about the new password field, under whichever name the route gives it. */
export function passwordFieldMessage(error: unknown, ...fields: string[]): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  for (const field of fields) {
    const message = error.fieldMessage(field);
    if (message) return `The password ${message.replace(/^password /i, '').replace(/\.?$/, '.')}`;
  }
  return undefined;
}

export type LinkKind = 'invitation' | 'reset';

/** Why an emailed link opens nothing: the server answers one code for every such case. */
export type LinkProblem = 'invalid' | 'disabled' | 'missing';

/** Whether an error says the link itself is bad (rather than the password typed). */
export function linkProblem(error: unknown): LinkProblem | null {
  if (!(error instanceof ApiError)) return null;
  if (error.code === 'invalid_token') return 'invalid';
  if (error.code === 'account_disabled') return 'disabled';
  // A validation error naming the token (cut short, too long): the link was not copied whole.
  if (error.fieldMessage('token')) return 'invalid';
  return null;
}

/** Says plainly why an emailed link does not work, and what to do instead. */
export function LinkNotWorking({ kind, problem }: { kind: LinkKind; problem: LinkProblem }) {
  const invitation = kind === 'invitation';
  const what: Record<LinkProblem, string> = invitation
    ? {
        invalid:
          'This invitation link no longer works: it has been used already, a newer invitation replaced it, or its 7 days have passed.',
        disabled: 'This account has been disabled, so the invitation cannot be used.',
        missing: 'This invitation link is incomplete. Open the whole link from the email.',
      }
    : {
        invalid:
          'This password reset link no longer works: it has been used already, a newer link replaced it, or its hour has passed.',
        disabled: 'This account has been disabled, so its password cannot be reset.',
        missing: 'This password reset link is incomplete. Open the whole link from the email.',
      };
  return (
    <div className="error" role="alert">
      <p>{what[problem]}</p>
      {problem === 'disabled' ? (
        <p>Ask your school's Haven administrator if you need access again.</p>
      ) : invitation ? (
        <p>
          Ask whoever added you (your school's Haven administrator) to send a new invitation. If you
          have already set your password, <Link to="/sign-in">sign in</Link>.
        </p>
      ) : (
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>, or{' '}
          <Link to="/sign-in">sign in</Link> if you remember your password.
        </p>
      )}
    </div>
  );
}

/** The frame of a page shown without a session (sign-in, invitations, password reset). */
export function PublicPage({ children }: { children: ReactNode }) {
  return (
    <main id="main" className="narrow">
      {children}
    </main>
  );
}

export function BackToSignIn() {
  return (
    <p className="public-links">
      <Link to="/sign-in">Back to sign in</Link>
    </p>
  );
}

/** A note for someone signed in who opened a link meant for whoever is signed out. */
export function SignedInAlready({ name, onSignOut }: { name: string; onSignOut: () => void }) {
  return (
    <Notice tone="warning">
      You are signed in as <strong>{name}</strong>. To use this link for another account,{' '}
      <button type="button" className="link-button" onClick={onSignOut}>
        sign out
      </button>{' '}
      first; the link will still be here.
    </Notice>
  );
}

/**
 * The token of an emailed link (`?token=…`), read once and then taken out of the address bar,
 * so it is not left in the browser's history or shown over a shoulder.
 */
export function useLinkToken(): string {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [token] = useState(() => params.get('token') ?? '');
  useEffect(() => {
    if (params.has('token')) navigate({ search: '' }, { replace: true });
  }, [params, navigate]);
  return token;
}

/**
 * A form choosing a new password from an emailed link: the fields' state, checked here first,
 * then `send` (a refusal it throws is kept as `error`, a password refusal shown on its field).
 */
export function useNewPasswordForm(send: (password: string) => Promise<void>) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [checked, setChecked] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setChecked(true);
    const problems = newPasswordProblems(password, confirm);
    if (problems.password || problems.confirm) return;
    setBusy(true);
    setError(undefined);
    try {
      await send(password);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const serverError = passwordFieldMessage(error, 'password');
  return {
    submit,
    busy,
    error,
    /** The error for the top of the form, when it is not the password's own. */
    formError: serverError ? undefined : error,
    fields: {
      password,
      confirm,
      onPassword: setPassword,
      onConfirm: setConfirm,
      checked,
      serverError,
    },
  };
}
