import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import { type CategoryListItem, type Sensitivity, sensitivityLabels } from '../api/types.ts';
import {
  Button,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  QueryState,
  SelectField,
} from '../components/ui.tsx';
import { useSchools } from '../hooks.ts';
import { useSchoolName } from './common.tsx';
import { NotificationRules } from './NotificationRules.tsx';

/** Every category, retired ones too, as the settings pages list them. */
function useAdminCategories(schoolId: string) {
  return useQuery({
    queryKey: ['categories', 'admin', schoolId || null],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/categories', 'get'>>(
        '/categories',
        { schoolId, includeRetired: true },
        signal,
      ),
  });
}

export function CategoriesPage() {
  const [params, setParams] = useSearchParams();
  const schoolId = params.get('schoolId') ?? '';
  const schools = useSchools();
  const schoolName = useSchoolName();
  const query = useAdminCategories(schoolId);
  return (
    <>
      <PageHeader
        title="Categories"
        description="The kinds of concern staff can log, how sensitive each one is, and who is told when one is logged."
      />
      <AddCategory schoolId={schoolId} />
      <section aria-labelledby="categories-title">
        <h2 id="categories-title">Categories</h2>
        <div className="filters">
          <SelectField
            label="School"
            value={schoolId}
            onChange={(e) => setParams(e.target.value ? { schoolId: e.target.value } : {})}
          >
            <option value="">Every school</option>
            {schools.data?.items.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
        </div>
        <QueryState query={query} loading="Loading categories…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No categories yet.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">
                    Categories: open one to rename or retire it, or to choose who is told
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Sensitivity</th>
                      <th scope="col">Used at</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((category) => (
                      <tr key={category.id} className={category.retired ? 'retired' : undefined}>
                        <td>
                          <Link to={`/admin/categories/${category.id}`}>{category.name}</Link>
                          {category.retired ? <span className="tag">Retired</span> : null}
                        </td>
                        <td>{sensitivityLabels[category.sensitivity]}</td>
                        <td>
                          {category.schoolId === null
                            ? 'Every school'
                            : schoolName(category.schoolId)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryState>
        <p className="muted">
          Open a category to rename or retire it, and to choose who is told when one is logged.
        </p>
      </section>
    </>
  );
}

/** One category: its name, who is told of its new concerns, and retiring it (or bringing it back). */
export function CategoryPage() {
  const { id = '' } = useParams();
  const query = useAdminCategories('');
  const schoolName = useSchoolName();
  const category = query.data?.items.find((c) => c.id === id);
  if (!category) {
    return (
      <>
        <PageHeader title={query.isSuccess ? 'Category not found' : 'Category'} />
        <QueryState query={query} loading="Loading the category…">
          {() => <ErrorMessage error={new Error('Not found, or you do not have access to it.')} />}
        </QueryState>
        <p>
          <Link to="/admin/categories">All categories</Link>
        </p>
      </>
    );
  }
  return (
    <>
      <PageHeader
        title={category.name}
        description={`${sensitivityLabels[category.sensitivity]} · ${
          category.schoolId === null ? 'Every school' : schoolName(category.schoolId)
        }${category.retired ? ' · Retired' : ''}`}
      >
        <Link className="button secondary" to="/admin/categories">
          All categories
        </Link>
      </PageHeader>
      <div className="stack">
        <NotificationRules categoryId={category.id} />
        <RenameCategory category={category} />
        <RetireCategory category={category} />
      </div>
    </>
  );
}

function useUpdateCategory(category: CategoryListItem, onDone: (c: CategoryListItem) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (patch: { name?: string; retired?: boolean }) =>
      api.patch<CategoryListItem>(`/categories/${category.id}`, patch),
    onSuccess: (updated) => {
      void queryClient.invalidateQueries({ queryKey: ['categories'] });
      onDone(updated);
    },
  });
}

function RenameCategory({ category }: { category: CategoryListItem }) {
  const [name, setName] = useState(category.name);
  const [done, setDone] = useState<string | null>(null);
  const rename = useUpdateCategory(category, (c) => setDone(`Renamed to ${c.name}.`));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    rename.mutate({ name: name.trim() });
  };
  return (
    <section className="panel" aria-labelledby="rename-title">
      <h2 id="rename-title">Name</h2>
      {done ? <Notice tone="success">{done}</Notice> : null}
      <form className="inline-form" onSubmit={submit}>
        <InputField
          label="Category name"
          hint="Concerns already logged show the new name too."
          value={name}
          maxLength={100}
          required
          onChange={(e) => setName(e.target.value)}
          error={rename.error instanceof ApiError ? rename.error.fieldMessage('name') : undefined}
        />
        <Button
          type="submit"
          busy={rename.isPending}
          disabled={!name.trim() || name.trim() === category.name}
        >
          Rename
        </Button>
        <ErrorMessage
          error={
            rename.error instanceof ApiError && rename.error.fieldMessage('name')
              ? null
              : rename.error
          }
        />
      </form>
    </section>
  );
}

function RetireCategory({ category }: { category: CategoryListItem }) {
  const [done, setDone] = useState<string | null>(null);
  const change = useUpdateCategory(category, (c) =>
    setDone(
      c.retired
        ? `${c.name} is retired: it is no longer offered for new concerns.`
        : `${c.name} is offered for new concerns again.`,
    ),
  );
  return (
    <section className="panel" aria-labelledby="retire-title">
      <h2 id="retire-title">{category.retired ? 'Retired' : 'Retire'}</h2>
      {done ? <Notice tone="success">{done}</Notice> : null}
      <p>
        {category.retired
          ? 'This category is not offered for new concerns. Concerns already logged keep it.'
          : 'A retired category is no longer offered for new concerns. Concerns already logged keep it, and it can be brought back.'}
      </p>
      <Button
        className="secondary"
        busy={change.isPending}
        onClick={() => {
          setDone(null);
          change.mutate({ retired: !category.retired });
        }}
      >
        {category.retired ? 'Bring it back' : 'Retire this category'}
      </Button>
      <ErrorMessage error={change.error} />
    </section>
  );
}

function AddCategory({ schoolId: initialSchool }: { schoolId: string }) {
  const queryClient = useQueryClient();
  const schools = useSchools();
  const [name, setName] = useState('');
  const [sensitivity, setSensitivity] = useState<Sensitivity>('standard');
  const [schoolId, setSchoolId] = useState(initialSchool);
  const [added, setAdded] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api.post<CategoryListItem>('/categories', {
        name,
        sensitivity,
        ...(schoolId ? { schoolId } : {}),
      }),
    onSuccess: (category) => {
      setAdded(`Added ${category.name}.`);
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['categories'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    create.mutate();
  };
  return (
    <section className="panel" aria-labelledby="add-category-title">
      <h2 id="add-category-title">Add a category</h2>
      {added ? <Notice tone="success">{added}</Notice> : null}
      <form className="inline-form" onSubmit={submit}>
        <InputField
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          error={create.error instanceof ApiError ? create.error.fieldMessage('name') : undefined}
        />
        <SelectField
          label="Sensitivity"
          value={sensitivity}
          onChange={(e) => setSensitivity(e.target.value as Sensitivity)}
        >
          {(Object.keys(sensitivityLabels) as Sensitivity[]).map((s) => (
            <option key={s} value={s}>
              {sensitivityLabels[s]}
            </option>
          ))}
        </SelectField>
        <SelectField label="Used at" value={schoolId} onChange={(e) => setSchoolId(e.target.value)}>
          <option value="">Every school</option>
          {schools.data?.items.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </SelectField>
        <Button type="submit" busy={create.isPending}>
          Add category
        </Button>
        <ErrorMessage error={create.error} />
      </form>
      <p className="muted">
        Child protection and allegation records are seen only by staff cleared for them.
      </p>
    </section>
  );
}
