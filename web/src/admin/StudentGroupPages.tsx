import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { ApiError, api, type Page } from '../api/client.ts';
import {
  Button,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  QueryState,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { formatDate, plural } from '../format.ts';
import { useDebounced, useSchools } from '../hooks.ts';
import { useCan } from '../session.tsx';
import { Pager, StudentSearch, useCursorPages, useSchoolName } from './common.tsx';
import { fromRule, type GroupDraft, newGroup, RuleGroupEditor, toRule } from './RuleBuilder.tsx';
import { type Student, type StudentGroup, type StudentGroupKind, studentName } from './types.ts';

const kindLabels: Record<StudentGroupKind, string> = {
  all: 'Every child in the school',
  manual: 'Children picked by hand',
  rule: 'Children matching a rule',
};

export function StudentGroupsPage() {
  const [params, setParams] = useSearchParams();
  const schoolId = params.get('schoolId') ?? '';
  const schools = useSchools();
  const schoolName = useSchoolName();
  const can = useCan();
  const query = useQuery({
    queryKey: ['student-groups', 'list', schoolId || null],
    queryFn: ({ signal }) => api.get<Page<StudentGroup>>('/student-groups', { schoolId }, signal),
  });
  return (
    <>
      <PageHeader
        title="Student groups"
        description="Groups of children that user groups are linked to."
      >
        {can('student_groups.manage') ? (
          <Link className="button" to="/admin/student-groups/new">
            Create a student group
          </Link>
        ) : null}
      </PageHeader>
      <div className="filters">
        <SelectField
          label="School"
          value={schoolId}
          onChange={(e) => setParams(e.target.value ? { schoolId: e.target.value } : {})}
        >
          <option value="">All schools</option>
          {schools.data?.items.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </SelectField>
      </div>
      <QueryState query={query} loading="Loading student groups…">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No student groups{schoolId ? ' at this school' : ''}.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">School</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Children</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((group) => (
                    <tr key={group.id}>
                      <td>
                        <Link to={`/admin/student-groups/${group.id}`}>{group.name}</Link>
                      </td>
                      <td>{schoolName(group.schoolId)}</td>
                      <td>{kindLabels[group.kind]}</td>
                      <td>{group.memberCount.toLocaleString('en-GB')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
    </>
  );
}

export function StudentGroupPage() {
  const { id = '' } = useParams();
  const query = useQuery({
    queryKey: ['student-groups', 'one', id],
    queryFn: ({ signal }) => api.get<StudentGroup>(`/student-groups/${id}`, undefined, signal),
    enabled: id !== 'new',
  });
  if (id === 'new') return <StudentGroupForm group={null} />;
  return (
    <QueryState query={query} loading="Loading the student group…">
      {(group) => (
        <>
          <StudentGroupForm key={group.id} group={group} />
          {group.kind === 'manual' ? <ManualMembers group={group} /> : null}
          <LinkedUserGroups group={group} />
          <GroupMembers group={group} />
        </>
      )}
    </QueryState>
  );
}

/** Create a group, or edit one's name, description and rule. */
function StudentGroupForm({ group }: { group: StudentGroup | null }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const can = useCan();
  const schools = useSchools();
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [schoolId, setSchoolId] = useState(group ? (group.schoolId ?? '') : '');
  const [kind, setKind] = useState<StudentGroupKind>(group?.kind ?? 'rule');
  const savedRule = group?.kind === 'rule' ? fromRule(group.rule) : null;
  const [rule, setRule] = useState<GroupDraft>(savedRule ?? newGroup());
  const [picked, setPicked] = useState<Student[]>([]);
  const [saved, setSaved] = useState(false);
  const ruleUnreadable = group?.kind === 'rule' && savedRule === null;
  const apiRule = kind === 'rule' ? toRule(rule) : null;
  const editable = can('student_groups.manage') && !group?.system;

  const save = useMutation({
    mutationFn: () => {
      if (group) {
        return api.patch<Answer<'/api/v1/student-groups/{id}', 'patch'>>(
          `/student-groups/${group.id}`,
          {
            name,
            description,
            ...(group.kind === 'rule' && !ruleUnreadable ? { rule: apiRule } : {}),
          },
        );
      }
      return api.post<Answer<'/api/v1/student-groups', 'post'>>('/student-groups', {
        name,
        description,
        schoolId: schoolId || null,
        kind,
        ...(kind === 'rule' ? { rule: apiRule } : {}),
        ...(kind === 'manual' ? { studentIds: picked.map((s) => s.id) } : {}),
      });
    },
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: ['student-groups'] });
      if (group) setSaved(true);
      else navigate(`/admin/student-groups/${result.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    save.mutate();
  };
  const fieldError = (field: string) =>
    save.error instanceof ApiError ? save.error.fieldMessage(field) : undefined;

  return (
    <>
      <PageHeader
        title={group ? group.name : 'Create a student group'}
        description={group ? kindLabels[group.kind] : undefined}
      />
      {saved ? <Notice tone="success">Saved.</Notice> : null}
      <form onSubmit={submit} className="panel" aria-labelledby="group-form-title">
        <h2 id="group-form-title">{group ? 'Details' : 'New group'}</h2>
        <InputField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          readOnly={!editable}
          error={fieldError('name')}
        />
        <TextAreaField
          label="Description"
          value={description}
          readOnly={!editable}
          onChange={(e) => setDescription(e.target.value)}
        />
        {group ? null : (
          <>
            <SelectField
              label="School"
              value={schoolId}
              onChange={(e) => setSchoolId(e.target.value)}
              hint="Whole organisation: children in every school."
            >
              <option value="">Whole organisation</option>
              {schools.data?.items.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </SelectField>
            <fieldset className="checks">
              <legend>Who is in the group</legend>
              {(Object.keys(kindLabels) as StudentGroupKind[]).map((k) => (
                <label key={k}>
                  <input
                    type="radio"
                    name="kind"
                    value={k}
                    checked={kind === k}
                    onChange={() => setKind(k)}
                  />{' '}
                  {kindLabels[k]}
                </label>
              ))}
            </fieldset>
          </>
        )}
        {kind === 'rule' ? (
          ruleUnreadable ? (
            <Notice tone="warning">
              This rule uses conditions the builder cannot show; it is kept as it is.
            </Notice>
          ) : (
            <>
              <h3>Rule</h3>
              <RuleGroupEditor
                group={rule}
                onChange={setRule}
                schools={schools.data?.items ?? []}
              />
              <RulePreview schoolId={group ? group.schoolId : schoolId || null} rule={apiRule} />
            </>
          )
        ) : null}
        {kind === 'manual' && !group ? (
          <>
            <h3>Children</h3>
            {picked.length === 0 ? (
              <Empty>No children picked yet.</Empty>
            ) : (
              <ul className="list compact" aria-label="Children picked">
                {picked.map((student) => (
                  <li key={student.id}>
                    {studentName(student)}
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => setPicked(picked.filter((s) => s.id !== student.id))}
                      aria-label={`Take out ${studentName(student)}`}
                    >
                      Take out
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <StudentSearch
              label="Find a child to add"
              actionLabel="Add"
              schoolId={schoolId || null}
              isPicked={(id) => picked.some((s) => s.id === id)}
              onPick={(student) => setPicked([...picked, student])}
            />
          </>
        ) : null}
        <ErrorMessage error={save.error} />
        {editable ? (
          <div className="pending-actions">
            <Button
              type="submit"
              busy={save.isPending}
              disabled={kind === 'rule' && !apiRule && !ruleUnreadable}
            >
              {group ? 'Save changes' : 'Create group'}
            </Button>
          </div>
        ) : null}
      </form>
    </>
  );
}

/** How many children the rule matches now; asked once typing pauses. */
function RulePreview({ schoolId, rule }: { schoolId: string | null; rule: unknown }) {
  const body = useDebounced(JSON.stringify({ schoolId, rule }), 400);
  const query = useQuery({
    queryKey: ['student-groups', 'preview', body],
    queryFn: () =>
      api.post<Answer<'/api/v1/student-groups/preview', 'post'>>(
        '/student-groups/preview',
        JSON.parse(body),
      ),
    enabled: rule !== null && body === JSON.stringify({ schoolId, rule }),
    placeholderData: (previous) => previous,
  });
  return (
    <div className="panel" aria-live="polite">
      <h3>Preview</h3>
      {rule === null ? (
        <p className="muted">Finish each condition to see who matches.</p>
      ) : query.isError ? (
        <ErrorMessage error={query.error} />
      ) : query.data ? (
        <>
          <p className="preview-count" data-testid="preview-count">
            {plural(query.data.count, 'child', 'children')} match
            {query.data.count === 1 ? 'es' : ''} now
          </p>
          {query.data.sample.length > 0 ? (
            <p className="muted">
              For example: {query.data.sample.slice(0, 5).map(studentName).join(', ')}
            </p>
          ) : null}
        </>
      ) : (
        <p className="muted">Counting…</p>
      )}
    </div>
  );
}

function ManualMembers({ group }: { group: StudentGroup }) {
  const queryClient = useQueryClient();
  const can = useCan();
  const add = useMutation({
    mutationFn: (student: Student) =>
      api.post(`/student-groups/${group.id}/students`, { studentIds: [student.id] }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['student-groups'] }),
  });
  if (!can('students.assign_groups')) return null;
  return (
    <section className="panel" aria-labelledby="add-children-title">
      <h2 id="add-children-title">Add children</h2>
      <StudentSearch
        label="Find a child to add"
        actionLabel="Add"
        schoolId={group.schoolId}
        onPick={(student) => add.mutate(student)}
      />
      <ErrorMessage error={add.error} />
    </section>
  );
}

/** Who sees this group's children: the user groups linked to it (issue 14, item 6). */
function LinkedUserGroups({ group }: { group: StudentGroup }) {
  const query = useQuery({
    queryKey: ['student-groups', 'linked-user-groups', group.id],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/student-groups/{id}/linked-user-groups', 'get'>>(
        `/student-groups/${group.id}/linked-user-groups`,
        undefined,
        signal,
      ),
  });
  return (
    <section className="panel" aria-labelledby="linked-groups-title">
      <h2 id="linked-groups-title">User groups that see these children</h2>
      {group.kind === 'all' ? (
        <p>
          Every member of these groups sees every child in this group. A new link to it is made only
          when confirmed, with the reason for it.
        </p>
      ) : null}
      <QueryState query={query} loading="Loading the linked groups…">
        {(data) => (
          <>
            {data.items.length === 0 ? (
              <Empty>No user group you can see is linked to this group.</Empty>
            ) : (
              <div className="table-wrap">
                <table aria-label="Linked user groups">
                  <thead>
                    <tr>
                      <th scope="col">User group</th>
                      <th scope="col">Administered from</th>
                      <th scope="col">Members</th>
                      <th scope="col">Linked since</th>
                      <th scope="col">Why</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((linked) => (
                      <tr key={linked.linkId}>
                        <td>
                          <Link to={`/admin/user-groups/${linked.id}`}>{linked.name}</Link>
                        </td>
                        <td>{linked.homeScope.name}</td>
                        <td>{linked.memberCount.toLocaleString('en-GB')}</td>
                        <td>{formatDate(linked.since)}</td>
                        <td>{linked.rationale ?? <span className="muted">—</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {data.otherGroups ? (
              <p className="muted">
                And {plural(data.otherGroups, 'group')} administered from elsewhere, which you
                cannot see.
              </p>
            ) : null}
          </>
        )}
      </QueryState>
    </section>
  );
}

function GroupMembers({ group }: { group: StudentGroup }) {
  const queryClient = useQueryClient();
  const can = useCan();
  const pages = useCursorPages(group.id);
  const query = useQuery({
    queryKey: ['student-groups', 'members', group.id, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<Student>>(
        `/student-groups/${group.id}/students`,
        { cursor: pages.cursor, limit: 50 },
        signal,
      ),
    placeholderData: (previous) => previous,
  });
  const remove = useMutation({
    mutationFn: (studentId: string) =>
      api.delete(`/student-groups/${group.id}/students/${studentId}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['student-groups'] }),
  });
  const mayRemove = group.kind === 'manual' && can('students.assign_groups');
  return (
    <section className="panel" aria-labelledby="children-title">
      <h2 id="children-title">
        Children in the group ({group.memberCount.toLocaleString('en-GB')})
      </h2>
      <p className="muted">Only the children you can see are listed.</p>
      <ErrorMessage error={remove.error} />
      <QueryState query={query} loading="Loading children…">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No children you can see are in this group.</Empty>
          ) : (
            <ul className="list compact" aria-label="Children in the group">
              {data.items.map((student) => (
                <li key={student.id}>
                  <div>
                    <Link to={`/students/${student.id}`}>{studentName(student)}</Link>
                    {student.yearGroup !== null ? (
                      <span className="muted"> Year {student.yearGroup}</span>
                    ) : null}
                  </div>
                  {mayRemove ? (
                    <Button
                      className="link-button"
                      busy={remove.isPending && remove.variables === student.id}
                      onClick={() => remove.mutate(student.id)}
                      aria-label={`Take ${studentName(student)} out of the group`}
                    >
                      Take out
                    </Button>
                  ) : null}
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
      <Pager pages={pages} nextCursor={query.data?.nextCursor} label="Pages of children" />
    </section>
  );
}
