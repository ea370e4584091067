import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useWideningConfirm } from '../access/Widening.tsx';
import { ApiError, api } from '../api/client.ts';
import type { Action, Category, Incident } from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import { needsStepUp, StepUpPrompt } from '../components/StepUp.tsx';
import {
  Button,
  Dialog,
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
import { useCan, useMe } from '../session.tsx';
import {
  type Assignee,
  AssigneePicker,
  type DocumentInfo,
  DocumentList,
  statusLabels,
} from './common.tsx';

interface Revision {
  revision: number;
  replacedAt: string;
  replacedBy: { id: string; name: string } | null;
  incident: {
    description?: string;
    status?: Incident['status'];
    occurredAt?: string;
    location?: string | null;
    categoryId?: string;
  };
}

type Patch = Partial<
  Pick<Incident, 'description' | 'occurredAt' | 'location' | 'status'> & { categoryId: string }
>;

function isStale(error: unknown) {
  return error instanceof ApiError && error.code === 'stale_revision';
}

export function IncidentPage() {
  const { id = '' } = useParams();
  const queryClient = useQueryClient();
  const incident = useQuery({
    queryKey: ['incidents', 'one', id],
    queryFn: ({ signal }) => api.get<Incident>(`/incidents/${id}`, undefined, signal),
  });
  const [stale, setStale] = useState(false);

  // Every change is sent with the revision it was made on; a newer one on the server wins.
  const patch = useMutation({
    mutationFn: (change: Patch) =>
      api.patch<Incident>(`/incidents/${id}`, { ...change, revision: incident.data?.revision }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['incidents', 'one', id], updated);
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'revisions', id] });
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'list'] });
    },
    onError: (error) => setStale(isStale(error)),
  });

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
        <Documents incidentId={i.id} />
        {i.abilities.manageExclusions ? <Exclusions incidentId={i.id} /> : null}
        <Revisions incidentId={i.id} />
      </div>
    </>
  );
}

type PatchMutation = ReturnType<typeof useMutation<Incident, Error, Patch>>;

function Account({ incident: i, patch }: { incident: Incident; patch: PatchMutation }) {
  const [editing, setEditing] = useState(false);
  const [status, setStatus] = useState(i.status);
  const [lastStatus, setLastStatus] = useState(i.status);
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
            </dd>
            <dt>Category</dt>
            <dd>
              {i.category.name} ({sensitivityLabels[i.category.sensitivity].toLowerCase()})
            </dd>
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
                  onChange={(event) => setStatus(event.target.value as Incident['status'])}
                >
                  {Object.entries(statusLabels).map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
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
              <ErrorMessage error={failed} />
            </>
          ) : null}
        </>
      )}
    </section>
  );
}

function EditIncident({
  incident: i,
  patch,
  onDone,
}: {
  incident: Incident;
  patch: PatchMutation;
  onDone: () => void;
}) {
  const [description, setDescription] = useState(i.description);
  const [occurredAt, setOccurredAt] = useState(toLocalInput(new Date(i.occurredAt)));
  const [location, setLocation] = useState(i.location ?? '');
  const [categoryId, setCategoryId] = useState(i.category.id);
  const categories = useQuery({
    queryKey: ['categories', i.schoolId],
    queryFn: ({ signal }) =>
      api.get<{ items: Category[] }>('/categories', { schoolId: i.schoolId }, signal),
    staleTime: 60_000,
  });
  const error = patch.error instanceof ApiError && !isStale(patch.error) ? patch.error : null;

  function submit(event: FormEvent) {
    event.preventDefault();
    patch.mutate(
      {
        description: description.trim(),
        occurredAt: fromLocalInput(occurredAt),
        location: location.trim() || null,
        categoryId,
      },
      { onSuccess: onDone },
    );
  }

  return (
    <form onSubmit={submit} noValidate>
      <TextAreaField
        label="What happened"
        value={description}
        onChange={(event) => setDescription(event.target.value)}
        error={error?.fieldMessage('description')}
      />
      <SelectField
        label="Category"
        value={categoryId}
        onChange={(event) => setCategoryId(event.target.value)}
        error={error?.fieldMessage('categoryId')}
      >
        {(categories.data?.items ?? [i.category]).map((c) => (
          <option key={c.id} value={c.id}>
            {c.sensitivity === 'standard'
              ? c.name
              : `${c.name} (${sensitivityLabels[c.sensitivity].toLowerCase()})`}
          </option>
        ))}
      </SelectField>
      <InputField
        label="When"
        type="datetime-local"
        value={occurredAt}
        onChange={(event) => setOccurredAt(event.target.value)}
        error={error?.fieldMessage('occurredAt')}
      />
      <InputField
        label="Where (optional)"
        value={location}
        maxLength={200}
        onChange={(event) => setLocation(event.target.value)}
      />
      {error && !error.problem.errors ? <ErrorMessage error={error} /> : null}
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
      <Dialog open={open} title="Delete this concern?" onClose={() => setOpen(false)}>
        <p>It will no longer be listed. The record is kept for the audit trail.</p>
        <ErrorMessage error={remove.error} />
        <div className="dialog-actions">
          <Button className="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
            Delete concern
          </Button>
          <Button className="secondary" onClick={() => setOpen(false)}>
            Keep it
          </Button>
        </div>
      </Dialog>
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
  const can = useCan();
  const queryClient = useQueryClient();
  const actions = useQuery({
    queryKey: ['incidents', 'actions', i.id],
    queryFn: ({ signal }) =>
      api.get<{ items: Action[] }>(`/incidents/${i.id}/actions`, undefined, signal),
  });
  // The actions the server lists as mine (to me or to a group I am in): only those can be done.
  const mine = useQuery({
    queryKey: ['me', 'actions'],
    queryFn: ({ signal }) => api.get<{ items: Action[] }>('/me/actions', undefined, signal),
    enabled: can('actions.complete'),
  });
  const mineIds = new Set((mine.data?.items ?? []).map((a) => a.id));
  const complete = useMutation({
    mutationFn: (actionId: string) => api.post<Action>(`/actions/${actionId}/complete`),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['incidents', 'actions', i.id] });
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
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
              {items.map((a) => (
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
                  {!a.completedAt && mineIds.has(a.id) ? (
                    <Button
                      className="secondary"
                      busy={complete.isPending && complete.variables === a.id}
                      onClick={() => complete.mutate(a.id)}
                      aria-label={`Mark "${a.title}" done`}
                    >
                      Mark done
                    </Button>
                  ) : null}
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
      {i.abilities.addActions ? <AddAction incidentId={i.id} /> : null}
    </section>
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

function Documents({ incidentId }: { incidentId: string }) {
  const can = useCan();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const documents = useQuery({
    queryKey: ['documents', 'incident', incidentId],
    queryFn: ({ signal }) =>
      api.get<{ items: DocumentInfo[] }>(`/incidents/${incidentId}/documents`, undefined, signal),
  });
  const upload = useMutation({
    mutationFn: (f: File) =>
      api.upload<DocumentInfo>(`/incidents/${incidentId}/documents`, f, { filename: f.name }),
    onSuccess: () => {
      setFile(null);
      setInputKey((k) => k + 1);
      void queryClient.invalidateQueries({ queryKey: ['documents', 'incident', incidentId] });
    },
  });
  return (
    <section className="panel" aria-labelledby="documents-title">
      <h2 id="documents-title">Documents</h2>
      <QueryState query={documents} loading="Loading documents…">
        {({ items }) =>
          items.length === 0 ? <Empty>No documents.</Empty> : <DocumentList items={items} />
        }
      </QueryState>
      {can('documents.manage') ? (
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
      api.get<{ items: { id: string; name: string }[] }>(
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

function Revisions({ incidentId }: { incidentId: string }) {
  const revisions = useQuery({
    queryKey: ['incidents', 'revisions', incidentId],
    queryFn: ({ signal }) =>
      api.get<{ items: Revision[] }>(`/incidents/${incidentId}/revisions`, undefined, signal),
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
              {items.map((r) => (
                <li key={r.revision}>
                  <details>
                    <summary>
                      Revision {r.revision}, replaced {formatDateTime(r.replacedAt)}
                      {r.replacedBy ? ` by ${r.replacedBy.name}` : ''}
                    </summary>
                    <dl className="facts">
                      {r.incident.status ? (
                        <>
                          <dt>Status</dt>
                          <dd>{statusLabels[r.incident.status]}</dd>
                        </>
                      ) : null}
                      {r.incident.occurredAt ? (
                        <>
                          <dt>When</dt>
                          <dd>{formatDateTime(r.incident.occurredAt)}</dd>
                        </>
                      ) : null}
                      <dt>Where</dt>
                      <dd>{r.incident.location || 'Not recorded'}</dd>
                    </dl>
                    <p className="account-text">{r.incident.description}</p>
                  </details>
                </li>
              ))}
            </ol>
          )
        }
      </QueryState>
    </section>
  );
}
