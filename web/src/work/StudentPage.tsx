import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { WhoCanSee } from '../access/WhoCanSee.tsx';
import type { Answer, Item } from '../api/answers.ts';
import { api } from '../api/client.ts';
import type { IncidentListPage, IncidentStatus } from '../api/types.ts';
import { StepUpBanner } from '../components/StepUp.tsx';
import { Button, Empty, PageHeader, QueryState } from '../components/ui.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { useCursorList } from '../hooks.ts';
import { useCan } from '../session.tsx';
import {
  DocumentList,
  IncidentChildren,
  SensitivityTag,
  type StudentDetail,
  statusLabels,
  studentName,
  yearLabel,
} from './common.tsx';

type ChronologyEntry = Item<'/api/v1/students/{id}/chronology'>;

/** The child's safeguarding file as the signed-in person may see it. */
function safeguardingFileUrl(studentId: string, format: 'pdf' | 'json'): string {
  return `/api/v1/students/${encodeURIComponent(studentId)}/safeguarding-file?format=${format}`;
}

const senLabels: Record<StudentDetail['senStatus'], string> = {
  none: 'None',
  K: 'SEN support',
  E: 'Education, health and care plan',
};

export function StudentPage() {
  const { id = '' } = useParams();
  const can = useCan();
  const student = useQuery({
    queryKey: ['students', 'one', id],
    queryFn: ({ signal }) => api.get<StudentDetail>(`/students/${id}`, undefined, signal),
  });

  if (!student.data) {
    return (
      <>
        <PageHeader title={student.isError ? 'Student not found' : 'Student'} />
        <QueryState query={student} loading="Loading the student…">
          {() => null}
        </QueryState>
      </>
    );
  }
  const s = student.data;
  return (
    <>
      <PageHeader title={studentName(s)} description={yearLabel(s.yearGroup)}>
        {can('students.view') ? (
          // The server decides what the file holds (the records this person may read); each
          // download is in the access log.
          <>
            <a className="button secondary" href={safeguardingFileUrl(s.id, 'pdf')} download>
              Safeguarding file (PDF)
            </a>
            <a className="button secondary" href={safeguardingFileUrl(s.id, 'json')} download>
              JSON
            </a>
          </>
        ) : null}
        {can('transfers.manage') ? (
          <Link
            className="button secondary"
            to={`/transfers?studentId=${encodeURIComponent(s.id)}`}
          >
            Transfer the file
          </Link>
        ) : null}
        {can('incidents.create') ? (
          <Link className="button" to={`/concerns/new?studentId=${encodeURIComponent(s.id)}`}>
            Log a concern about this child
          </Link>
        ) : null}
      </PageHeader>
      <div className="stack">
        <section className="panel" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="facts">
            {s.preferredName ? (
              <>
                <dt>Preferred name</dt>
                <dd>{s.preferredName}</dd>
              </>
            ) : null}
            <dt>Date of birth</dt>
            <dd>{s.dateOfBirth ? formatDate(s.dateOfBirth) : 'Not recorded'}</dd>
            <dt>Year group</dt>
            <dd>{yearLabel(s.yearGroup) || 'Not recorded'}</dd>
            <dt>House</dt>
            <dd>{s.house ?? 'Not recorded'}</dd>
            <dt>UPN</dt>
            <dd>{s.upn ?? 'Not recorded'}</dd>
            <dt>SEN</dt>
            <dd>{senLabels[s.senStatus]}</dd>
            {s.flags.length > 0 ? (
              <>
                <dt>Flags</dt>
                <dd>{s.flags.map((f) => f.replaceAll('_', ' ')).join(', ')}</dd>
              </>
            ) : null}
          </dl>
        </section>
        <Chronology studentId={s.id} />
        <Concerns studentId={s.id} />
        <StudentDocuments studentId={s.id} />
        <WhoCanSee studentId={s.id} />
      </div>
    </>
  );
}

function Chronology({ studentId }: { studentId: string }) {
  const query = useCursorList<ChronologyEntry>(
    ['students', 'chronology', studentId],
    `/students/${studentId}/chronology`,
    {},
    25,
  );
  const entries = query.items;
  return (
    <section className="panel" aria-labelledby="chronology-title">
      <h2 id="chronology-title">Chronology</h2>
      <QueryState query={query} loading="Loading the chronology…">
        {() =>
          entries.length === 0 ? (
            <Empty>Nothing recorded that you can see.</Empty>
          ) : (
            <>
              <ol className="list">
                {entries.map((e) => (
                  <li key={`${e.type}-${e.id}`}>
                    <div>
                      <Link to={`/incidents/${e.incidentId}`}>
                        {e.type === 'incident' ? `Concern: ${e.title}` : `Action: ${e.title}`}
                      </Link>
                      <p className="muted">
                        {formatDateTime(e.at)} ·{' '}
                        {e.type === 'incident'
                          ? (statusLabels[e.detail as IncidentStatus] ?? e.detail)
                          : e.detail === 'completed'
                            ? 'Done'
                            : 'Open'}
                      </p>
                    </div>
                  </li>
                ))}
              </ol>
              {query.hasNextPage ? (
                <div className="pager">
                  <Button
                    className="secondary"
                    busy={query.isFetchingNextPage}
                    onClick={() => void query.fetchNextPage()}
                  >
                    Load more
                  </Button>
                </div>
              ) : null}
            </>
          )
        }
      </QueryState>
    </section>
  );
}

function Concerns({ studentId }: { studentId: string }) {
  const query = useQuery({
    queryKey: ['incidents', 'list', { studentId }],
    queryFn: ({ signal }) =>
      api.get<IncidentListPage>('/incidents', { studentId, limit: 50 }, signal),
  });
  return (
    <section className="panel" aria-labelledby="concerns-title">
      <h2 id="concerns-title">Concerns</h2>
      <StepUpBanner count={query.data?.stepUpNeeded ?? 0} />
      <QueryState query={query} loading="Loading concerns…">
        {({ items, nextCursor }) =>
          items.length === 0 ? (
            <Empty>No concerns you can see.</Empty>
          ) : (
            <>
              <ul className="list">
                {items.map((i) => (
                  <li key={i.id}>
                    <div>
                      <Link to={`/incidents/${i.id}`}>{i.category.name}</Link>{' '}
                      <SensitivityTag sensitivity={i.category.sensitivity} />
                      <p className="muted">
                        {formatDateTime(i.occurredAt)} · {statusLabels[i.status]} · About{' '}
                        <IncidentChildren students={i.students} />
                      </p>
                    </div>
                  </li>
                ))}
              </ul>
              {nextCursor ? (
                <p>
                  <Link to={`/incidents?studentId=${encodeURIComponent(studentId)}`}>
                    All concerns about this child
                  </Link>
                </p>
              ) : null}
            </>
          )
        }
      </QueryState>
    </section>
  );
}

function StudentDocuments({ studentId }: { studentId: string }) {
  const queryKey = ['documents', 'student', studentId];
  const query = useQuery({
    queryKey,
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/students/{id}/documents', 'get'>>(
        `/students/${studentId}/documents`,
        undefined,
        signal,
      ),
  });
  return (
    <section className="panel" aria-labelledby="documents-title">
      <h2 id="documents-title">Documents</h2>
      <QueryState query={query} loading="Loading documents…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No documents on this child's file.</Empty>
          ) : (
            <DocumentList items={items} queryKey={queryKey} />
          )
        }
      </QueryState>
    </section>
  );
}
