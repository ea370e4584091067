import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Pager, useCursorPages, useSchoolGroups } from '../admin/common.tsx';
import type { Answer, Body, Item } from '../api/answers.ts';
import { ApiError, api, type Page } from '../api/client.ts';
import { type Role, sensitivityLabels } from '../api/types.ts';
import { needsStepUp, StepUpPrompt } from '../components/StepUp.tsx';
import {
  Button,
  ConfirmDeletion,
  Dialog,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  QueryState,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';

/** A record as the retention queue lists it. */
type QueueItem = Item<'/api/v1/retention/queue'>;

/** The rule that set the record's day (before any extension). */
type RetentionRule = QueueItem['rule'];

/** A record's retention: its day, why, and every decision taken about it. */
type RetentionView = Answer<'/api/v1/retention/records/{id}', 'get'>;

/** A retention decision: keep longer, hold, release, record a birth date, or destroy. */
type Decision = Body<'/api/v1/retention/records/{id}/decisions', 'post'>;

/** An allegation now, or a record lowered from one that still holds its allegation version. */
const isAllegation = (view: { sensitivity: string; rule: string }) =>
  view.sensitivity === 'allegation' || view.rule.startsWith('allegation');

const ruleLabels: Record<RetentionRule, string> = {
  child_protection_25th_birthday: "The youngest child's 25th birthday",
  child_protection_birth_date_unknown: '25 years (a child’s date of birth is unknown)',
  allegation_retirement_age: "The subject's retirement age",
  allegation_ten_years: 'Ten years from the allegation',
  allegation_subject_birth_date_unknown: 'Ten years (the subject’s date of birth is unknown)',
  school_retention_years: "The school's retention period",
};

const decisionLabels: Record<string, string> = {
  extend: 'Kept longer',
  hold: 'Put on legal hold',
  release: 'Released from legal hold',
  subject_born: "Recorded the subject's date of birth",
  destroy: 'Destroyed',
};

/** DSL rank: the roles `records.retention` needs (the server decides each school again). */
const reviewRoles = new Set<Role>(['owner', 'dsl']);

/**
 * The schools where the caller reviews retention, from their DSL and Owner roles: every school
 * for a role across the organisation, a school group's schools for a role there.
 */
function useRetentionSchools() {
  const me = useMe();
  const schools = useSchools();
  const groups = useSchoolGroups();
  const held = me.roles.filter((grant) => reviewRoles.has(grant.role));
  const all = schools.data?.items ?? [];
  if (held.some((grant) => grant.scope.type === 'organisation'))
    return { schools: all, pending: schools.isPending };
  const ids = new Set<string>();
  for (const grant of held) {
    if (grant.scope.type === 'school') ids.add(grant.scope.id);
    if (grant.scope.type === 'school_group')
      for (const id of groups.data?.items.find((g) => g.id === grant.scope.id)?.schoolIds ?? [])
        ids.add(id);
  }
  return { schools: all.filter((s) => ids.has(s.id)), pending: schools.isPending };
}

/** What the record is, in a few words, for buttons and dialogs. */
function recordName(item: QueueItem): string {
  return `${item.category.name} record of ${formatDate(item.occurredAt)}`;
}

/**
 * Retention review for DSLs: the school's records past their retention day, and on each a
 * decision (keep longer, legal hold, the subject's date of birth, or destroy). Nothing is
 * destroyed without that last decision, confirmed here and refused by the server on hold.
 */
export function RetentionPage() {
  const { schools, pending } = useRetentionSchools();
  const [chosen, setChosen] = useState('');
  const schoolId = chosen || schools[0]?.id || '';
  const pages = useCursorPages(schoolId);
  const queue = useQuery({
    queryKey: ['retention-queue', schoolId, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<QueueItem>>(
        '/retention/queue',
        { schoolId, cursor: pages.cursor, limit: 50 },
        signal,
      ),
    enabled: schoolId !== '',
  });
  const [reviewing, setReviewing] = useState<QueueItem | null>(null);
  const [destroying, setDestroying] = useState<QueueItem | null>(null);
  const [done, setDone] = useState<string | null>(null);

  return (
    <>
      <PageHeader
        title="Retention"
        description="Records past the day the law expects them to be kept to. Keep each one longer, put it on legal hold, or destroy it."
      />
      {done ? <Notice tone="success">{done}</Notice> : null}
      {schools.length > 1 ? (
        <SelectField
          label="School"
          value={schoolId}
          onChange={(event) => {
            setChosen(event.target.value);
            setDone(null);
          }}
        >
          {schools.map((school) => (
            <option key={school.id} value={school.id}>
              {school.name}
            </option>
          ))}
        </SelectField>
      ) : null}
      <section aria-labelledby="retention-queue-title">
        <h2 id="retention-queue-title">Records past their retention day</h2>
        {!pending && schools.length === 0 ? (
          <Empty>You review retention at no school.</Empty>
        ) : (
          <QueryState query={queue} loading="Loading records…">
            {(data) =>
              data.items.length === 0 ? (
                <Empty>No records are past their retention day.</Empty>
              ) : (
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Category</th>
                        <th scope="col">Sensitivity</th>
                        <th scope="col">Date</th>
                        <th scope="col">Kept until</th>
                        <th scope="col">Rule</th>
                        <th scope="col">Status</th>
                        <th scope="col">
                          <span className="visually-hidden">Actions</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.items.map((item) => (
                        <tr key={item.id}>
                          <td>{item.category.name}</td>
                          <td>{sensitivityLabels[item.sensitivity]}</td>
                          <td>{formatDate(item.occurredAt)}</td>
                          <td>{formatDate(item.retainUntil)}</td>
                          <td>{ruleLabels[item.rule]}</td>
                          <td>
                            <RecordStatus item={item} />
                          </td>
                          <td>
                            <button
                              type="button"
                              className="link-button"
                              onClick={() => {
                                setDone(null);
                                setReviewing(item);
                              }}
                              aria-label={`Review the ${recordName(item)}`}
                            >
                              Review
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
        )}
        <Pager pages={pages} nextCursor={queue.data?.nextCursor} label="Pages of records" />
      </section>
      <RecordDialog
        item={reviewing}
        onClose={() => setReviewing(null)}
        onDone={setDone}
        onDestroy={(item) => {
          setReviewing(null);
          setDestroying(item);
        }}
      />
      <DestroyRecord item={destroying} onClose={() => setDestroying(null)} onDone={setDone} />
    </>
  );
}

function RecordStatus({ item }: { item: QueueItem }) {
  return (
    <>
      {item.legalHoldSince ? <span className="tag tag-warning">On legal hold</span> : null}{' '}
      {item.deletedAt ? <span className="tag">Deleted</span> : null}
      {!item.legalHoldSince && !item.deletedAt ? 'Due for review' : null}
    </>
  );
}

/** The form a decision asks for, if any is open. */
type Mode = 'extend' | 'hold' | 'release' | 'subject_born' | null;

/** One record's retention: its day, rule and decisions, and the decisions open to the caller. */
function RecordDialog({
  item,
  onClose,
  onDone,
  onDestroy,
}: {
  item: QueueItem | null;
  onClose: () => void;
  onDone: (message: string) => void;
  onDestroy: (item: QueueItem) => void;
}) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<Mode>(null);
  const record = useQuery({
    queryKey: ['retention-record', item?.id],
    queryFn: ({ signal }) => api.get<RetentionView>(`/retention/records/${item?.id}`, {}, signal),
    enabled: item !== null,
  });
  const close = () => {
    setMode(null);
    onClose();
  };
  return (
    <Dialog open={item !== null} title="Retention of a record" onClose={close}>
      {item && needsStepUp(record.error) ? (
        <StepUpPrompt onPassed={() => void record.refetch()} />
      ) : (
        <QueryState query={record} loading="Loading the record…">
          {(view) => (
            <>
              <RecordFacts view={view} />
              {mode ? (
                <DecisionForm
                  key={mode}
                  view={view}
                  mode={mode}
                  onCancel={() => setMode(null)}
                  onDecided={(after, message) => {
                    queryClient.setQueryData(['retention-record', after.id], after);
                    void queryClient.invalidateQueries({ queryKey: ['retention-queue'] });
                    onDone(message);
                    close();
                  }}
                />
              ) : (
                <DecisionButtons
                  view={view}
                  choose={setMode}
                  onDestroy={() => onDestroy(view)}
                  onClose={close}
                />
              )}
            </>
          )}
        </QueryState>
      )}
    </Dialog>
  );
}

function RecordFacts({ view }: { view: RetentionView }) {
  return (
    <>
      <dl>
        <dt>Category</dt>
        <dd>{view.category.name}</dd>
        <dt>Sensitivity</dt>
        <dd>{sensitivityLabels[view.sensitivity]}</dd>
        <dt>Date of the record</dt>
        <dd>{formatDate(view.occurredAt)}</dd>
        <dt>Kept until</dt>
        <dd>{formatDate(view.retainUntil)}</dd>
        <dt>Rule</dt>
        <dd>
          {ruleLabels[view.rule]}: {formatDate(view.ruleDay)}
          {view.extendedTo ? `; kept longer to ${formatDate(view.extendedTo)}` : null}
        </dd>
        {isAllegation(view) ? (
          <>
            <dt>Subject's date of birth</dt>
            <dd>{view.subjectBornOn ? formatDate(view.subjectBornOn) : 'Not recorded'}</dd>
          </>
        ) : null}
        <dt>Status</dt>
        <dd>
          {view.destroyedAt
            ? `Destroyed ${formatDateTime(view.destroyedAt)}`
            : view.legalHoldSince
              ? `On legal hold since ${formatDateTime(view.legalHoldSince)}`
              : view.due
                ? 'Past its retention day'
                : 'Not yet due'}
        </dd>
      </dl>
      {view.decisions.length > 0 ? (
        <>
          <h3>Decisions</h3>
          <ul className="list">
            {view.decisions.map((d) => (
              <li key={d.id}>
                {decisionLabels[d.action] ?? d.action}
                {d.day ? ` (${formatDate(d.day)})` : null} by {d.decidedBy.name},{' '}
                {formatDateTime(d.decidedAt)}
                {d.reason ? `: ${d.reason}` : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

function DecisionButtons({
  view,
  choose,
  onDestroy,
  onClose,
}: {
  view: RetentionView;
  choose: (mode: Mode) => void;
  onDestroy: () => void;
  onClose: () => void;
}) {
  if (view.destroyedAt)
    return (
      <div className="dialog-actions">
        <Button className="secondary" onClick={onClose}>
          Close
        </Button>
      </div>
    );
  const birthUnknown = view.rule === 'allegation_subject_birth_date_unknown';
  return (
    <>
      {view.legalHoldSince ? (
        <Notice tone="warning">On legal hold: it cannot be destroyed until released.</Notice>
      ) : null}
      {birthUnknown ? (
        <Notice tone="warning">
          Record the subject's date of birth first: the allegation may have to be kept until they
          reach retirement age.
        </Notice>
      ) : null}
      <div className="dialog-actions">
        <Button onClick={() => choose('extend')}>Keep longer</Button>
        {view.legalHoldSince ? (
          <Button onClick={() => choose('release')}>Release legal hold</Button>
        ) : (
          <Button onClick={() => choose('hold')}>Legal hold</Button>
        )}
        {isAllegation(view) ? (
          <Button onClick={() => choose('subject_born')}>Record subject's date of birth</Button>
        ) : null}
        {view.due && !birthUnknown ? (
          <Button className="danger" onClick={onDestroy}>
            Destroy…
          </Button>
        ) : null}
        <Button className="secondary" onClick={onClose}>
          Close
        </Button>
      </div>
    </>
  );
}

const formTitles: Record<Exclude<Mode, null>, string> = {
  extend: 'Keep it longer',
  hold: 'Put it on legal hold',
  release: 'Release the legal hold',
  subject_born: "The subject's date of birth",
};

/** A decision that needs a day or a reason; the server's refusal is shown as it gives it. */
function DecisionForm({
  view,
  mode,
  onCancel,
  onDecided,
}: {
  view: RetentionView;
  mode: Exclude<Mode, null>;
  onCancel: () => void;
  onDecided: (after: RetentionView, message: string) => void;
}) {
  const [day, setDay] = useState('');
  const [reason, setReason] = useState('');
  const decide = useMutation({
    mutationFn: (decision: Decision) =>
      api.post<RetentionView>(`/retention/records/${view.id}/decisions`, decision),
    onSuccess: (after, decision) => onDecided(after, decidedMessage(after, decision)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const decision: Decision =
      mode === 'extend'
        ? { action: 'extend', until: day, reason }
        : mode === 'subject_born'
          ? { action: 'subject_born', dateOfBirth: day }
          : { action: mode, reason };
    decide.mutate(decision);
  };
  const fieldError = (field: string) =>
    decide.error instanceof ApiError ? decide.error.fieldMessage(field) : undefined;
  return (
    <form onSubmit={submit} aria-label={formTitles[mode]}>
      <h3>{formTitles[mode]}</h3>
      {mode === 'extend' ? (
        <InputField
          label="Keep until"
          type="date"
          min={view.retainUntil}
          value={day}
          onChange={(e) => setDay(e.target.value)}
          required
          error={fieldError('until')}
        />
      ) : null}
      {mode === 'subject_born' ? (
        <InputField
          label="Subject's date of birth"
          hint="From the personnel file. The allegation is kept until they reach retirement age, or ten years, whichever is later."
          type="date"
          value={day}
          onChange={(e) => setDay(e.target.value)}
          required
          error={fieldError('dateOfBirth')}
        />
      ) : (
        <TextAreaField
          label="Reason"
          hint="Kept with the record's decisions."
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          required
          error={fieldError('reason')}
        />
      )}
      <ErrorMessage error={decide.error} />
      <div className="dialog-actions">
        <Button type="submit" busy={decide.isPending}>
          {formTitles[mode]}
        </Button>
        <Button className="secondary" onClick={onCancel}>
          Back
        </Button>
      </div>
    </form>
  );
}

function decidedMessage(after: RetentionView, decision: Decision): string {
  const name = recordName(after);
  switch (decision.action) {
    case 'extend':
      return `The ${name} is kept until ${formatDate(after.retainUntil)}.`;
    case 'hold':
      return `The ${name} is on legal hold.`;
    case 'release':
      return `The ${name} is released from legal hold.`;
    case 'subject_born':
      return `The ${name} is kept until ${formatDate(after.retainUntil)}.`;
    case 'destroy':
      return `The ${name} was destroyed ${formatDateTime(after.destroyedAt)}.`;
  }
}

/** Destroying is for good: the dialog says what goes and what stays before the server does it. */
function DestroyRecord({
  item,
  onClose,
  onDone,
}: {
  item: QueueItem | null;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const queryClient = useQueryClient();
  const destroy = useMutation({
    mutationFn: (id: string) =>
      api.post<RetentionView>(`/retention/records/${id}/decisions`, { action: 'destroy' }),
    onSuccess: (after) => {
      queryClient.setQueryData(['retention-record', after.id], after);
      void queryClient.invalidateQueries({ queryKey: ['retention-queue'] });
      onDone(decidedMessage(after, { action: 'destroy' }));
      destroy.reset();
      onClose();
    },
  });
  return (
    <ConfirmDeletion
      open={item !== null}
      title="Destroy this record?"
      confirmLabel="Destroy the record"
      busy={destroy.isPending}
      error={destroy.error}
      onConfirm={() => item && destroy.mutate(item.id)}
      onClose={() => {
        destroy.reset();
        onClose();
      }}
    >
      {item ? (
        <>
          <p>
            The {recordName(item)} ({sensitivityLabels[item.sensitivity]}) goes: its account,
            location, earlier versions, documents and the titles of its actions.
          </p>
          <p>
            What stays: that the record existed (its category, school, children and date) and the
            decisions on it; the audit log says who approved its destruction.
          </p>
          <p>
            <strong>This cannot be undone.</strong>
          </p>
        </>
      ) : null}
    </ConfirmDeletion>
  );
}
