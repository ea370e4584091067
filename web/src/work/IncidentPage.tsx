import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useWideningConfirm } from '../access/Widening.tsx';
import type { Answer } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import type {
  Action,
  Category,
  DocumentInfo,
  Incident,
  IncidentPatch,
  IncidentStatus,
  School,
} from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import { needsStepUp, StepUpPrompt } from '../components/StepUp.tsx';
import {
  Button,
  ConfirmDeletion,
  Empty,
  ErrorMessage,
  InputField,
  PageHeader,
  QueryState,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import {
  endOfDayIso,
  formatDate,
  formatDateTime,
  fromLocalInput,
  toLocalInput,
} from '../format.ts';
import { useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';
import {
  type Assignee,
  AssigneePicker,
  categoryLabel,
  DocumentList,
  IncidentChildren,
  isSensitive,
  type PickedStudent,
  StudentPicker,
  statusLabels,
} from './common.tsx';

/** An edit as the page makes it; the revision it was made on is added when it is sent. */
type Change = Omit<IncidentPatch, 'revision'>;

function isStale(error: unknown) {
  return error instanceof ApiError && error.code === 'stale_revision';
}

/**
 * Whether an edit may let other people read the record, and so is previewed first: a new
 * category, other children, another school, or closing a sensitive record (spec section 4).
 */
function decidesReaders(i: Incident, change: Change): boolean {
  return (
    (change.categoryId !== undefined && change.categoryId !== i.category.id) ||
    change.studentIds !== undefined ||
    (change.schoolId !== undefined && change.schoolId !== i.schoolId) ||
    (change.subjectUserId !== undefined && change.subjectUserId !== i.subjectUserId) ||
    (change.status === 'closed' && i.status !== 'closed' && isSensitive(i.category.sensitivity))
  );
}

/**
 * A category the caller may move the record to: without `reclassify`, a child-protection or
 * allegation record keeps its sensitivity (raising a standard one is open to anyone who edits).
 */
function categoryOffered(i: Incident, c: Category): boolean {
  return (
    i.abilities.reclassify ||
    !isSensitive(i.category.sensitivity) ||
    c.sensitivity === i.category.sensitivity
  );
}

/** Statuses offered: closing a sensitive record is a safeguarding decision. */
function statusesOffered(i: Incident): IncidentStatus[] {
  const all = Object.keys(statusLabels) as IncidentStatus[];
  const mayClose =
    i.abilities.reclassify || !isSensitive(i.category.sensitivity) || i.status === 'closed';
  return mayClose ? all : all.filter((s) => s !== 'closed');
}

/** The other schools the caller may move this record to, as the server says (`abilities.moveTo`). */
function useMoveTargets(i: Incident): School[] {
  const schools = useSchools();
  const allowed = new Set(i.abilities.moveTo);
  return (schools.data?.items ?? []).filter((school) => allowed.has(school.id));
}

export function IncidentPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const incident = useQuery({
    queryKey: ['incidents', 'one', id],
    queryFn: ({ signal }) => api.get<Incident>(`/incidents/${id}`, undefined, signal),
  });
  const [stale, setStale] = useState(false);
  // Saved, but the edit took the record out of the editor's reach (handed over as an allegation).
  const [handedOver, setHandedOver] = useState(false);
  const { confirm, dialog } = useWideningConfirm();

  // Every change is sent with the revision it was made on; a newer one on the server wins. An
  // edit that decides who reads the record is tried by the server first and, if it would let
  // more people read it, goes ahead only once the user confirms. Resolves null if they do not.
  const patch = useMutation({
    mutationFn: async (change: Change) => {
      const current = incident.data;
      if (!current) return null;
      const body: IncidentPatch = { ...change, revision: current.revision };
      if (
        decidesReaders(current, change) &&
        !(await confirm({ kind: 'incident_update', incidentId: current.id, patch: body }))
      )
        return null;
      return api.patch<Edited>(`/incidents/${id}`, body);
    },
    onSuccess: (updated) => {
      if (!updated) return;
      if ('withheld' in updated) {
        setHandedOver(true);
        queryClient.removeQueries({ queryKey: ['incidents', 'one', id] });
        void queryClient.invalidateQueries({ queryKey: ['incidents', 'list'] });
        return;
      }
      queryClient.setQueryData(['incidents', 'one', id], updated);
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'revisions', id] });
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'list'] });
      void queryClient.invalidateQueries({ queryKey: ['students', 'chronology'] });
    },
    onError: (error) => setStale(isStale(error)),
  });

  if (handedOver) {
    return (
      <>
        <PageHeader title="Concern saved" />
        <div className="notice" role="status">
          <p>
            Your change was saved. The concern is now out of your reach: only those cleared for what
            it has become can read it.
          </p>
          <Link to="/incidents">Back to concerns</Link>
        </div>
      </>
    );
  }
  if (incident.isError && needsStepUp(incident.error)) {
    return (
      <>
        <PageHeader title="Concern" />
        <StepUpPrompt onPassed={() => void incident.refetch()} />
      </>
    );
  }
  if (!incident.data) {
    return (
      <>
        <PageHeader title={incident.isError ? 'Concern not found' : 'Concern'} />
        <QueryState query={incident} loading="Loading the concern…">
          {() => null}
        </QueryState>
      </>
    );
  }

  const i = incident.data;
  async function reload() {
    await incident.refetch();
    setStale(false);
    patch.reset();
  }

  return (
    <>
      <PageHeader
        title={i.category.name}
        description={`Logged by ${i.reporter.name} on ${formatDateTime(i.createdAt)}`}
      >
        {i.abilities.delete ? <DeleteIncident incidentId={i.id} /> : null}
      </PageHeader>
      {stale ? (
        <div className="notice notice-warning" role="alert">
          <p>
            Someone else changed this concern while you were looking at it, so your change was not
            saved. Reload to see the latest version, then make your change again.
          </p>
          <Button className="secondary" onClick={() => void reload()}>
            Reload
          </Button>
        </div>
      ) : null}
      <div className="stack">
        <Account incident={i} patch={patch} />
        <Assignees incident={i} />
        <Actions incident={i} />
        <Documents incident={i} />
        {i.abilities.manageExclusions ? <Exclusions incidentId={i.id} /> : null}
        <Revisions incident={i} />
      </div>
      {dialog}
    </>
  );
}

/** What an edit answers: the record as the editor now reads it, or that it left their reach. */
type Edited = Answer<'/api/v1/incidents/{id}', 'patch'>;
type PatchMutation = ReturnType<typeof useMutation<Edited | null, Error, Change>>;

function Account({ incident: i, patch }: { incident: Incident; patch: PatchMutation }) {
  const [editing, setEditing] = useState(false);
  const [status, setStatus] = useState(i.status);
  const [lastStatus, setLastStatus] = useState(i.status);
  const schoolName = useSchoolName();
  if (lastStatus !== i.status) {
    setLastStatus(i.status);
    setStatus(i.status);
  }
  const failed = patch.isError && !isStale(patch.error) ? patch.error : null;
  return (
    <section className="panel" aria-labelledby="account-title">
      <h2 id="account-title">What happened</h2>
      {editing ? (
        <EditIncident incident={i} patch={patch} onDone={() => setEditing(false)} />
      ) : (
        <>
          <p className="account-text">{i.description}</p>
          <dl className="facts">
            <dt>Children</dt>
            <dd>
              {i.students.map((s, n) => (
                <span key={s.redacted ? `hidden-${n}` : s.id}>
                  {n > 0 ? ', ' : ''}
                  {s.redacted ? (
                    <em>A child you cannot see</em>
                  ) : (
                    <Link to={`/students/${s.id}`}>{s.name}</Link>
                  )}
                </span>
              ))}
              {i.students.length === 0 && !i.unlistedChild ? 'None named' : null}
            </dd>
            {i.unlistedChild ? (
              <>
                <dt>Child not on roll</dt>
                <dd>
                  {i.unlistedChild.name}
                  {i.unlistedChild.note ? (
                    <span className="muted"> · {i.unlistedChild.note}</span>
                  ) : null}
                </dd>
              </>
            ) : null}
            <dt>Category</dt>
            <dd>
              {i.category.name} ({sensitivityName(i.category)})
            </dd>
            {schoolName.many ? (
              <>
                <dt>School</dt>
                <dd>{schoolName(i.schoolId)}</dd>
              </>
            ) : null}
            <dt>When</dt>
            <dd>{formatDateTime(i.occurredAt)}</dd>
            <dt>Where</dt>
            <dd>{i.location || 'Not recorded'}</dd>
            <dt>Status</dt>
            <dd>{statusLabels[i.status]}</dd>
            <dt>Revision</dt>
            <dd>
              {i.revision}, last changed {formatDateTime(i.updatedAt)}
            </dd>
          </dl>
          {i.abilities.update ? (
            <>
              <form
                className="inline-form"
                onSubmit={(event) => {
                  event.preventDefault();
                  patch.mutate({ status });
                }}
              >
                <SelectField
                  label="Change status"
                  value={status}
                  onChange={(event) => setStatus(event.target.value as IncidentStatus)}
                >
                  {statusesOffered(i).map((value) => (
                    <option key={value} value={value}>
                      {statusLabels[value]}
                    </option>
                  ))}
                </SelectField>
                <Button
                  type="submit"
                  className="secondary"
                  busy={patch.isPending}
                  disabled={status === i.status}
                >
                  Save status
                </Button>
                <Button className="secondary" onClick={() => setEditing(true)}>
                  Edit the account
                </Button>
              </form>
              {i.abilities.reclassify ||
              !isSensitive(i.category.sensitivity) ||
              i.status === 'closed' ? null : (
                <p className="hint">
                  Only a Deputy DSL or above at this school can close this record.
                </p>
              )}
              <ErrorMessage error={failed} />
            </>
          ) : null}
        </>
      )}
    </section>
  );
}

function sensitivityName(c: Pick<Category, 'sensitivity'>): string {
  return sensitivityLabels[c.sensitivity].toLowerCase();
}

/** A school's name from the schools query; `many` when the organisation has more than one. */
function useSchoolName(): ((schoolId: string) => string) & { many: boolean } {
  const schools = useSchools().data?.items ?? [];
  const name = (schoolId: string) =>
    schools.find((s) => s.id === schoolId)?.name ?? 'Another school';
  return Object.assign(name, { many: schools.length > 1 });
}

/**
 * Edits a concern. Everyone who may update it corrects the account, when and where, raises its
 * sensitivity and adds children they can see; lowering the sensitivity, taking a child off,
 * moving it to another school and changing whom an allegation is about are offered only with
 * `reclassify`. Children the caller cannot see stay on the record whatever is sent.
 */
function EditIncident({
  incident: i,
  patch,
  onDone,
}: {
  incident: Incident;
  patch: PatchMutation;
  onDone: () => void;
}) {
  const mayReclassify = i.abilities.reclassify;
  const visible: PickedStudent[] = i.students.flatMap((s) =>
    s.redacted ? [] : [{ id: s.id, name: s.name }],
  );
  const hidden = i.students.length - visible.length;
  const [description, setDescription] = useState(i.description);
  const [occurredAt, setOccurredAt] = useState(toLocalInput(new Date(i.occurredAt)));
  const [location, setLocation] = useState(i.location ?? '');
  const [categoryId, setCategoryId] = useState(i.category.id);
  const [children, setChildren] = useState(visible);
  const [schoolId, setSchoolId] = useState(i.schoolId);
  const [subject, setSubject] = useState<Assignee | null>(
    i.subjectUserId
      ? { type: 'user', id: i.subjectUserId, name: 'The member of staff named now' }
      : null,
  );
  const [missing, setMissing] = useState<Partial<Record<keyof Change, string>>>({});
  const moveTargets = useMoveTargets(i);
  const schoolName = useSchoolName();
  const moving = mayReclassify && moveTargets.length > 0;
  const categories = useQuery({
    queryKey: ['categories', schoolId],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/categories', 'get'>>('/categories', { schoolId }, signal),
    staleTime: 60_000,
  });
  const offered = (categories.data?.items ?? (schoolId === i.schoolId ? [i.category] : [])).filter(
    (c) => categoryOffered(i, c),
  );
  const category = offered.find((c) => c.id === categoryId);
  // Naming whom an allegation is about: needed when a record becomes one; changing it is a
  // safeguarding decision.
  const asksSubject =
    category?.sensitivity === 'allegation' &&
    (i.category.sensitivity !== 'allegation' || mayReclassify);
  const error = patch.error instanceof ApiError && !isStale(patch.error) ? patch.error : null;
  const fieldError = (field: keyof Change) => missing[field] ?? error?.fieldMessage(field);
  const shownFields: (keyof Change)[] = [
    'description',
    'studentIds',
    'categoryId',
    'occurredAt',
    'location',
    ...(moving ? (['schoolId'] as const) : []),
    ...(asksSubject ? (['subjectUserId'] as const) : []),
  ];
  // A refusal that names no field shown here (a 403, or another field) is shown as a whole.
  const unplaced = error && !shownFields.some((f) => error.fieldMessage(f)) ? error : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Partial<Record<keyof Change, string>> = {};
    if (!description.trim()) found.description = 'Say what happened.';
    if (!occurredAt) found.occurredAt = 'Say when it happened.';
    if (!category)
      found.categoryId =
        schoolId === i.schoolId ? 'Choose a category.' : 'Choose a category of the new school.';
    if (children.length + hidden === 0) found.studentIds = 'A concern names at least one child.';
    if (asksSubject && !subject) found.subjectUserId = 'Say who the allegation is about.';
    setMissing(found);
    if (Object.keys(found).length > 0) return;

    const change: Change = {};
    if (description.trim() !== i.description) change.description = description.trim();
    if (occurredAt !== toLocalInput(new Date(i.occurredAt)))
      change.occurredAt = fromLocalInput(occurredAt);
    if (location.trim() !== (i.location ?? '')) change.location = location.trim() || null;
    if (categoryId !== i.category.id) change.categoryId = categoryId;
    if (schoolId !== i.schoolId) change.schoolId = schoolId;
    const before = visible.map((s) => s.id);
    const after = children.map((s) => s.id);
    if (after.length !== before.length || after.some((id) => !before.includes(id)))
      change.studentIds = after;
    if (asksSubject && subject && subject.id !== i.subjectUserId) change.subjectUserId = subject.id;
    if (Object.keys(change).length === 0) {
      onDone();
      return;
    }
    patch.mutate(change, { onSuccess: (updated) => updated && onDone() });
  }

  return (
    <form onSubmit={submit} noValidate aria-label="Edit the concern">
      <TextAreaField
        label="What happened"
        value={description}
        onChange={(event) => setDescription(event.target.value)}
        error={fieldError('description')}
      />
      <StudentPicker
        // Any child the caller can see: a concern may involve children of more than one school.
        schoolId={undefined}
        picked={children}
        onChange={setChildren}
        error={fieldError('studentIds')}
        hidden={hidden}
        {...(mayReclassify
          ? {}
          : {
              fixed: new Set(visible.map((s) => s.id)),
              hint: 'Add any child this concern is also about. Only a Deputy DSL or above can take a child off it.',
            })}
      />
      {moving ? (
        <SelectField
          label="School"
          hint="Moving a concern to another school changes who can read it."
          value={schoolId}
          onChange={(event) => setSchoolId(event.target.value)}
          error={fieldError('schoolId')}
        >
          <option value={i.schoolId}>{schoolName(i.schoolId)}</option>
          {moveTargets.map((school) => (
            <option key={school.id} value={school.id}>
              {school.name}
            </option>
          ))}
        </SelectField>
      ) : null}
      <SelectField
        label="Category"
        value={category ? categoryId : ''}
        onChange={(event) => setCategoryId(event.target.value)}
        error={fieldError('categoryId')}
        hint={
          mayReclassify || !isSensitive(i.category.sensitivity)
            ? undefined
            : `Only a Deputy DSL or above can give this record a category that is not ${sensitivityName(i.category)}.`
        }
        disabled={categories.isPending && schoolId !== i.schoolId}
      >
        {category ? null : <option value="">Choose…</option>}
        {offered.map((c) => (
          <option key={c.id} value={c.id}>
            {categoryLabel(c)}
          </option>
        ))}
      </SelectField>
      {categories.isError ? <ErrorMessage error={categories.error} /> : null}
      {asksSubject ? (
        <AssigneePicker
          label="Who the allegation is about"
          kinds={['user']}
          value={subject}
          onChange={setSubject}
          onlyMeHint="You cannot search staff: ask a Deputy DSL to name them."
          error={fieldError('subjectUserId')}
        />
      ) : null}
      <InputField
        label="When"
        type="datetime-local"
        value={occurredAt}
        onChange={(event) => setOccurredAt(event.target.value)}
        error={fieldError('occurredAt')}
      />
      <InputField
        label="Where (optional)"
        value={location}
        maxLength={200}
        onChange={(event) => setLocation(event.target.value)}
        error={fieldError('location')}
      />
      <ErrorMessage error={unplaced} />
      <div className="inline-form">
        <Button type="submit" busy={patch.isPending}>
          Save changes
        </Button>
        <Button className="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function DeleteIncident({ incidentId }: { incidentId: string }) {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api.delete(`/incidents/${incidentId}`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['incidents'] });
      navigate('/incidents');
    },
  });
  return (
    <>
      <Button className="danger" onClick={() => setOpen(true)}>
        Delete
      </Button>
      <ConfirmDeletion
        open={open}
        title="Delete this concern?"
        confirmLabel="Delete concern"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate()}
        onClose={() => setOpen(false)}
      >
        <p>It will no longer be listed. The record is kept for the audit trail.</p>
      </ConfirmDeletion>
    </>
  );
}

function Assignees({ incident: i }: { incident: Incident }) {
  const queryClient = useQueryClient();
  const { confirm, dialog } = useWideningConfirm();
  const [choice, setChoice] = useState<Assignee | null>(null);
  const add = useMutation({
    mutationFn: async (a: Assignee) => {
      const go = await confirm({
        kind: 'incident_assignee',
        incidentId: i.id,
        assignee: { type: a.type, id: a.id },
      });
      if (!go) return null;
      return api.post<Incident>(`/incidents/${i.id}/assignees`, { type: a.type, id: a.id });
    },
    onSuccess: (updated) => {
      if (!updated) return;
      queryClient.setQueryData(['incidents', 'one', i.id], updated);
      setChoice(null);
    },
  });
  return (
    <section className="panel" aria-labelledby="assignees-title">
      <h2 id="assignees-title">Assigned to</h2>
      {i.assignees.length === 0 ? (
        <Empty>Not assigned to anyone yet.</Empty>
      ) : (
        <ul className="list">
          {i.assignees.map((a) => (
            <li key={`${a.type}:${a.id}`}>
              {a.name}
              {a.type === 'user_group' ? ' (group)' : ''}
            </li>
          ))}
        </ul>
      )}
      {i.abilities.assign ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (choice) add.mutate(choice);
          }}
        >
          <AssigneePicker label="Assign to someone" value={choice} onChange={setChoice} />
          <ErrorMessage error={add.error} />
          <Button type="submit" busy={add.isPending} disabled={!choice}>
            Assign
          </Button>
        </form>
      ) : null}
      {dialog}
    </section>
  );
}

function Actions({ incident: i }: { incident: Incident }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const actions = useQuery({
    queryKey: ['incidents', 'actions', i.id],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/incidents/{id}/actions', 'get'>>(
        `/incidents/${i.id}/actions`,
        undefined,
        signal,
      ),
  });
  const complete = useMutation({
    mutationFn: (actionId: string) => api.post<Action>(`/actions/${actionId}/complete`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'actions', i.id] });
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Action | null>(null);
  const names = new Map<string, string>(i.assignees.map((a) => [`${a.type}:${a.id}`, a.name]));
  names.set(`user:${me.id}`, 'you');
  const assigneeName = (a: Action['assignee']) =>
    a.name ??
    names.get(`${a.type}:${a.id}`) ??
    (a.type === 'user' ? 'a member of staff' : 'a group');

  return (
    <section className="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <ErrorMessage error={complete.error} />
      <QueryState query={actions} loading="Loading actions…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No actions yet.</Empty>
          ) : (
            <ul className="list">
              {items.map((a) =>
                editing === a.id ? (
                  <li key={a.id}>
                    <EditAction action={a} onDone={() => setEditing(null)} />
                  </li>
                ) : (
                  <li key={a.id} className={a.overdue && !a.completedAt ? 'overdue' : undefined}>
                    <div>
                      <strong>{a.title}</strong>
                      <p className="muted">
                        For {assigneeName(a.assignee)}
                        {a.dueAt ? ` · due ${formatDate(a.dueAt)}` : ''}
                        {a.overdue && !a.completedAt ? (
                          <>
                            {' '}
                            <strong className="tag tag-danger">Overdue</strong>
                          </>
                        ) : null}
                      </p>
                      {a.completedAt ? (
                        <p className="done">Done {formatDateTime(a.completedAt)}</p>
                      ) : null}
                    </div>
                    <div className="inline-form">
                      {!a.completedAt && a.abilities.complete ? (
                        <Button
                          className="secondary"
                          busy={complete.isPending && complete.variables === a.id}
                          onClick={() => complete.mutate(a.id)}
                          aria-label={`Mark "${a.title}" done`}
                        >
                          Mark done
                        </Button>
                      ) : null}
                      {!a.completedAt && a.abilities.update ? (
                        <Button
                          className="secondary"
                          onClick={() => setEditing(a.id)}
                          aria-label={`Edit "${a.title}"`}
                        >
                          Edit
                        </Button>
                      ) : null}
                      {a.abilities.delete ? (
                        <Button
                          className="secondary"
                          onClick={() => setDeleting(a)}
                          aria-label={`Delete "${a.title}"`}
                        >
                          Delete
                        </Button>
                      ) : null}
                    </div>
                  </li>
                ),
              )}
            </ul>
          )
        }
      </QueryState>
      {i.abilities.addActions ? <AddAction incidentId={i.id} /> : null}
      <DeleteAction action={deleting} onClose={() => setDeleting(null)} />
    </section>
  );
}

/** Changes what an action asks for and when it is due (who does it stays). */
function EditAction({ action: a, onDone }: { action: Action; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState(a.title);
  const [due, setDue] = useState(a.dueAt ? toLocalInput(new Date(a.dueAt)).slice(0, 10) : '');
  const save = useMutation({
    mutationFn: () =>
      api.patch<Action>(`/actions/${a.id}`, {
        title: title.trim(),
        dueAt: due ? endOfDayIso(due) : null,
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'actions', a.incidentId] });
      void queryClient.invalidateQueries({ queryKey: ['me'] });
      onDone();
    },
  });
  const error = save.error instanceof ApiError ? save.error : null;
  return (
    <form
      aria-label={`Edit "${a.title}"`}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (title.trim()) save.mutate();
      }}
    >
      <InputField
        label="What needs doing"
        value={title}
        maxLength={500}
        onChange={(event) => setTitle(event.target.value)}
        error={title.trim() ? error?.fieldMessage('title') : 'Say what needs doing.'}
      />
      <InputField
        label="Due (optional)"
        type="date"
        value={due}
        onChange={(event) => setDue(event.target.value)}
        error={error?.fieldMessage('dueAt')}
      />
      {save.isError && !error?.problem.errors ? <ErrorMessage error={save.error} /> : null}
      <div className="inline-form">
        <Button type="submit" busy={save.isPending}>
          Save action
        </Button>
        <Button className="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function DeleteAction({ action, onClose }: { action: Action | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (a: Action) => api.delete(`/actions/${a.id}`),
    onSuccess: (_, a) => {
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'actions', a.incidentId] });
      void queryClient.invalidateQueries({ queryKey: ['me'] });
      onClose();
    },
  });
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <ConfirmDeletion
      open={action !== null}
      title="Delete this action?"
      confirmLabel="Delete action"
      busy={remove.isPending}
      error={remove.error}
      onConfirm={() => action && remove.mutate(action)}
      onClose={close}
    >
      <p>
        “{action?.title}” will no longer be listed. It is kept, marked deleted, for the audit trail.
      </p>
    </ConfirmDeletion>
  );
}

function AddAction({ incidentId }: { incidentId: string }) {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState('');
  const [due, setDue] = useState('');
  const [assignee, setAssignee] = useState<Assignee | null>(null);
  const [missing, setMissing] = useState<{ title?: string; assignee?: string }>({});
  const add = useMutation({
    mutationFn: () =>
      api.post<Action>(`/incidents/${incidentId}/actions`, {
        title: title.trim(),
        ...(due ? { dueAt: endOfDayIso(due) } : {}),
        assignee: assignee ? { type: assignee.type, id: assignee.id } : undefined,
      }),
    onSuccess: () => {
      setTitle('');
      setDue('');
      setAssignee(null);
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'actions', incidentId] });
      void queryClient.invalidateQueries({ queryKey: ['me', 'actions'] });
    },
  });
  const error = add.error instanceof ApiError ? add.error : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = {
      ...(title.trim() ? {} : { title: 'Say what needs doing.' }),
      ...(assignee ? {} : { assignee: 'Choose who will do it.' }),
    };
    setMissing(found);
    if (Object.keys(found).length === 0) add.mutate();
  }

  return (
    <form onSubmit={submit} noValidate aria-labelledby="add-action-title">
      <h3 id="add-action-title">Add an action</h3>
      <InputField
        label="What needs doing"
        value={title}
        maxLength={500}
        onChange={(event) => setTitle(event.target.value)}
        error={missing.title ?? error?.fieldMessage('title')}
      />
      <InputField
        label="Due (optional)"
        type="date"
        value={due}
        onChange={(event) => setDue(event.target.value)}
        error={error?.fieldMessage('dueAt')}
      />
      <AssigneePicker label="Who will do it" value={assignee} onChange={setAssignee} />
      {missing.assignee ? <p className="field-message">{missing.assignee}</p> : null}
      {add.isError && !error?.problem.errors ? <ErrorMessage error={add.error} /> : null}
      <Button type="submit" busy={add.isPending}>
        Add action
      </Button>
    </form>
  );
}

function Documents({ incident: i }: { incident: Incident }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const queryKey = ['documents', 'incident', i.id];
  const documents = useQuery({
    queryKey,
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/incidents/{id}/documents', 'get'>>(
        `/incidents/${i.id}/documents`,
        undefined,
        signal,
      ),
  });
  const upload = useMutation({
    mutationFn: (f: File) =>
      api.upload<DocumentInfo>(`/incidents/${i.id}/documents`, f, { filename: f.name }),
    onSuccess: () => {
      setFile(null);
      setInputKey((k) => k + 1);
      void queryClient.invalidateQueries({ queryKey });
    },
  });
  return (
    <section className="panel" aria-labelledby="documents-title">
      <h2 id="documents-title">Documents</h2>
      <QueryState query={documents} loading="Loading documents…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No documents.</Empty>
          ) : (
            <DocumentList items={items} queryKey={queryKey} />
          )
        }
      </QueryState>
      {i.abilities.manageDocuments ? (
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (file) upload.mutate(file);
          }}
        >
          <InputField
            key={inputKey}
            label="Add a document"
            type="file"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
          <Button type="submit" className="secondary" busy={upload.isPending} disabled={!file}>
            Upload
          </Button>
        </form>
      ) : null}
      <ErrorMessage error={upload.error} />
    </section>
  );
}

function Exclusions({ incidentId }: { incidentId: string }) {
  const queryClient = useQueryClient();
  const [choice, setChoice] = useState<Assignee | null>(null);
  const key = ['incidents', 'exclusions', incidentId];
  const excluded = useQuery({
    queryKey: key,
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/incidents/{id}/exclusions', 'get'>>(
        `/incidents/${incidentId}/exclusions`,
        undefined,
        signal,
      ),
  });
  const save = useMutation({
    mutationFn: (userIds: string[]) => api.put(`/incidents/${incidentId}/exclusions`, { userIds }),
    onSuccess: () => {
      setChoice(null);
      void queryClient.invalidateQueries({ queryKey: key });
    },
  });
  const ids = (excluded.data?.items ?? []).map((x) => x.id);
  return (
    <section className="panel" aria-labelledby="exclusions-title">
      <h2 id="exclusions-title">Kept from</h2>
      <p className="muted">
        The people listed here never see this concern, whatever else they hold.
      </p>
      <QueryState query={excluded} loading="Loading exclusions…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No one is kept from this concern.</Empty>
          ) : (
            <ul className="list">
              {items.map((x) => (
                <li key={x.id}>
                  {x.name}
                  <Button
                    className="secondary"
                    aria-label={`Stop keeping this concern from ${x.name}`}
                    onClick={() => save.mutate(ids.filter((id) => id !== x.id))}
                  >
                    Remove
                  </Button>
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (choice && !ids.includes(choice.id)) save.mutate([...ids, choice.id]);
        }}
      >
        <AssigneePicker
          label="Keep this concern from"
          kinds={['user']}
          value={choice}
          onChange={setChoice}
        />
        <ErrorMessage error={save.error} />
        <Button type="submit" className="secondary" busy={save.isPending} disabled={!choice}>
          Keep from them
        </Button>
      </form>
    </section>
  );
}

/**
 * Earlier versions, newest first, each as the caller could read a record of its own category,
 * school and children: a version they could not is listed only by its date.
 */
function Revisions({ incident: i }: { incident: Incident }) {
  const schoolName = useSchoolName();
  const revisions = useQuery({
    queryKey: ['incidents', 'revisions', i.id],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/incidents/{id}/revisions', 'get'>>(
        `/incidents/${i.id}/revisions`,
        undefined,
        signal,
      ),
  });
  return (
    <section className="panel" aria-labelledby="revisions-title">
      <h2 id="revisions-title">Earlier versions</h2>
      <QueryState query={revisions} loading="Loading earlier versions…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty>Not changed since it was logged.</Empty>
          ) : (
            <ol className="list">
              {items.map((r) =>
                r.withheld ? (
                  <li key={r.revision}>
                    <div>
                      <p>
                        Revision {r.revision}, replaced {formatDateTime(r.replacedAt)}
                      </p>
                      <p className="muted">An earlier version you cannot see.</p>
                    </div>
                  </li>
                ) : (
                  <li key={r.revision}>
                    <details>
                      <summary>
                        Revision {r.revision}, replaced {formatDateTime(r.replacedAt)}
                        {r.replacedBy ? ` by ${r.replacedBy.name}` : ''}
                      </summary>
                      <dl className="facts">
                        <dt>Category</dt>
                        <dd>
                          {r.incident.category.name} ({sensitivityName(r.incident.category)})
                        </dd>
                        <dt>Children</dt>
                        <dd>
                          <IncidentChildren students={r.incident.students} />
                        </dd>
                        {schoolName.many || r.incident.schoolId !== i.schoolId ? (
                          <>
                            <dt>School</dt>
                            <dd>{schoolName(r.incident.schoolId)}</dd>
                          </>
                        ) : null}
                        <dt>Status</dt>
                        <dd>{statusLabels[r.incident.status]}</dd>
                        <dt>When</dt>
                        <dd>{formatDateTime(r.incident.occurredAt)}</dd>
                        <dt>Where</dt>
                        <dd>{r.incident.location || 'Not recorded'}</dd>
                      </dl>
                      <p className="account-text">{r.incident.description}</p>
                    </details>
                  </li>
                ),
              )}
            </ol>
          )
        }
      </QueryState>
    </section>
  );
}
