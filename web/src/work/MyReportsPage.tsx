import { Link } from 'react-router';
import type { MyReport } from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import { Empty, ErrorMessage, Loading, LoadMore, PageHeader } from '../components/ui.tsx';
import { formatDateTime, plural } from '../format.ts';
import { useCursorList } from '../hooks.ts';
import { useCan } from '../session.tsx';
import { statusLabels } from './common.tsx';

const PAGE_SIZE = 50;

/**
 * The concerns the caller reported, newest first: what became of each without a two-factor check
 * (`GET /me/reports` holds no account of what happened; opening one reads it as its reporter).
 */
export function MyReportsPage() {
  const can = useCan();
  const list = useCursorList<MyReport>(['me', 'reports'], '/me/reports', {}, PAGE_SIZE);
  const reports = list.items;
  return (
    <>
      <PageHeader title="My reports" description="The concerns you logged, newest first.">
        {can('incidents.create') ? (
          <Link className="button" to="/concerns/new">
            Log a concern
          </Link>
        ) : null}
      </PageHeader>
      {list.isPending ? (
        <Loading label="Loading your reports…" />
      ) : list.isError && reports.length === 0 ? (
        <ErrorMessage error={list.error} retry={() => void list.refetch()} />
      ) : reports.length === 0 ? (
        <Empty>You have not logged a concern yet.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">My reports</caption>
              <thead>
                <tr>
                  <th scope="col">Concern</th>
                  <th scope="col">Sensitivity</th>
                  <th scope="col">Logged</th>
                  <th scope="col">Status</th>
                  <th scope="col">Children named</th>
                </tr>
              </thead>
              <tbody>
                {reports.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/incidents/${r.id}`}>{r.categoryName}</Link>
                    </td>
                    <td>{sensitivityLabels[r.sensitivity]}</td>
                    <td>{formatDateTime(r.createdAt)}</td>
                    <td>{statusLabels[r.status]}</td>
                    <td>
                      {r.studentNames.join(', ') || <span className="muted">None named</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <LoadMore list={list}>
            <span className="muted">Showing {plural(reports.length, 'report')}</span>
          </LoadMore>
          {list.isError ? (
            <ErrorMessage error={list.error} retry={() => void list.fetchNextPage()} />
          ) : null}
        </>
      )}
    </>
  );
}
