import { useQueryClient } from '@tanstack/react-query';
import { type ChangeEvent, type ReactNode, useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { ApiError, api, sendWithProgress } from '../api/client.ts';
import {
  Button,
  ErrorMessage,
  Field,
  Notice,
  PageHeader,
  Progress,
  SelectField,
} from '../components/ui.tsx';
import { plural } from '../format.ts';
import { useSchools } from '../hooks.ts';

type ImportReport = Answer<'/api/v1/students/import', 'post'>;
type ImportRun = Answer<'/api/v1/imports/{id}', 'get'>;
type Problem = ImportReport['errors'][number];

type Stage =
  | { step: 'choose' }
  | { step: 'working'; purpose: 'check' | 'import'; runId: string; sent: number; total: number }
  | { step: 'checked'; report: ImportReport }
  | { step: 'refused'; problems: Problem[] }
  | { step: 'done'; report: ImportReport };

/** How often a running import is asked how far it has gone. */
const POLL_MS = 400;

/**
 * Students from a CSV export of the school's MIS (SIMS, Arbor, Bromcom or Haven's own headings):
 * checked first (nothing written, every problem listed row by row), then written in one
 * transaction, all rows or none. A child Haven already holds (the same UPN) is updated.
 */
export function ImportStudentsPage() {
  const queryClient = useQueryClient();
  const schools = useSchools();
  const [schoolId, setSchoolId] = useState('');
  const [csv, setCsv] = useState<{ name: string; text: string }>();
  const [stage, setStage] = useState<Stage>({ step: 'choose' });
  const [run, setRun] = useState<ImportRun>();
  const [error, setError] = useState<unknown>();
  const schoolList = schools.data?.items ?? [];
  const chosenSchool = schoolId || schoolList[0]?.id || '';

  // While a file is checked or written, its run is asked how far it has gone.
  const runId = stage.step === 'working' ? stage.runId : undefined;
  useEffect(() => {
    if (!runId) return;
    let stopped = false;
    const timer = setInterval(() => {
      api
        .get<ImportRun>(`/imports/${runId}`)
        .then((latest) => {
          if (!stopped) setRun(latest);
        })
        .catch(() => {
          // A missed poll is not an error: the import's own answer says how it ended.
        });
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [runId]);

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
    await send(text, 'check');
  }

  async function send(text: string, purpose: 'check' | 'import') {
    setError(undefined);
    setRun(undefined);
    try {
      const waiting = await api.post<ImportRun>('/imports', { kind: 'students' });
      setStage({ step: 'working', purpose, runId: waiting.id, sent: 0, total: text.length });
      const report = await sendWithProgress<ImportReport>(
        'POST',
        '/students/import',
        text,
        'text/csv',
        (sent, total) => setStage({ step: 'working', purpose, runId: waiting.id, sent, total }),
        {
          runId: waiting.id,
          ...(chosenSchool ? { schoolId: chosenSchool } : {}),
          ...(purpose === 'check' ? { dryRun: 'true' } : {}),
        },
      );
      if (purpose === 'check') {
        setStage({ step: 'checked', report });
      } else {
        setStage({ step: 'done', report });
        await queryClient.invalidateQueries({ queryKey: ['students'] });
      }
    } catch (caught) {
      // Something changed between the check and the import: the problems come back with the 400.
      const problems = caught instanceof ApiError ? caught.problem.problems : undefined;
      if (Array.isArray(problems) && problems.length > 0) {
        setStage({ step: 'refused', problems: problems as Problem[] });
      } else {
        setError(caught);
        setStage({ step: 'choose' });
      }
    }
  }

  return (
    <>
      <PageHeader
        title="Import students"
        description="Add and update students from your MIS's CSV export. Haven checks every row first; nothing is written until the whole file is right."
      />
      <section className="panel">
        <p>
          Exports from SIMS, Arbor and Bromcom are read as they come: legal and preferred names,
          UPN, date of birth (14/03/2016), year group (Y9, Year 9 or R), house and SEN status. A
          child Haven already holds, by UPN, is updated rather than added twice. Columns Haven does
          not use (such as registration group or gender) are listed and left alone.
        </p>
        {schoolList.length > 1 ? (
          <SelectField
            label="School"
            hint="For a file without a School column: the school its children are at."
            value={chosenSchool}
            onChange={(event) => setSchoolId(event.target.value)}
          >
            {schoolList.map((school) => (
              <option key={school.id} value={school.id}>
                {school.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <Field label="CSV file">
          {(props) => <input {...props} type="file" accept=".csv,text/csv" onChange={choose} />}
        </Field>
      </section>
      <ErrorMessage error={error} />
      {stage.step === 'working' ? (
        <RunProgress
          purpose={stage.purpose}
          sent={stage.sent}
          total={stage.total}
          run={run?.id === stage.runId ? run : undefined}
        />
      ) : null}
      {stage.step === 'checked' ? (
        <CheckResult
          report={stage.report}
          onImport={() => {
            if (csv) void send(csv.text, 'import');
          }}
        />
      ) : null}
      {stage.step === 'refused' ? (
        <section className="panel" aria-labelledby="refused-title">
          <h2 id="refused-title">The file needs correcting</h2>
          <p>
            Since the check, {plural(stage.problems.length, 'problem')} appeared. Nothing has been
            written. Correct the file and choose it again.
          </p>
          <ProblemTable problems={stage.problems} />
        </section>
      ) : null}
      {stage.step === 'done' ? (
        <Notice tone="success">
          {plural(stage.report.created, 'student')} added from {csv?.name}.{' '}
          {stage.report.updated > 0 ? `${plural(stage.report.updated, 'student')} updated. ` : ''}
          {stage.report.unchanged > 0 ? `${stage.report.unchanged} unchanged. ` : ''}
          <Link to="/students">Go to students</Link>
        </Notice>
      ) : null}
    </>
  );
}

/** Uploading, then the run's own count of rows checked, then of changes written. */
function RunProgress({
  purpose,
  sent,
  total,
  run,
}: {
  purpose: 'check' | 'import';
  sent: number;
  total: number;
  run: ImportRun | undefined;
}) {
  let body: ReactNode;
  if (sent < total && (!run || run.status === 'waiting')) {
    body = (
      <Progress
        value={sent}
        max={total}
        label={purpose === 'check' ? 'Sending the file to be checked' : 'Uploading'}
      />
    );
  } else if (run?.status === 'writing') {
    body = <Progress value={run.writtenRows} max={run.rowsToWrite} label="Writing the changes" />;
  } else if (run && run.totalRows > 0) {
    body = <Progress value={run.processedRows} max={run.totalRows} label="Checking rows" />;
  } else {
    body = (
      <p className="loading" role="status">
        <span className="spinner" aria-hidden="true" />
        {purpose === 'check' ? 'Checking the file…' : 'Importing…'}
      </p>
    );
  }
  return (
    <section className="panel" aria-live="polite">
      {body}
    </section>
  );
}

function ProblemTable({ problems }: { problems: readonly Problem[] }) {
  return (
    <>
      <div className="table-wrap">
        <table>
          <caption className="muted">Problems, row by row (the headings are row 1)</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {problems.slice(0, 500).map((e) => (
              <tr key={`${e.line}-${e.column}-${e.message}`}>
                <td>{e.line}</td>
                <td>{e.column}</td>
                <td>{e.text}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {problems.length > 500 ? <p className="muted">The first 500 are shown.</p> : null}
    </>
  );
}

function Unused({ columns }: { columns: readonly string[] }) {
  if (columns.length === 0) return null;
  return <p>Not used: {columns.join(', ')}. Haven does not keep these, so they are left out.</p>;
}

function CheckResult({ report, onImport }: { report: ImportReport; onImport: () => void }) {
  const { create, update, unchanged } = report.plan;
  const summary = [
    `${plural(create, 'new student')}`,
    `${update} to update`,
    `${unchanged} unchanged`,
  ].join(', ');
  if (report.errors.length === 0) {
    return (
      <section className="panel" aria-labelledby="check-title">
        <h2 id="check-title">Ready to import</h2>
        <p>
          {plural(report.rows, 'row')} checked; all are correct: {summary}.
        </p>
        <Unused columns={report.ignoredColumns} />
        <Button onClick={onImport}>Import {plural(report.rows, 'student')}</Button>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="check-title">
      <h2 id="check-title">The file needs correcting</h2>
      <p>
        {plural(report.errors.length, 'problem')} in {plural(report.plan.skip, 'row')} of{' '}
        {report.rows}. Nothing has been written. Correct the file and choose it again.
      </p>
      <Unused columns={report.ignoredColumns} />
      <ProblemTable problems={report.errors} />
    </section>
  );
}
