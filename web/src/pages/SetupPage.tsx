import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import { Button, ErrorMessage, InputField, PageHeader } from '../components/ui.tsx';
import { useSession } from '../session.tsx';

/** First run: the organisation, its first school, and the Owner who will run it. */
export function SetupPage() {
  const { setupDone } = useSession();
  const [form, setForm] = useState({
    organisationName: '',
    schoolName: '',
    name: '',
    email: '',
    password: '',
  });
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const fieldError = (field: string) =>
    error instanceof ApiError ? error.fieldMessage(field) : undefined;
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [key]: event.target.value }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.post('/setup', {
        organisationName: form.organisationName,
        schoolName: form.schoolName,
        owner: { name: form.name, email: form.email, password: form.password },
      });
      setupDone();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="narrow">
      <PageHeader
        title="Set up Haven"
        description="Name your organisation and its first school, and create the Owner account. You can add more schools, staff and groups afterwards."
      />
      <form onSubmit={submit} noValidate className="panel">
        {error && !(error instanceof ApiError && error.problem.errors) ? (
          <ErrorMessage error={error} />
        ) : null}
        <InputField
          label="Organisation (trust or school) name"
          value={form.organisationName}
          onChange={set('organisationName')}
          error={fieldError('organisationName')}
          required
        />
        <InputField
          label="First school"
          value={form.schoolName}
          onChange={set('schoolName')}
          error={fieldError('schoolName')}
          required
        />
        <fieldset>
          <legend>Owner account</legend>
          <InputField
            label="Your name"
            autoComplete="name"
            value={form.name}
            onChange={set('name')}
            error={fieldError('owner.name')}
            required
          />
          <InputField
            label="Email"
            type="email"
            autoComplete="email"
            value={form.email}
            onChange={set('email')}
            error={fieldError('owner.email')}
            required
          />
          <InputField
            label="Password"
            type="password"
            autoComplete="new-password"
            hint="At least 12 characters; a few unrelated words make a strong one."
            value={form.password}
            onChange={set('password')}
            error={fieldError('owner.password')}
            required
          />
        </fieldset>
        <Button type="submit" busy={busy}>
          Set up Haven
        </Button>
      </form>
    </main>
  );
}
