import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import {
  assignmentInWords,
  permissionsInWords,
} from '../../../src/access/group-permission-words.ts';
import type { Answer } from '../api/answers.ts';
import { api } from '../api/client.ts';
import { roleLabels } from '../api/types.ts';
import { Empty, PageHeader, QueryState } from '../components/ui.tsx';
import { formatDate, plural } from '../format.ts';
import {
  AsOfField,
  asOfQuery,
  ChildPicker,
  denialInWords,
  type Explanation,
  PersonPicker,
  pathInWords,
} from './common.tsx';

/** What one person holds (`GET /users/:id/effective-permissions`), now or as of a past day. */
type EffectivePermissions = Answer<'/api/v1/users/{id}/effective-permissions', 'get'>;

/** A permission set held on a user group; sets on groups the caller may not see are left out. */
type GroupPermissionHeld = EffectivePermissions['groupPermissions'][number];

const clearanceNames = {
  child_protection: 'Child protection records',
  allegations: 'Allegations against staff',
};

const groupKinds: Record<string, string> = {
  all: 'all students',
  manual: 'chosen students',
  rule: 'students by a rule',
};

/** The access inspector: what one person holds, and why they can or cannot see one child. */
export function InspectorPage() {
  const [params, setParams] = useSearchParams();
  const userId = params.get('userId') ?? '';
  const studentId = params.get('studentId') ?? '';
  const day = params.get('asOf') ?? '';
  const asOf = asOfQuery(day);

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next);
  };

  return (
    <>
      <PageHeader
        title="Access inspector"
        description="What a member of staff can see, through which groups, and why — now or on a past date."
      />
      <section className="panel" aria-labelledby="inspector-person">
        <h2 id="inspector-person">Member of staff</h2>
        <PersonPicker onPick={(person) => update({ userId: person.id })} />
        <AsOfField value={day} onChange={(date) => update({ asOf: date })} />
      </section>
      {userId ? (
        <>
          <Effective userId={userId} asOf={asOf} />
          <section className="panel" aria-labelledby="inspector-explain">
            <h2 id="inspector-explain">Can they see a child?</h2>
            <ChildPicker onPick={(child) => update({ studentId: child.id })} />
            {studentId ? <Explain userId={userId} studentId={studentId} asOf={asOf} /> : null}
          </section>
        </>
      ) : (
        <Empty>Choose a member of staff to see their access.</Empty>
      )}
    </>
  );
}

function Effective({ userId, asOf }: { userId: string; asOf: string | undefined }) {
  const query = useQuery({
    queryKey: ['effective-permissions', userId, asOf],
    queryFn: ({ signal }) =>
      api.get<EffectivePermissions>(`/users/${userId}/effective-permissions`, { asOf }, signal),
  });
  return (
    <QueryState query={query} loading="Loading their access…">
      {(held) => (
        <>
          <section className="panel" aria-labelledby="inspector-summary">
            <h2 id="inspector-summary">
              {held.user.name}
              {held.user.status === 'disabled' ? ' (disabled)' : ''}
            </h2>
            <p className="muted">
              {held.user.email} · {held.asOf ? `as of ${formatDate(held.asOf)}` : 'now'}
            </p>
            <dl className="stats">
              <div>
                <dt>Children they can see</dt>
                <dd>{held.visibleStudents.toLocaleString('en-GB')}</dd>
              </div>
              <div>
                <dt>User groups</dt>
                <dd>{held.memberships.length}</dd>
              </div>
              <div>
                <dt>Blocks</dt>
                <dd>{held.blocks.length + held.hiddenBlocks}</dd>
              </div>
            </dl>
            {held.memberships.length > 0 ? (
              <p>
                Member of{' '}
                {held.memberships.map((m, index) => (
                  <span key={m.userGroupId ?? `hidden-${index}`}>
                    {index > 0 ? ', ' : ''}
                    {m.userGroupId ? (
                      <Link to={`/admin/user-groups/${m.userGroupId}`}>{m.name}</Link>
                    ) : (
                      <em>a group you cannot see</em>
                    )}
                    <span className="muted"> (since {formatDate(m.since)})</span>
                  </span>
                ))}
              </p>
            ) : (
              <p className="muted">Not a member of any user group.</p>
            )}
          </section>
          <div className="columns">
            <section className="panel" aria-labelledby="inspector-roles">
              <h2 id="inspector-roles">Roles</h2>
              {held.roles.length === 0 ? (
                <Empty>No role: they cannot see any child.</Empty>
              ) : (
                <ul className="list">
                  {held.roles.map((grant, index) => (
                    <li key={grant.grantId ?? index}>
                      <div>
                        <strong>{roleLabels[grant.role]}</strong> at {grant.scope.name}
                        <p className="muted">
                          {grant.source.type === 'direct'
                            ? 'Given to them directly'
                            : `Through ${grant.source.userGroupName ?? 'a group you cannot see'}`}
                          {` since ${formatDate(grant.since)}`}
                        </p>
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section className="panel" aria-labelledby="inspector-clearances">
              <h2 id="inspector-clearances">Clearances</h2>
              {held.clearances.length === 0 ? (
                <Empty>No clearance: they see no child-protection or allegation records.</Empty>
              ) : (
                <ul className="list">
                  {held.clearances.map((c, index) => (
                    <li key={`${c.clearance}-${c.source.userGroupId ?? `hidden-${index}`}`}>
                      <div>
                        <strong>{clearanceNames[c.clearance]}</strong>
                        <p className="muted">
                          Through {c.source.userGroupName ?? 'a group you cannot see'} since{' '}
                          {formatDate(c.since)}
                        </p>
                      </div>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>
          <section className="panel" aria-labelledby="inspector-paths">
            <h2 id="inspector-paths">Ways to children</h2>
            {held.paths.length === 0 ? (
              <Empty>No user group or link reaches any child.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Through</th>
                      <th scope="col">To</th>
                      <th scope="col">Children reached</th>
                      <th scope="col">Since</th>
                    </tr>
                  </thead>
                  <tbody>
                    {held.paths.map((path) => (
                      <tr key={path.linkId}>
                        <td>
                          {path.userGroup ? (
                            <Link to={`/admin/user-groups/${path.userGroup.id}`}>
                              {path.userGroup.name}
                            </Link>
                          ) : (
                            'A direct link'
                          )}
                        </td>
                        <td>
                          {path.studentGroup ? (
                            <>
                              {path.studentGroup.name}{' '}
                              <span className="muted">
                                ({groupKinds[path.studentGroup.kind] ?? path.studentGroup.kind})
                              </span>
                            </>
                          ) : path.student ? (
                            <Link to={`/students/${path.student.id}`}>{path.student.name}</Link>
                          ) : (
                            <span className="muted">A child you cannot see</span>
                          )}
                        </td>
                        <td>{plural(path.students, 'child', 'children')}</td>
                        <td>{formatDate(path.since)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <GroupAdministration sets={held.groupPermissions} />
          <section className="panel" aria-labelledby="inspector-blocks">
            <h2 id="inspector-blocks">Blocks</h2>
            {held.blocks.length === 0 && held.hiddenBlocks === 0 ? (
              <Empty>Not blocked from any child.</Empty>
            ) : (
              <ul className="list">
                {held.blocks.map((block) => (
                  <li key={block.id}>
                    <div>
                      Blocked from{' '}
                      <Link to={`/students/${block.student.id}`}>{block.student.name}</Link>
                      <p className="muted">
                        Since {formatDate(block.since)}: {block.reason}
                      </p>
                    </div>
                  </li>
                ))}
                {held.hiddenBlocks > 0 ? (
                  <li>{plural(held.hiddenBlocks, 'more block')} about children you cannot see.</li>
                ) : null}
              </ul>
            )}
          </section>
        </>
      )}
    </QueryState>
  );
}

/** The permission sets they hold on user groups, and through which assignment. */
function GroupAdministration({ sets }: { sets: GroupPermissionHeld[] }) {
  return (
    <section className="panel" aria-labelledby="inspector-group-administration">
      <h2 id="inspector-group-administration">Group administration</h2>
      {sets.length === 0 ? (
        <Empty>No permission set on any user group you can see.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Set</th>
                <th scope="col">They may</th>
                <th scope="col">How</th>
              </tr>
            </thead>
            <tbody>
              {sets.map((held, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a set may be held twice, by two ways
                <tr key={`${held.userGroup.id}-${held.set.id}-${index}`}>
                  <td>
                    <Link to={`/admin/user-groups/${held.userGroup.id}`}>
                      {held.userGroup.name}
                    </Link>
                  </td>
                  <td>{held.set.name}</td>
                  <td>{permissionsInWords(held.permissions)}</td>
                  <td>
                    {held.via.type === 'user_group'
                      ? assignmentInWords(
                          'user_group',
                          held.via.userGroupName ?? 'a group you cannot see',
                        )
                      : assignmentInWords(held.via.type)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Explain({
  userId,
  studentId,
  asOf,
}: {
  userId: string;
  studentId: string;
  asOf: string | undefined;
}) {
  const query = useQuery({
    queryKey: ['explain', userId, studentId, asOf],
    queryFn: ({ signal }) =>
      api.get<Explanation>('/access/explain', { userId, studentId, asOf }, signal),
  });
  return (
    <QueryState query={query} loading="Working it out…">
      {(answer) => (
        <div aria-live="polite">
          <div className={`verdict${answer.allowed ? '' : ' verdict-denied'}`}>
            <p>
              {answer.allowed
                ? `Allowed: ${answer.user.name} can see ${answer.student.name}`
                : `Not allowed: ${answer.user.name} cannot see ${answer.student.name}`}
              {answer.asOf ? ` (as of ${formatDate(answer.asOf)})` : ''}
            </p>
          </div>
          <h3>Ways in</h3>
          {answer.paths.length === 0 ? (
            <Empty>No user group or link reaches this child.</Empty>
          ) : (
            <ul className="paths">
              {answer.paths.map((path) => (
                <li key={path.linkId}>{pathInWords(path, answer.student.name)}</li>
              ))}
            </ul>
          )}
          <h3>What stops them</h3>
          {answer.denials.length === 0 ? (
            <Empty>Nothing.</Empty>
          ) : (
            <ul className="paths">
              {answer.denials.map((denial) => (
                <li key={denial.block?.id ?? denial.kind}>{denialInWords(denial)}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </QueryState>
  );
}
