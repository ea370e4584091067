import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'react-router';
import { useWideningConfirm } from '../access/Widening.tsx';
import { ApiError, api, type Page } from '../api/client.ts';
import {
  Button,
  Dialog,
  Empty,
  ErrorMessage,
  Notice,
  PageHeader,
  QueryState,
  TextAreaField,
} from '../components/ui.tsx';
import { formatDate } from '../format.ts';
import { Pager, StudentSearch, UserSearch, useCursorPages } from './common.tsx';
import type { Block, ListedBlock, Student, User } from './types.ts';
import { studentName } from './types.ts';

export function BlocksPage() {
  const [userFilter, setUserFilter] = useState<User | null>(null);
  const [studentFilter, setStudentFilter] = useState<Student | null>(null);
  const pages = useCursorPages(`${userFilter?.id}|${studentFilter?.id}`);
  const query = useQuery({
    queryKey: ['blocks', userFilter?.id, studentFilter?.id, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<ListedBlock>>(
        '/blocks',
        { userId: userFilter?.id, studentId: studentFilter?.id, cursor: pages.cursor, limit: 50 },
        signal,
      ),
  });
  const [lifting, setLifting] = useState<ListedBlock | null>(null);
  return (
    <>
      <PageHeader
        title="Blocks"
        description="A block hides a child from one member of staff, whatever else would let them see the child."
      />
      <AddBlock />
      <section aria-labelledby="blocks-title">
        <h2 id="blocks-title">Current blocks</h2>
        <details className="filters-details">
          <summary>Filter by person or child</summary>
          {userFilter ? (
            <p>
              Staff: {userFilter.name}{' '}
              <button type="button" className="link-button" onClick={() => setUserFilter(null)}>
                Clear
              </button>
            </p>
          ) : (
            <UserSearch
              label="Only blocks on a member of staff"
              actionLabel="Filter"
              onPick={setUserFilter}
            />
          )}
          {studentFilter ? (
            <p>
              Child: {studentName(studentFilter)}{' '}
              <button type="button" className="link-button" onClick={() => setStudentFilter(null)}>
                Clear
              </button>
            </p>
          ) : (
            <StudentSearch
              label="Only blocks on a child"
              actionLabel="Filter"
              onPick={setStudentFilter}
            />
          )}
        </details>
        <QueryState query={query} loading="Loading blocks…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No current blocks.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Member of staff</th>
                      <th scope="col">Cannot see</th>
                      <th scope="col">Reason</th>
                      <th scope="col">Since</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((block) => (
                      <tr key={block.id}>
                        <td>
                          <Link to={`/admin/users/${block.userId}`}>{block.userName}</Link>
                        </td>
                        <td>
                          <Link to={`/students/${block.studentId}`}>{block.studentName}</Link>
                        </td>
                        <td>{block.reason}</td>
                        <td>{formatDate(block.since)}</td>
                        <td>
                          <button
                            type="button"
                            className="link-button"
                            onClick={() => setLifting(block)}
                            aria-label={`Lift the block on ${block.userName} seeing ${block.studentName}`}
                          >
                            Lift
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryState>
        <Pager pages={pages} nextCursor={query.data?.nextCursor} label="Pages of blocks" />
      </section>
      <LiftBlock block={lifting} onClose={() => setLifting(null)} />
    </>
  );
}

function AddBlock() {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | null>(null);
  const [student, setStudent] = useState<Student | null>(null);
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api.post<Block>('/blocks', { userId: user?.id, studentId: student?.id, reason }),
    onSuccess: () => {
      setDone(`${user?.name} can no longer see ${student ? studentName(student) : ''}.`);
      setUser(null);
      setStudent(null);
      setReason('');
      void queryClient.invalidateQueries({ queryKey: ['blocks'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (user && student) create.mutate();
  };
  return (
    <section className="panel" aria-labelledby="add-block-title">
      <h2 id="add-block-title">Add a block</h2>
      {done ? <Notice tone="success">{done}</Notice> : null}
      <form onSubmit={submit}>
        {user ? (
          <p>
            Member of staff: <strong>{user.name}</strong>{' '}
            <button type="button" className="link-button" onClick={() => setUser(null)}>
              Change
            </button>
          </p>
        ) : (
          <UserSearch label="Member of staff" actionLabel="Choose" onPick={setUser} />
        )}
        {student ? (
          <p>
            Child: <strong>{studentName(student)}</strong>{' '}
            <button type="button" className="link-button" onClick={() => setStudent(null)}>
              Change
            </button>
          </p>
        ) : (
          <StudentSearch label="Child" actionLabel="Choose" onPick={setStudent} />
        )}
        <TextAreaField
          label="Reason"
          hint="For example: a family member, or a conflict of interest. Kept in the history."
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          required
          error={create.error instanceof ApiError ? create.error.fieldMessage('reason') : undefined}
        />
        <ErrorMessage error={create.error} />
        <Button type="submit" busy={create.isPending} disabled={!user || !student}>
          Add block
        </Button>
      </form>
    </section>
  );
}

/**
 * Lifting a block may let the member of staff read child-protection or allegation records about
 * the child again: the server tries the lift first, and if it would, the user confirms.
 */
function LiftBlock({ block, onClose }: { block: ListedBlock | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const { confirm, dialog } = useWideningConfirm();
  const [reason, setReason] = useState('');
  const lift = useMutation({
    mutationFn: async (id: string) => {
      if (!(await confirm({ kind: 'block_removal', blockId: id }))) return false;
      await api.delete(`/blocks/${id}?reason=${encodeURIComponent(reason.trim())}`);
      return true;
    },
    onSuccess: (lifted) => {
      if (!lifted) return;
      setReason('');
      onClose();
      void queryClient.invalidateQueries({ queryKey: ['blocks'] });
    },
  });
  return (
    <>
      <Dialog open={block !== null} title="Lift the block?" onClose={onClose}>
        {block ? (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              lift.mutate(block.id);
            }}
          >
            <p>
              {block.userName} will be able to see {block.studentName} again if anything else lets
              them.
            </p>
            <TextAreaField
              label="Reason for lifting"
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              required
            />
            <ErrorMessage error={lift.error} />
            <div className="dialog-actions">
              <Button type="submit" className="danger" busy={lift.isPending}>
                Lift block
              </Button>
              <button type="button" className="secondary" onClick={onClose}>
                Cancel
              </button>
            </div>
          </form>
        ) : null}
      </Dialog>
      {dialog}
    </>
  );
}
