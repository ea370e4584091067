import { type FormEvent, useState } from 'react';
import type { Answer } from '../api/answers.ts';
import { ApiError, api, request } from '../api/client.ts';
import { Button, ErrorMessage, InputField, Notice, PageHeader } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useMe, useSession } from '../session.tsx';

/** A secret to enrol with: base32, as an `otpauth://` URI, and as a QR code. */
type Enrolment = Answer<'/api/v1/me/totp', 'post'>;

/**
 * Set up (or turn off) two-factor sign-in with an authenticator app. `required`: a school asks
 * this user to enrol before anything else; once enrolled they read their recovery codes, then
 * carry on into Haven.
 */
export function TwoFactorPage({ required = false }: { required?: boolean }) {
  const me = useMe();
  const { refresh } = useSession();
  const [enrolment, setEnrolment] = useState<Enrolment>();
  const [recoveryCodes, setRecoveryCodes] = useState<string[]>();
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const start = () =>
    run(async () => {
      setEnrolment(await api.post<Enrolment>('/me/totp'));
      setCode('');
    });

  const confirm = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const result = await api.post<Answer<'/api/v1/me/totp/confirm', 'post'>>('/me/totp/confirm', {
        code: code.trim(),
      });
      setRecoveryCodes(result.recoveryCodes);
      setEnrolment(undefined);
      // Where enrolment was required, the rest of Haven opens once the codes have been read.
      if (!required) await refresh();
    });
  };

  const turnOff = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      await request('DELETE', '/me/totp', { body: { code: code.trim() } });
      setCode('');
      await refresh();
    });
  };

  const codeError =
    error instanceof ApiError && (error.code === 'invalid_code' || error.fieldMessage('code'))
      ? (error.fieldMessage('code') ?? 'That code is not right. Check the app and try again.')
      : undefined;

  return (
    <>
      <PageHeader
        title="Two-factor sign-in"
        description="A code from an authenticator app on your phone, as well as your password. Reading child-protection and allegation records needs it."
      />
      {required && !recoveryCodes ? (
        <Notice tone="warning">
          Your school asks everyone who can read child-protection or allegation records to use
          two-factor sign-in. Set it up now to carry on: the rest of Haven opens once it is on.
        </Notice>
      ) : null}
      {recoveryCodes ? (
        <section className="panel" aria-labelledby="recovery-title">
          <h2 id="recovery-title">Your recovery codes</h2>
          <Notice tone="warning">
            Keep these somewhere safe. Each one signs you in once if you lose your phone. They are
            shown only now.
          </Notice>
          <ul className="codes">
            {recoveryCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          {required ? (
            <Button onClick={() => void run(refresh)} busy={busy}>
              I have kept my codes: continue to Haven
            </Button>
          ) : null}
        </section>
      ) : null}
      {!codeError ? <ErrorMessage error={error} /> : null}
      {required && recoveryCodes ? null : me.totpStatus === 'active' ? (
        <section className="panel">
          <p>
            Two-factor sign-in is <strong>on</strong>.
            {me.mfaAt ? ` Last checked in this session: ${formatDateTime(me.mfaAt)}.` : ''}
          </p>
          <form onSubmit={turnOff} noValidate>
            <InputField
              label="To turn it off, enter a current code or a recovery code"
              autoComplete="one-time-code"
              value={code}
              onChange={(event) => setCode(event.target.value)}
              error={codeError}
            />
            <Button type="submit" className="danger" busy={busy}>
              Turn off two-factor sign-in
            </Button>
          </form>
        </section>
      ) : enrolment ? (
        <section className="panel" aria-labelledby="scan-title">
          <h2 id="scan-title">Scan this code with your authenticator app</h2>
          <img
            className="qr"
            src={enrolment.qrCode}
            width={200}
            height={200}
            alt="QR code for adding Haven to an authenticator app"
          />
          <p>
            Or type this key into the app: <code className="secret">{enrolment.secret}</code>
          </p>
          <form onSubmit={confirm} noValidate>
            <InputField
              label="The 6-digit code the app now shows"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={code}
              onChange={(event) => setCode(event.target.value)}
              error={codeError}
            />
            <Button type="submit" busy={busy}>
              Turn on two-factor sign-in
            </Button>
          </form>
        </section>
      ) : (
        <section className="panel">
          <p>
            Two-factor sign-in is <strong>off</strong>.
          </p>
          <Button onClick={() => void start()} busy={busy}>
            Set up two-factor sign-in
          </Button>
        </section>
      )}
    </>
  );
}
