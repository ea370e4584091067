import { useQueryClient } from '@tanstack/react-query';
import { type ChangeEvent, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, sendWithProgress } from '../api/client.ts';
import { Button, ErrorMessage, Field, Notice, PageHeader, Progress } from '../components/ui.tsx';
import { plural } from '../format.ts';

interface ImportReport {
  dryRun: boolean;
  rows: number;
  created: number;
  errors: { line: number; column: string; message: string }[];
}

type Stage =
  | { step: 'choose' }
  | { step: 'checking'; sent: number; total: number }
  | { step: 'checked'; report: ImportReport }
  | { step: 'importing'; sent: number; total: number; rows: number }
  | { step: 'done'; report: ImportReport };

/**
 * Students from a CSV export of the school's MIS: checked first (nothing written, every bad row
 * listed by line and column), then written in one transaction, all rows or none.
 */
export function ImportStudentsPage() {
  const queryClient = useQueryClient();
  const [csv, setCsv] = useState<{ name: string; text: string }>();
  const [stage, setStage] = useState<Stage>({ step: 'choose' });
  const [error, setError] = useState<unknown>();

  async function choose(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    setError(undefined);
    setStage({ step: 'choose' });
    if (!file) {
      setCsv(undefined);
      return;
    }
    const text = await file.text();
    setCsv({ name: file.name, text });
    await check(text);
  }

  async function check(text: string) {
    setStage({ step: 'checking', sent: 0, total: text.length });
    try {
      const report = await sendWithProgress<ImportReport>(
        'POST',
        '/students/import',
        text,
        'text/csv',
        (sent, total) => setStage({ step: 'checking', sent, total }),
        { dryRun: 'true' },
      );
      setStage({ step: 'checked', report });
    } catch (caught) {
      setError(caught);
      setStage({ step: 'choose' });
    }
  }

  async function importAll(rows: number) {
    if (!csv) return;
    setStage({ step: 'importing', sent: 0, total: csv.text.length, rows });
    try {
      const report = await sendWithProgress<ImportReport>(
        'POST',
        '/students/import',
        csv.text,
        'text/csv',
        (sent, total) => setStage({ step: 'importing', sent, total, rows }),
      );
      setStage({ step: 'done', report });
      await queryClient.invalidateQueries({ queryKey: ['students'] });
    } catch (caught) {
      setError(caught);
      setStage({ step: 'choose' });
    }
  }

  return (
    <>
      <PageHeader
        title="Import students"
        description="Add students from a CSV file. Haven checks every row first; nothing is written until the whole file is right."
      />
      <section className="panel">
        <p>
          Columns: <code>givenName</code>, <code>familyName</code>, and <code>school</code> (its
          name) or <code>schoolId</code>; optionally <code>upn</code>, <code>preferredName</code>,{' '}
          <code>dateOfBirth</code>, <code>yearGroup</code>, <code>house</code>,{' '}
          <code>senStatus</code> (none, K or E), <code>flags</code> and <code>tags</code> (separated
          by ";") and <code>onRoll</code>.
        </p>
        <Field label="CSV file">
          {(props) => <input {...props} type="file" accept=".csv,text/csv" onChange={choose} />}
        </Field>
      </section>
      <ErrorMessage
        error={
          error instanceof ApiError && error.code === 'validation_failed'
            ? new Error('The file has problems; nothing was written. Check it again for the list.')
            : error
        }
      />
      {stage.step === 'checking' ? (
        <Progress value={stage.sent} max={stage.total} label="Sending the file to be checked" />
      ) : null}
      {stage.step === 'checked' ? (
        <CheckResult report={stage.report} onImport={() => void importAll(stage.report.rows)} />
      ) : null}
      {stage.step === 'importing' ? (
        <section className="panel" aria-live="polite">
          {stage.sent < stage.total ? (
            <Progress value={stage.sent} max={stage.total} label="Uploading" />
          ) : (
            <p className="loading" role="status">
              <span className="spinner" aria-hidden="true" />
              Writing {plural(stage.rows, 'student')}…
            </p>
          )}
        </section>
      ) : null}
      {stage.step === 'done' ? (
        <Notice tone="success">
          {plural(stage.report.created, 'student')} added from {csv?.name}.{' '}
          <Link to="/students">Go to students</Link>
        </Notice>
      ) : null}
    </>
  );
}

function CheckResult({ report, onImport }: { report: ImportReport; onImport: () => void }) {
  if (report.errors.length === 0) {
    return (
      <section className="panel" aria-labelledby="check-title">
        <h2 id="check-title">Ready to import</h2>
        <p>{plural(report.rows, 'row')} checked; all are correct.</p>
        <Button onClick={onImport}>Import {plural(report.rows, 'student')}</Button>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="check-title">
      <h2 id="check-title">The file needs correcting</h2>
      <p>
        {plural(report.errors.length, 'problem')} in {plural(report.rows, 'row')}. Nothing has been
        written. Correct the file and choose it again.
      </p>
      <div className="table-wrap">
        <table>
          <caption className="muted">Problems by line</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.slice(0, 500).map((e) => (
              <tr key={`${e.line}-${e.column}`}>
                <td>{e.line}</td>
                <td>{e.column}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.errors.length > 500 ? <p className="muted">The first 500 are shown.</p> : null}
    </section>
  );
}
