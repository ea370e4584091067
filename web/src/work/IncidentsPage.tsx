import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { api } from '../api/client.ts';
import type { Incident } from '../api/types.ts';
import { StepUpBanner } from '../components/StepUp.tsx';
import {
  Empty,
  ErrorMessage,
  InputField,
  Loading,
  LoadMore,
  PageHeader,
  SelectField,
} from '../components/ui.tsx';
import { formatDateTime, plural } from '../format.ts';
import { useCursorList, useDebounced } from '../hooks.ts';
import { useCan } from '../session.tsx';
import { IncidentChildren, SensitivityTag, statusLabels } from './common.tsx';

const PAGE_SIZE = 50;

/** The concerns the caller may see, newest first: searched and filtered on the server. */
export function IncidentsPage() {
  const can = useCan();
  const [params] = useSearchParams();
  const studentId = params.get('studentId') ?? '';
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [categoryId, setCategoryId] = useState('');
  const q = useDebounced(search.trim());
  const filters = { q, status, categoryId, studentId };

  const categories = useQuery({
    queryKey: ['categories', 'all'],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/categories', 'get'>>('/categories', undefined, signal),
    staleTime: 60_000,
  });
  const list = useCursorList<Incident>(
    ['incidents', 'list', filters],
    '/incidents',
    filters,
    PAGE_SIZE,
  );
  const count = useQuery({
    queryKey: ['incidents', 'count', filters],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/incidents/count', 'get'>>('/incidents/count', filters, signal),
  });
  const incidents = list.items;
  const filtered = Boolean(q || status || categoryId || studentId);

  return (
    <>
      <PageHeader title="Concerns" description="The concerns you can see, newest first.">
        {can('incidents.create') ? (
          <Link className="button" to="/concerns/new">
            Log a concern
          </Link>
        ) : null}
      </PageHeader>
      <search className="filters" aria-label="Find concerns">
        <InputField
          label="Search"
          type="search"
          value={search}
          autoComplete="off"
          onChange={(event) => setSearch(event.target.value)}
        />
        <SelectField
          label="Status"
          value={status}
          onChange={(event) => setStatus(event.target.value)}
        >
          <option value="">Any status</option>
          {Object.entries(statusLabels).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </SelectField>
        <SelectField
          label="Category"
          value={categoryId}
          onChange={(event) => setCategoryId(event.target.value)}
        >
          <option value="">Any category</option>
          {(categories.data?.items ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </SelectField>
      </search>
      {studentId ? (
        <p>
          Showing concerns about one child. <Link to="/incidents">Show all concerns</Link>
        </p>
      ) : null}
      <StepUpBanner count={count.data?.stepUpNeeded ?? 0} />
      <p className="result-count muted" aria-live="polite">
        {count.data ? plural(count.data.count, 'concern') : '\u00a0'}
      </p>
      {list.isPending ? (
        <Loading label="Loading concerns…" />
      ) : list.isError && incidents.length === 0 ? (
        <ErrorMessage error={list.error} retry={() => void list.refetch()} />
      ) : incidents.length === 0 ? (
        <Empty>
          {filtered ? 'No concerns match these filters.' : 'There are no concerns you can see.'}
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Concerns</caption>
              <thead>
                <tr>
                  <th scope="col">Concern</th>
                  <th scope="col">When</th>
                  <th scope="col">Children</th>
                  <th scope="col">Status</th>
                  <th scope="col">Logged by</th>
                </tr>
              </thead>
              <tbody>
                {incidents.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <Link to={`/incidents/${i.id}`}>{i.category.name}</Link>{' '}
                      <SensitivityTag sensitivity={i.category.sensitivity} />
                    </td>
                    <td>{formatDateTime(i.occurredAt)}</td>
                    <td>
                      <IncidentChildren students={i.students} />
                    </td>
                    <td>{statusLabels[i.status]}</td>
                    <td>{i.reporter.name}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore list={list}>
            <span className="muted">
              Showing {plural(incidents.length, 'concern')}
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
