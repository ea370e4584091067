import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { Answer, Item } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import type { School } from '../api/types.ts';
import { Button, Empty, ErrorMessage, InputField, QueryState } from '../components/ui.tsx';
import { formatDate } from '../format.ts';

/**
 * A school's holidays (`/schools/:id/holidays`): the days a transfer's five-school-day clock
 * skips, besides weekends. Kept by an Admin (or above) at the school; where the server refuses the
 * list (the caller manages settings elsewhere only), the section is not shown.
 */

type Holiday = Item<'/api/v1/schools/{id}/holidays'>;

const holidaysKey = (schoolId: string) => ['holidays', schoolId] as const;

/** The API's field names as the form names them, so a refusal reads as a sentence. */
const fieldWords: Record<string, string> = {
  startsOn: 'the first day',
  endsOn: 'the last day',
  name: 'the name',
};

function inWords(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const worded = message.replace(
    /\b(startsOn|endsOn|name)\b/g,
    (field) => fieldWords[field] ?? field,
  );
  return `${worded.charAt(0).toUpperCase()}${worded.slice(1)}${/[.!?]$/.test(worded) ? '' : '.'}`;
}

export function SchoolHolidays({ school }: { school: School }) {
  const queryClient = useQueryClient();
  const headingId = useId();
  const holidays = useQuery({
    queryKey: holidaysKey(school.id),
    queryFn: () =>
      api.get<Answer<'/api/v1/schools/{id}/holidays', 'get'>>(
        `/schools/${encodeURIComponent(school.id)}/holidays`,
      ),
  });
  const remove = useMutation({
    mutationFn: (holiday: Holiday) =>
      api.delete(
        `/schools/${encodeURIComponent(school.id)}/holidays/${encodeURIComponent(holiday.id)}`,
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: holidaysKey(school.id) }),
  });
  const refused = holidays.error instanceof ApiError && [403, 404].includes(holidays.error.status);
  if (refused) return null;
  return (
    <section className="school-holidays" aria-labelledby={headingId}>
      <h4 id={headingId}>Holidays</h4>
      <p className="muted">
        A transfer is due five school days after it is sent: weekends and these days (first and last
        included) do not count.
      </p>
      <QueryState query={holidays} loading="Loading holidays…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No holidays yet: only weekends are skipped.</Empty>
          ) : (
            <div className="table-wrap">
              <table aria-label={`Holidays at ${school.name}`}>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">First day</th>
                    <th scope="col">Last day</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((holiday) => (
                    <tr key={holiday.id}>
                      <td>{holiday.name}</td>
                      <td>{formatDate(holiday.startsOn)}</td>
                      <td>{formatDate(holiday.endsOn)}</td>
                      <td>
                        <Button
                          className="link-button"
                          busy={remove.isPending && remove.variables?.id === holiday.id}
                          onClick={() => remove.mutate(holiday)}
                        >
                          Remove<span className="visually-hidden"> {holiday.name}</span>
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
      <ErrorMessage error={remove.error} />
      <AddHoliday school={school} />
    </section>
  );
}

function AddHoliday({ school }: { school: School }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [startsOn, setStartsOn] = useState('');
  const [endsOn, setEndsOn] = useState('');
  const add = useMutation({
    mutationFn: () =>
      api.post<Holiday>(`/schools/${encodeURIComponent(school.id)}/holidays`, {
        name,
        startsOn,
        endsOn,
      }),
    onSuccess: () => {
      setName('');
      setStartsOn('');
      setEndsOn('');
      void queryClient.invalidateQueries({ queryKey: holidaysKey(school.id) });
    },
  });
  const error = add.error instanceof ApiError ? add.error : null;
  const fieldError = (field: string) => inWords(error?.fieldMessage(field));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Add a holiday at ${school.name}`}>
      <InputField
        label="Holiday name"
        value={name}
        required
        maxLength={200}
        onChange={(e) => setName(e.target.value)}
        error={fieldError('name')}
      />
      <InputField
        label="First day"
        type="date"
        value={startsOn}
        required
        onChange={(e) => setStartsOn(e.target.value)}
        error={fieldError('startsOn')}
      />
      <InputField
        label="Last day"
        type="date"
        value={endsOn}
        required
        onChange={(e) => setEndsOn(e.target.value)}
        error={fieldError('endsOn')}
      />
      <Button type="submit" className="secondary" busy={add.isPending}>
        Add holiday
      </Button>
      {error?.problem.errors ? null : <ErrorMessage error={add.error} />}
    </form>
  );
}
