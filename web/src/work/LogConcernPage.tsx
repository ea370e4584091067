import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { ApiError, api, type Page } from '../api/client.ts';
import type { Category, Incident, StudentSummary } from '../api/types.ts';
import { sensitivityLabels } from '../api/types.ts';
import {
  Button,
  ErrorMessage,
  Field,
  InputField,
  Notice,
  PageHeader,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { concernDraftKey, readStoredDraft } from '../drafts.ts';
import { formatDateTime, fromLocalInput, toLocalInput } from '../format.ts';
import { useDebounced, useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';
import { type StudentDetail, studentName, yearLabel } from './common.tsx';

interface PickedStudent {
  id: string;
  name: string;
  schoolId: string;
}

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
              {c.sensitivity === 'standard'
                ? c.name
                : `${c.name} (${sensitivityLabels[c.sensitivity].toLowerCase()})`}
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

/**
 * Picks children by name: a combobox listing the matches the server returns. Arrow keys move
 * through the matches, Enter picks one, Escape closes the list; picked children show as chips.
 */
function StudentPicker({
  schoolId,
  picked,
  error,
  onChange,
}: {
  schoolId: string | undefined;
  picked: PickedStudent[];
  error: string | undefined;
  onChange: (students: PickedStudent[]) => void;
}) {
  const listId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const q = useDebounced(text.trim(), 200);
  const matches = useQuery({
    queryKey: ['students', 'pick', q, schoolId ?? ''],
    queryFn: ({ signal }) =>
      api.get<Page<StudentSummary>>('/students', { q, schoolId, limit: 8 }, signal),
    enabled: q.length > 0,
  });
  const options = (matches.data?.items ?? []).filter((s) => !picked.some((p) => p.id === s.id));
  const expanded = open && q.length > 0 && text.trim().length > 0;

  function pick(s: StudentSummary) {
    onChange([...picked, { id: s.id, name: studentName(s), schoolId: s.schoolId }]);
    setText('');
    setActive(0);
    inputRef.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      setOpen(true);
      setActive((a) => Math.min(a + 1, Math.max(options.length - 1, 0)));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (event.key === 'Enter') {
      const choice = options[active];
      if (expanded && choice) {
        event.preventDefault();
        pick(choice);
      }
    } else if (event.key === 'Escape') {
      setOpen(false);
    }
  }

  const optionId = (i: number) => `${listId}-option-${i}`;
  return (
    <div className="combobox">
      <Field
        label="Children involved"
        hint="Type part of a name, then pick each child involved."
        error={error}
      >
        {(props) => (
          <input
            {...props}
            ref={inputRef}
            type="text"
            role="combobox"
            autoComplete="off"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded && options[active] ? optionId(active) : undefined}
            value={text}
            onChange={(event) => {
              setText(event.target.value);
              setOpen(true);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => setOpen(false)}
            onFocus={() => setOpen(true)}
          />
        )}
      </Field>
      <div id={listId} role="listbox" aria-label="Matching children" hidden={!expanded}>
        {options.map((s, i) => (
          <div
            key={s.id}
            id={optionId(i)}
            role="option"
            tabIndex={-1}
            aria-selected={i === active}
            className={i === active ? 'active' : undefined}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => pick(s)}
            onKeyDown={(event) => event.key === 'Enter' && pick(s)}
          >
            {studentName(s)}
            {s.yearGroup !== null ? (
              <span className="muted"> · {yearLabel(s.yearGroup)}</span>
            ) : null}
          </div>
        ))}
      </div>
      {expanded ? (
        <p className="muted" role="status">
          {matches.isFetching
            ? 'Searching…'
            : options.length === 0
              ? 'No children match.'
              : `${options.length} ${options.length === 1 ? 'match' : 'matches'}: use the arrow keys and Enter to pick.`}
        </p>
      ) : null}
      {picked.length > 0 ? (
        <ul className="chips" aria-label="Children picked">
          {picked.map((s) => (
            <li key={s.id}>
              {s.name}
              <button
                type="button"
                className="secondary"
                aria-label={`Remove ${s.name}`}
                onClick={() => onChange(picked.filter((p) => p.id !== s.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
