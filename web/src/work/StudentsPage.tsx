import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { api } from '../api/client.ts';
import type { StudentSummary } from '../api/types.ts';
import {
  Empty,
  ErrorMessage,
  InputField,
  Loading,
  LoadMore,
  PageHeader,
  SelectField,
} from '../components/ui.tsx';
import { plural } from '../format.ts';
import { useCursorList, useDebounced, useSchools } from '../hooks.ts';
import { studentName, yearGroups, yearLabel } from './common.tsx';

const PAGE_SIZE = 50;

/** The students the caller can see: only what the API lists, searched and filtered on the server. */
export function StudentsPage() {
  const [search, setSearch] = useState('');
  const [schoolId, setSchoolId] = useState('');
  const [yearGroup, setYearGroup] = useState('');
  const q = useDebounced(search.trim());
  const filters = { q, schoolId, yearGroup };
  const schools = useSchools();

  const list = useCursorList<StudentSummary>(
    ['students', 'list', filters],
    '/students',
    filters,
    PAGE_SIZE,
  );
  const count = useQuery({
    queryKey: ['students', 'count', filters],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/students/count', 'get'>>('/students/count', filters, signal),
  });
  const students = list.items;
  const schoolNames = new Map((schools.data?.items ?? []).map((s) => [s.id, s.name]));
  const manySchools = schoolNames.size > 1;

  return (
    <>
      <PageHeader title="Students" description="The children you can see." />
      <search className="filters" aria-label="Find students">
        <InputField
          label="Search by name or UPN"
          type="search"
          value={search}
          autoComplete="off"
          onChange={(event) => setSearch(event.target.value)}
        />
        {manySchools ? (
          <SelectField
            label="School"
            value={schoolId}
            onChange={(event) => setSchoolId(event.target.value)}
          >
            <option value="">All schools</option>
            {[...schoolNames].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <SelectField
          label="Year group"
          value={yearGroup}
          onChange={(event) => setYearGroup(event.target.value)}
        >
          <option value="">All years</option>
          {yearGroups.map((y) => (
            <option key={y} value={y}>
              {yearLabel(y)}
            </option>
          ))}
        </SelectField>
      </search>
      <p className="result-count muted" aria-live="polite">
        {count.data ? plural(count.data.count, 'child', 'children') : '\u00a0'}
      </p>
      {list.isPending ? (
        <Loading label="Loading students…" />
      ) : list.isError && students.length === 0 ? (
        <ErrorMessage error={list.error} retry={() => void list.refetch()} />
      ) : students.length === 0 ? (
        <Empty>
          {q || schoolId || yearGroup
            ? 'No children match. Try fewer words or other filters.'
            : 'You cannot see any children yet. Your access comes from the groups you are in.'}
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Students</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Year</th>
                  <th scope="col">House</th>
                  {manySchools ? <th scope="col">School</th> : null}
                </tr>
              </thead>
              <tbody>
                {students.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link to={`/students/${s.id}`}>{studentName(s)}</Link>
                    </td>
                    <td>{yearLabel(s.yearGroup)}</td>
                    <td>{s.house ?? ''}</td>
                    {manySchools ? <td>{schoolNames.get(s.schoolId) ?? ''}</td> : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore list={list}>
            <span className="muted">
              Showing {plural(students.length, 'child', 'children')}
              {count.data ? ` of ${count.data.count.toLocaleString('en-GB')}` : ''}
            </span>
          </LoadMore>
          {list.isError ? (
            <ErrorMessage error={list.error} retry={() => void list.fetchNextPage()} />
          ) : null}
        </>
      )}
    </>
  );
}
