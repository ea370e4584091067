import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import type { School } from '../api/types.ts';
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
                  <SchoolSettings key={school.id} school={school} />
                ))}
              </ul>
            )
          }
        </QueryState>
      </section>
    </>
  );
}

function SchoolSettings({ school }: { school: School }) {
  const queryClient = useQueryClient();
  const can = useCan();
  const required = school.settings?.requireMfaForSensitive !== false;
  const change = useMutation({
    mutationFn: (requireMfaForSensitive: boolean) =>
      api.patch(`/schools/${school.id}/settings`, { requireMfaForSensitive }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['schools'] }),
  });
  return (
    <li>
      <div>
        <h3>{school.name}</h3>
        <p className="muted">
          {required
            ? 'Opening child protection or allegation records needs a two-factor code.'
            : 'Sensitive records open without a two-factor code.'}
        </p>
        {can('settings.manage') ? (
          <div className="checks">
            <label>
              <input
                type="checkbox"
                checked={required}
                disabled={change.isPending}
                onChange={(e) => change.mutate(e.target.checked)}
              />{' '}
              Ask for a two-factor code before showing sensitive records
            </label>
          </div>
        ) : null}
        <ErrorMessage error={change.error} />
      </div>
    </li>
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
