/**
 * Reporting about any child (issue 12): the parts of "Log a concern" beyond the form itself.
 * The schools the caller may report at, the person an allegation is about, a child not on roll,
 * and the receipt once the concern is saved.
 */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import type { Answer, Item } from '../api/answers.ts';
import { api } from '../api/client.ts';
import type { CreatedIncident, Delivery, School } from '../api/types.ts';
import { Button, Field, InputField, Notice, TextAreaField } from '../components/ui.tsx';
import { formatLocalTime } from '../format.ts';
import { useDebounced, useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';

/**
 * The schools where the caller holds a role, and so may report about any child on roll: every
 * school for a role across the organisation, a school group's schools for a role there. Only
 * offers choices; the server decides each report.
 */
export function useReportingSchools(): { schools: School[]; pending: boolean } {
  const me = useMe();
  const all = useSchools();
  const everywhere = me.roles.some((r) => r.scope.type === 'organisation');
  const viaGroups = me.roles.some((r) => r.scope.type === 'school_group');
  const groups = useQuery({
    queryKey: ['school-groups'],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/school-groups', 'get'>>('/school-groups', undefined, signal),
    enabled: viaGroups && !everywhere,
  });
  const schools = all.data?.items ?? [];
  if (everywhere) return { schools, pending: all.isPending };
  const ids = new Set<string>();
  for (const role of me.roles) {
    if (role.scope.type === 'school') ids.add(role.scope.id);
    if (role.scope.type === 'school_group')
      for (const id of groups.data?.items.find((g) => g.id === role.scope.id)?.schoolIds ?? [])
        ids.add(id);
  }
  return {
    schools: schools.filter((s) => ids.has(s.id)),
    pending: all.isPending || (viaGroups && groups.isPending),
  };
}

/** A member of staff as `GET /reportable-staff` names them. */
export type Person = Item<'/api/v1/reportable-staff'>;

/**
 * The member of staff an allegation is about, from `GET /reportable-staff` (names only): a
 * search box narrowing a list to choose from. They are never told, and never read the record.
 */
export function AllegationSubjectPicker({
  schoolId,
  value,
  onChange,
  error,
}: {
  schoolId: string;
  value: Person | null;
  onChange: (person: Person | null) => void;
  error?: string | undefined;
}) {
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const staff = useQuery({
    queryKey: ['reportable-staff', schoolId, q],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/reportable-staff', 'get'>>(
        '/reportable-staff',
        { schoolId, q },
        signal,
      ),
    enabled: Boolean(schoolId),
    placeholderData: (previous) => previous,
  });
  const options = staff.data?.items ?? [];
  if (value && !options.some((p) => p.id === value.id)) options.push(value);
  return (
    <fieldset className="picker">
      <legend>Who the allegation is about</legend>
      <p className="hint">
        The person you name is not told about this report and cannot read it. Only staff cleared for
        allegations can.
      </p>
      <Field label="Search staff" hint="Type part of their name.">
        {(props) => (
          <input
            {...props}
            type="search"
            value={search}
            autoComplete="off"
            onChange={(event) => setSearch(event.target.value)}
          />
        )}
      </Field>
      <Field
        label="Member of staff"
        hint={staff.isFetching ? 'Searching…' : undefined}
        error={error ?? (staff.isError ? 'Staff could not be listed. Try again.' : undefined)}
      >
        {(props) => (
          <select
            {...props}
            value={value?.id ?? ''}
            onChange={(event) => onChange(options.find((p) => p.id === event.target.value) ?? null)}
          >
            <option value="">Choose…</option>
            {options.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        )}
      </Field>
    </fieldset>
  );
}

export interface UnlistedDraft {
  name: string;
  note: string;
}

/** A child who is not on the list (not on roll yet, or a name only partly known). */
export function UnlistedChildFields({
  value,
  onChange,
  error,
}: {
  value: UnlistedDraft | null;
  onChange: (value: UnlistedDraft | null) => void;
  error?: string | undefined;
}) {
  return (
    <div className="unlisted-child">
      <div className="checks">
        <label>
          <input
            type="checkbox"
            checked={value !== null}
            onChange={(event) => onChange(event.target.checked ? { name: '', note: '' } : null)}
          />{' '}
          Child not listed
        </label>
      </div>
      {value ? (
        <fieldset>
          <legend>The child who is not listed</legend>
          <p className="hint">
            The safeguarding team will match them to a record. Give what you know.
          </p>
          <InputField
            label="Their name"
            value={value.name}
            maxLength={200}
            autoComplete="off"
            onChange={(event) => onChange({ ...value, name: event.target.value })}
            error={error}
          />
          <TextAreaField
            label="Anything that helps find them (optional)"
            hint="For example their class or year, or who they were with."
            value={value.note}
            maxLength={2000}
            rows={3}
            onChange={(event) => onChange({ ...value, note: event.target.value })}
          />
        </fieldset>
      ) : null}
    </div>
  );
}

/** "16:00" at the instant, in UK time (digest times are set in UK time). */
function londonTime(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'Europe/London',
  }).format(new Date(iso));
}

/**
 * The reporter's receipt, in their own local time: sent to the safeguarding team at once, kept
 * for the school's daily digest (today's, or tomorrow's once today's has gone), or saved only.
 */
export function receiptText(
  savedAt: string,
  delivery: Delivery,
  digestTime: string | undefined,
): string {
  const at = formatLocalTime(savedAt);
  switch (delivery) {
    case 'immediate':
      return `Saved and sent to the safeguarding team at ${at}`;
    case 'digest': {
      const day = digestTime && londonTime(savedAt) >= digestTime ? 'tomorrow' : 'today';
      return `Saved at ${at}; the safeguarding team will see it in ${day}'s digest`;
    }
    case 'none':
      return `Saved at ${at}`;
  }
}

/** What the reporter sees once a concern is saved: the receipt, and where to find it again. */
export function Receipt({
  incident,
  onAnother,
}: {
  incident: CreatedIncident;
  onAnother: () => void;
}) {
  const schools = useSchools().data?.items ?? [];
  const digestTime = schools.find((s) => s.id === incident.schoolId)?.settings.digestTime;
  return (
    <section className="panel receipt" aria-labelledby="receipt-title">
      <h2 id="receipt-title" className="visually-hidden">
        Receipt
      </h2>
      <Notice tone="success">
        <p>{receiptText(incident.receipt.savedAt, incident.receipt.delivery, digestTime)}.</p>
      </Notice>
      {incident.receipt.delivery === 'none' ? (
        <p>
          No one is told of this category of concern automatically. If a child is at risk now, tell
          the safeguarding lead in person as well.
        </p>
      ) : null}
      <ul className="receipt-links">
        {/* A sensitive record asks for a two-factor check to open; My reports never does. */}
        {incident.category.sensitivity === 'standard' ? (
          <li>
            <Link to={`/incidents/${incident.id}`}>Open the report</Link>
          </li>
        ) : null}
        <li>
          <Link to="/reports/mine">My reports</Link>
        </li>
      </ul>
      <Button className="secondary" onClick={onAnother}>
        Log another concern
      </Button>
    </section>
  );
}
