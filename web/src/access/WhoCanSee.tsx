import { useState } from 'react';
import { Link } from 'react-router';
import type { Item } from '../api/answers.ts';
import { Button, Empty, ErrorMessage, Loading } from '../components/ui.tsx';
import { formatDate, plural } from '../format.ts';
import { useCursorList } from '../hooks.ts';
import { useCan } from '../session.tsx';
import { AsOfField, asOfQuery, pathInWords } from './common.tsx';

/** A person who can see the child, and every way they reach them. */
type Viewer = Item<'/api/v1/students/{id}/access'>;

/**
 * "Who can see this child", with an "as of" date: shown on each student page. Listing people
 * by name is an access-audit task (Admin); others see nothing here.
 */
export function WhoCanSee({ studentId }: { studentId: string }) {
  const can = useCan();
  if (!can('reports.access_audit')) return null;
  return <WhoCanSeeList studentId={studentId} />;
}

function WhoCanSeeList({ studentId }: { studentId: string }) {
  const [day, setDay] = useState('');
  const asOf = asOfQuery(day);
  const query = useCursorList<Viewer>(
    ['who-can-see', studentId, asOf],
    `/students/${studentId}/access`,
    { asOf },
    25,
  );
  const people = query.items;
  const headingId = `who-${studentId}`;
  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Who can see this child</h2>
      <AsOfField value={day} onChange={setDay} />
      {query.isPending ? (
        <Loading label="Finding who can see this child…" />
      ) : query.isError ? (
        <ErrorMessage error={query.error} retry={() => void query.refetch()} />
      ) : people.length === 0 ? (
        <Empty>No one{asOf ? ` on ${formatDate(asOf)}` : ''}.</Empty>
      ) : (
        <>
          <p role="status">
            {plural(people.length, 'person', 'people')}
            {query.hasNextPage ? ' so far' : ''}
            {asOf ? ` on ${formatDate(asOf)}` : ''}
          </p>
          <ul className="list" aria-label="People who can see this child">
            {people.map(({ user, paths }) => (
              <li key={user.id}>
                <div>
                  <Link to={`/access/inspector?userId=${user.id}&studentId=${studentId}`}>
                    {user.name}
                  </Link>
                  {paths.length === 0 ? (
                    <p className="muted">Through their role</p>
                  ) : (
                    <ul className="paths">
                      {paths.map((path) => (
                        <li key={path.linkId}>{pathInWords(path, 'this child')}</li>
                      ))}
                    </ul>
                  )}
                </div>
              </li>
            ))}
          </ul>
          {query.hasNextPage ? (
            <Button
              className="secondary more"
              busy={query.isFetchingNextPage}
              onClick={() => void query.fetchNextPage()}
            >
              Show more people
            </Button>
          ) : null}
        </>
      )}
    </section>
  );
}
