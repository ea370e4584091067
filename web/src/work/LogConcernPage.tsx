import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { ApiError, api } from '../api/client.ts';
import type { Category, Incident } from '../api/types.ts';
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
import { useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';
import {
  categoryLabel,
  type PickedStudent,
  type StudentDetail,
  StudentPicker,
  studentName,
} from './common.tsx';

/** What the form holds; kept on this device as the user types, until the concern is saved. */
interface Draft {
  students: PickedStudent[];
  categoryId: string;
  description: string;
  occurredAt: string;
  location: string;
  savedAt?: string;
}

function emptyDraft(): Draft {
  return {
    students: [],
    categoryId: '',
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

type Errors = Partial<Record<'students' | 'categoryId' | 'description' | 'occurredAt', string>>;

export function LogConcernPage() {
  const me = useMe();
  const key = concernDraftKey(me.id);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const prefillId = params.get('studentId');
  const [restored] = useState(() => readDraft(key));
  const [draft, setDraft] = useState<Draft>(() => restored ?? emptyDraft());
  const [errors, setErrors] = useState<Errors>({});
  const [offline, setOffline] = useState(false);

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

  const schools = useSchools().data?.items ?? [];
  const schoolId = draft.students[0]?.schoolId ?? (schools.length === 1 ? schools[0]?.id : '');
  const categories = useQuery({
    queryKey: ['categories', schoolId],
    queryFn: ({ signal }) => api.get<{ items: Category[] }>('/categories', { schoolId }, signal),
    enabled: Boolean(schoolId),
    staleTime: 60_000,
  });
  const category = categories.data?.items.find((c) => c.id === draft.categoryId);

  const save = useMutation({
    mutationFn: (body: object) => api.post<Incident>('/incidents', body),
    onSuccess: (incident) => {
      localStorage.removeItem(key);
      void queryClient.invalidateQueries({ queryKey: ['incidents'] });
      void queryClient.invalidateQueries({ queryKey: ['students', 'chronology'] });
      navigate(`/incidents/${incident.id}`);
    },
    onError: (error) => {
      setOffline(error instanceof ApiError && error.code === 'network_error');
      if (error instanceof ApiError) {
        setErrors({
          students: error.fieldMessage('studentIds'),
          categoryId: error.fieldMessage('categoryId'),
          description: error.fieldMessage('description'),
          occurredAt: error.fieldMessage('occurredAt'),
        });
      }
    },
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    const found: Errors = {};
    if (draft.students.length === 0) found.students = 'Pick at least one child.';
    if (!category) found.categoryId = 'Choose a category.';
    if (!draft.description.trim()) found.description = 'Say what happened.';
    if (!draft.occurredAt) found.occurredAt = 'Say when it happened.';
    setErrors(found);
    setOffline(false);
    if (Object.keys(found).length > 0) return;
    save.mutate({
      schoolId,
      studentIds: draft.students.map((s) => s.id),
      categoryId: draft.categoryId,
      occurredAt: fromLocalInput(draft.occurredAt),
      description: draft.description.trim(),
      ...(draft.location.trim() ? { location: draft.location.trim() } : {}),
    });
  }

  const showError = save.isError && !offline && !Object.values(errors).some(Boolean);
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
          schoolId={draft.students[0]?.schoolId}
          picked={draft.students}
          error={errors.students}
          onChange={(students) => update({ students })}
        />
        <SelectField
          label="Category"
          value={category ? draft.categoryId : ''}
          onChange={(event) => update({ categoryId: event.target.value })}
          error={errors.categoryId}
          hint={
            !schoolId
              ? 'Pick a child first: categories depend on their school.'
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
