import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import type { School, SchoolSettings } from '../api/types.ts';
import {
  Button,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  QueryState,
} from '../components/ui.tsx';
import { useSchools } from '../hooks.ts';
import { useCan } from '../session.tsx';
import { SchoolHolidays } from './SchoolHolidays.tsx';

export function SchoolsPage() {
  const can = useCan();
  const query = useSchools();
  return (
    <>
      <PageHeader title="Schools and settings" description="The schools in your organisation." />
      {can('schools.manage') ? <AddSchool /> : null}
      <section aria-labelledby="schools-title">
        <h2 id="schools-title">Schools</h2>
        <QueryState query={query} loading="Loading schools…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No schools yet.</Empty>
            ) : (
              <ul className="list" aria-label="Schools">
                {data.items.map((school) => (
                  <SchoolSettingsItem key={school.id} school={school} />
                ))}
              </ul>
            )
          }
        </QueryState>
      </section>
    </>
  );
}

const DEFAULT_DIGEST_TIME = '16:00';

function SchoolSettingsItem({ school }: { school: School }) {
  const queryClient = useQueryClient();
  const can = useCan();
  const settings = school.settings;
  const change = useMutation({
    mutationFn: (patch: Partial<SchoolSettings>) =>
      api.patch<SchoolSettings>(`/schools/${school.id}/settings`, patch),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['schools'] }),
  });
  // A box shows its new state while the change is on its way (and goes back if it is refused);
  // the sentence above the boxes says what is saved.
  const [sending, setSending] = useState<Partial<SchoolSettings> | null>(null);
  const send = (patch: Partial<SchoolSettings>) => {
    setSending(patch);
    change.mutate(patch, { onSettled: () => setSending(null) });
  };
  const required = settings.requireMfaForSensitive !== false;
  const enrolment = settings.requireMfaEnrolment !== false;
  return (
    <li>
      <div className="school-settings">
        <h3>{school.name}</h3>
        <p className="muted">
          {required
            ? 'Opening child protection or allegation records needs a two-factor code.'
            : 'Sensitive records open without a two-factor code.'}{' '}
          {enrolment
            ? 'Staff who can read them must use two-factor sign-in.'
            : 'Two-factor sign-in is up to each member of staff.'}{' '}
          The daily digest email goes out at {settings.digestTime ?? DEFAULT_DIGEST_TIME}.
        </p>
        {can('settings.manage') ? (
          <>
            <div className="checks">
              <label>
                <input
                  type="checkbox"
                  checked={sending?.requireMfaForSensitive ?? required}
                  disabled={change.isPending}
                  onChange={(e) => send({ requireMfaForSensitive: e.target.checked })}
                />{' '}
                Ask for a two-factor code before showing sensitive records
              </label>
              <label>
                <input
                  type="checkbox"
                  checked={sending?.requireMfaEnrolment ?? enrolment}
                  disabled={change.isPending}
                  onChange={(e) => send({ requireMfaEnrolment: e.target.checked })}
                />{' '}
                Make staff who can read sensitive records set up two-factor sign-in
              </label>
            </div>
            <DigestTime
              school={school}
              busy={change.isPending}
              onSave={(digestTime) => send({ digestTime })}
            />
          </>
        ) : null}
        <ErrorMessage
          error={
            change.error instanceof ApiError && change.error.fieldMessage('digestTime')
              ? null
              : change.error
          }
        />
        {can('settings.manage') ? <SchoolHolidays school={school} /> : null}
      </div>
    </li>
  );
}

/** When the school's daily digest email goes out, in UK time. */
function DigestTime({
  school,
  busy,
  onSave,
}: {
  school: School;
  busy: boolean;
  onSave: (digestTime: string) => void;
}) {
  const saved = school.settings.digestTime ?? DEFAULT_DIGEST_TIME;
  const [time, setTime] = useState(saved);
  const [missing, setMissing] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setMissing(!time);
    if (time) onSave(time);
  };
  return (
    <form
      className="inline-form digest-time"
      onSubmit={submit}
      aria-label={`Digest time at ${school.name}`}
    >
      <InputField
        label="Daily digest email at"
        hint="UK time. The safeguarding team gets one email a day listing the concerns of categories set to the digest."
        type="time"
        value={time}
        required
        onChange={(e) => setTime(e.target.value)}
        error={missing ? 'Give a time, such as 16:00.' : undefined}
      />
      <Button type="submit" className="secondary" busy={busy} disabled={time === saved}>
        Save time
      </Button>
    </form>
  );
}

function AddSchool() {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => api.post<School>('/schools', { name }),
    onSuccess: (school) => {
      setAdded(`Added ${school.name}, with its safeguarding team and all-students group.`);
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['schools'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    create.mutate();
  };
  return (
    <section className="panel" aria-labelledby="add-school-title">
      <h2 id="add-school-title">Add a school</h2>
      {added ? <Notice tone="success">{added}</Notice> : null}
      <form className="inline-form" onSubmit={submit}>
        <InputField
          label="School name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          error={create.error instanceof ApiError ? create.error.fieldMessage('name') : undefined}
        />
        <Button type="submit" busy={create.isPending}>
          Add school
        </Button>
        <ErrorMessage error={create.error} />
      </form>
    </section>
  );
}
