import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import type { Answer, Body } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import type { CreatedIncident } from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import {
  Button,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { concernDraftKey, readStoredDraft } from '../drafts.ts';
import { formatDateTime, fromLocalInput, toLocalInput } from '../format.ts';
import { useMe } from '../session.tsx';
import {
  categoryLabel,
  type PickedStudent,
  type StudentDetail,
  StudentPicker,
  studentName,
} from './common.tsx';
import {
  AllegationSubjectPicker,
  type Person,
  Receipt,
  UnlistedChildFields,
  type UnlistedDraft,
  useReportingSchools,
} from './reporting.tsx';

/** What the form holds; kept on this device as the user types, until the concern is saved. */
interface Draft {
  students: PickedStudent[];
  /** A child not on the list ("Child not listed"), or null. */
  unlisted: UnlistedDraft | null;
  /** The school chosen when no child is picked yet (only asked where there are several). */
  schoolId: string;
  categoryId: string;
  /** Whom an allegation is about. */
  subject: Person | null;
  description: string;
  occurredAt: string;
  location: string;
  savedAt?: string;
}

function emptyDraft(): Draft {
  return {
    students: [],
    unlisted: null,
    schoolId: '',
    categoryId: '',
    subject: null,
    description: '',
    occurredAt: toLocalInput(new Date()),
    location: '',
  };
}

function readDraft(key: string): Draft | null {
  const draft = readStoredDraft(key) as Draft | null;
  return draft && Array.isArray(draft.students) ? { ...emptyDraft(), ...draft } : null;
}

function writeDraft(key: string, draft: Draft) {
  try {
    localStorage.setItem(key, JSON.stringify(draft));
  } catch {
    // Storage full or refused (private browsing): the form still works, only without a draft.
  }
}

type Errors = Partial<
  Record<
    'students' | 'unlisted' | 'schoolId' | 'categoryId' | 'subject' | 'description' | 'occurredAt',
    string
  >
>;

export function LogConcernPage() {
  const me = useMe();
  const key = concernDraftKey(me.id);
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const prefillId = params.get('studentId');
  const [restored] = useState(() => readDraft(key));
  const [draft, setDraft] = useState<Draft>(() => restored ?? emptyDraft());
  const [errors, setErrors] = useState<Errors>({});
  const [offline, setOffline] = useState(false);
  const [saved, setSaved] = useState<CreatedIncident | null>(null);

  function update(change: Partial<Draft>) {
    setDraft((current) => {
      const next = { ...current, ...change, savedAt: new Date().toISOString() };
      writeDraft(key, next);
      return next;
    });
  }

  function discard() {
    localStorage.removeItem(key);
    setDraft(emptyDraft());
    setErrors({});
    setOffline(false);
  }

  // "Log a concern about this child": the child from the student page is picked already.
  const prefill = useQuery({
    queryKey: ['students', 'one', prefillId],
    queryFn: ({ signal }) => api.get<StudentDetail>(`/students/${prefillId}`, undefined, signal),
    enabled: Boolean(prefillId),
  });
  useEffect(() => {
    const s = prefill.data;
    if (!s) return;
    setDraft((current) =>
      current.students.some((p) => p.id === s.id) ||
      (current.students[0] && current.students[0].schoolId !== s.schoolId)
        ? current
        : {
            ...current,
            students: [
              ...current.students,
              { id: s.id, name: studentName(s), schoolId: s.schoolId },
            ],
          },
    );
  }, [prefill.data]);

  const reporting = useReportingSchools();
  const schools = reporting.schools;
  // The school of the children picked; else the one chosen, or the only one there is.
  const schoolId =
    draft.students[0]?.schoolId ??
    (schools.some((s) => s.id === draft.schoolId)
      ? draft.schoolId
      : schools.length === 1
        ? (schools[0]?.id ?? '')
        : '');
  const categories = useQuery({
    queryKey: ['categories', schoolId],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/categories', 'get'>>('/categories', { schoolId }, signal),
    enabled: Boolean(schoolId),
    staleTime: 60_000,
  });
  const category = categories.data?.items.find((c) => c.id === draft.categoryId);
  const allegation = category?.sensitivity === 'allegation';

  const save = useMutation({
    mutationFn: (body: Body<'/api/v1/incidents', 'post'>) =>
      api.post<CreatedIncident>('/incidents', body),
    onSuccess: (incident) => {
      localStorage.removeItem(key);
      setDraft(emptyDraft());
      setSaved(incident);
      void queryClient.invalidateQueries({ queryKey: ['incidents'] });
      void queryClient.invalidateQueries({ queryKey: ['me', 'reports'] });
      void queryClient.invalidateQueries({ queryKey: ['students', 'chronology'] });
    },
    onError: (error) => {
      setOffline(error instanceof ApiError && error.code === 'network_error');
      if (error instanceof ApiError) {
        setErrors({
          students: error.fieldMessage('studentIds'),
          unlisted: error.fieldMessage('unlistedChild.name') ?? error.fieldMessage('unlistedChild'),
          schoolId: error.fieldMessage('schoolId'),
          categoryId: error.fieldMessage('categoryId'),
          subject: error.fieldMessage('subjectUserId'),
          description: error.fieldMessage('description'),
          occurredAt: error.fieldMessage('occurredAt'),
        });
      }
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Errors = {};
    if (draft.students.length === 0 && !draft.unlisted)
      found.students = 'Pick at least one child, or tick "Child not listed".';
    if (draft.unlisted && !draft.unlisted.name.trim())
      found.unlisted = 'Give the child’s name, as far as you know it.';
    if (!schoolId) found.schoolId = 'Choose the school.';
    if (!category) found.categoryId = 'Choose a category.';
    if (allegation && !draft.subject) found.subject = 'Choose who the allegation is about.';
    if (!draft.description.trim()) found.description = 'Say what happened.';
    if (!draft.occurredAt) found.occurredAt = 'Say when it happened.';
    setErrors(found);
    setOffline(false);
    if (Object.keys(found).length > 0) return;
    const note = draft.unlisted?.note.trim();
    save.mutate({
      schoolId,
      studentIds: draft.students.map((s) => s.id),
      ...(draft.unlisted
        ? { unlistedChild: { name: draft.unlisted.name.trim(), ...(note ? { note } : {}) } }
        : {}),
      categoryId: draft.categoryId,
      ...(allegation && draft.subject ? { subjectUserId: draft.subject.id } : {}),
      occurredAt: fromLocalInput(draft.occurredAt),
      description: draft.description.trim(),
      ...(draft.location.trim() ? { location: draft.location.trim() } : {}),
    });
  }

  const showError = save.isError && !offline && !Object.values(errors).some(Boolean);
  if (saved) {
    return (
      <>
        <PageHeader title="Concern saved" />
        <Receipt
          incident={saved}
          onAnother={() => {
            setSaved(null);
            save.reset();
          }}
        />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title="Log a concern"
        description="Write down what you saw or heard, in your own words. It is saved on this device as you type."
      />
      {restored?.savedAt && draft.savedAt === restored.savedAt ? (
        <Notice>
          Your draft from {formatDateTime(restored.savedAt)} has been restored.{' '}
          <button type="button" className="link-button" onClick={discard}>
            Discard draft
          </button>
        </Notice>
      ) : null}
      {offline ? (
        <Notice tone="warning">
          No connection: your concern has not been sent yet. It is kept as a draft on this device;
          try again when you are back online.
        </Notice>
      ) : null}
      {showError ? <ErrorMessage error={save.error} /> : null}
      <form className="log-concern panel" onSubmit={submit} noValidate>
        <StudentPicker
          reportable
          schoolId={schoolId || undefined}
          picked={draft.students}
          error={errors.students}
          hint="Type part of a name, then pick each child involved. You can report about any child at your school."
          onChange={(students) => update({ students })}
        />
        <UnlistedChildFields
          value={draft.unlisted}
          error={errors.unlisted}
          onChange={(unlisted) => update({ unlisted })}
        />
        {schools.length > 1 ? (
          <SelectField
            label="School"
            value={schoolId}
            disabled={draft.students.length > 0}
            hint={draft.students.length > 0 ? 'The school of the children picked.' : undefined}
            error={errors.schoolId}
            onChange={(event) => update({ schoolId: event.target.value })}
          >
            <option value="">Choose…</option>
            {schools.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
        ) : schools.length === 0 && !reporting.pending ? (
          <ErrorMessage error={new Error('You hold no role at a school, so cannot report here.')} />
        ) : null}
        <SelectField
          label="Category"
          value={category ? draft.categoryId : ''}
          onChange={(event) => update({ categoryId: event.target.value })}
          error={errors.categoryId}
          hint={
            !schoolId
              ? 'Pick a child or a school first: categories depend on the school.'
              : category && category.sensitivity !== 'standard'
                ? `${sensitivityLabels[category.sensitivity]}: only staff cleared for this kind of record will see it.`
                : undefined
          }
          disabled={!schoolId || categories.isPending}
        >
          <option value="">Choose…</option>
          {(categories.data?.items ?? []).map((c) => (
            <option key={c.id} value={c.id}>
              {categoryLabel(c)}
            </option>
          ))}
        </SelectField>
        {categories.isError ? <ErrorMessage error={categories.error} /> : null}
        {allegation ? (
          <AllegationSubjectPicker
            schoolId={schoolId}
            value={draft.subject}
            error={errors.subject}
            onChange={(subject) => update({ subject })}
          />
        ) : null}
        <TextAreaField
          label="What happened"
          hint="Facts first: what you saw or heard, and what the child said in their words."
          value={draft.description}
          onChange={(event) => update({ description: event.target.value })}
          error={errors.description}
          maxLength={20000}
        />
        <InputField
          label="When"
          type="datetime-local"
          value={draft.occurredAt}
          onChange={(event) => update({ occurredAt: event.target.value })}
          error={errors.occurredAt}
        />
        <InputField
          label="Where (optional)"
          value={draft.location}
          maxLength={200}
          autoComplete="off"
          onChange={(event) => update({ location: event.target.value })}
        />
        <div className="submit-row">
          <Button type="submit" busy={save.isPending}>
            Save concern
          </Button>
          {draft.savedAt ? (
            <button type="button" className="link-button" onClick={discard}>
              Discard draft
            </button>
          ) : null}
        </div>
      </form>
    </>
  );
}
