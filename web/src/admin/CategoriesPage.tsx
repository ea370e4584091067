import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ApiError, api } from '../api/client.ts';
import { type Category, type Sensitivity, sensitivityLabels } from '../api/types.ts';
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

export function CategoriesPage() {
  const [params, setParams] = useSearchParams();
  const schoolId = params.get('schoolId') ?? '';
  const schools = useSchools();
  const schoolName = useSchoolName();
  const query = useQuery({
    queryKey: ['categories', schoolId || null],
    queryFn: ({ signal }) => api.get<{ items: Category[] }>('/categories', { schoolId }, signal),
  });
  return (
    <>
      <PageHeader
        title="Categories"
        description="The kinds of concern staff can log, and how sensitive each one is."
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
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Sensitivity</th>
                      <th scope="col">Used at</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((category) => (
                      <tr key={category.id}>
                        <td>{category.name}</td>
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
      </section>
    </>
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
      api.post<Category>('/categories', {
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
