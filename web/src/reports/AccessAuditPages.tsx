import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { AsOfField, asOfQuery } from '../access/common.tsx';
import { Pager, useCursorPages, useSchoolGroups } from '../admin/common.tsx';
import { api, type Page } from '../api/client.ts';
import { type Role, roleLabels, type Scope, type ScopeType } from '../api/types.ts';
import {
  Button,
  CopyButton,
  Empty,
  ErrorMessage,
  InputField,
  PageHeader,
  QueryState,
  SelectField,
} from '../components/ui.tsx';
import { formatDateTime, plural } from '../format.ts';
import { useSchools } from '../hooks.ts';
import { useMe } from '../session.tsx';
import { downloadUrl, type LoadedRun, loadRun } from './load.ts';
import {
  type AccessAuditFlag,
  type AccessAuditRow,
  type AccessAuditRun,
  accessAuditFlags,
  assignmentInWords,
  type FlagCounts,
  flagWords,
  permissionsInWords,
} from './types.ts';
import './reports.css';

const reportRoles = new Set<Role>(['owner', 'dsl', 'deputy_dsl', 'admin']);

function scopeKind(type: ScopeType): string {
  return { organisation: 'Organisation', school_group: 'School group', school: 'School' }[type];
}

function asOfWords(run: { asOf: string | null; createdAt: string }): string {
  return run.asOf ? formatDateTime(run.asOf) : `${formatDateTime(run.createdAt)} (when taken)`;
}

function flaggedTotal(counts: FlagCounts): number {
  return accessAuditFlags.reduce((sum, flag) => sum + (counts[flag] ?? 0), 0);
}

/**
 * The scopes the caller may run the report for, from their roles (Admin and above): the whole
 * organisation and everything in it, or their school groups and schools. The server decides again.
 */
function useReportScopes(): (Scope & { name: string })[] {
  const me = useMe();
  const schools = useSchools();
  const schoolGroups = useSchoolGroups();
  const held = me.roles.filter((grant) => reportRoles.has(grant.role));
  const found = new Map<string, Scope & { name: string }>();
  const add = (scope: Scope & { name: string }) => found.set(`${scope.type}:${scope.id}`, scope);
  const schoolName = (id: string) => schools.data?.items.find((s) => s.id === id)?.name ?? 'School';
  if (held.some((grant) => grant.scope.type === 'organisation')) {
    add({ type: 'organisation', id: me.organisation.id, name: me.organisation.name });
    for (const group of schoolGroups.data?.items ?? [])
      add({ type: 'school_group', id: group.id, name: group.name });
    for (const school of schools.data?.items ?? [])
      add({ type: 'school', id: school.id, name: school.name });
  } else {
    for (const grant of held) {
      add(grant.scope);
      if (grant.scope.type === 'school_group') {
        const group = schoolGroups.data?.items.find((g) => g.id === grant.scope.id);
        for (const id of group?.schoolIds ?? []) add({ type: 'school', id, name: schoolName(id) });
      }
    }
  }
  return [...found.values()];
}

/** Reports: saved runs of the Access Audit Report, and running a new one. */
export function AccessAuditRunsPage() {
  const pages = useCursorPages('runs');
  const runs = useQuery({
    queryKey: ['access-audit-runs', pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<AccessAuditRun>>(
        '/reports/access-audit',
        { cursor: pages.cursor, limit: 25 },
        signal,
      ),
  });
  return (
    <>
      <PageHeader
        title="Access Audit Report"
        description="Who can see what: every person with their roles, user groups, linked student groups and the number of children they can reach (never a child’s name), with anything that needs a second look flagged. Each run is saved exactly as it was taken."
      />
      <RunReport />
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Saved runs</h2>
        <QueryState query={runs} loading="Loading saved runs…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No runs saved yet. Run the report above to save the first.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Taken</th>
                      <th scope="col">Scope</th>
                      <th scope="col">As of</th>
                      <th scope="col">People</th>
                      <th scope="col">Flags raised</th>
                      <th scope="col">Run by</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((run) => (
                      <tr key={run.id}>
                        <td>
                          <Link to={`/reports/access-audit/${run.id}`}>
                            {formatDateTime(run.createdAt)}
                          </Link>
                        </td>
                        <td>
                          {scopeKind(run.scope.type)}: {run.scope.name}
                        </td>
                        <td>{asOfWords(run)}</td>
                        <td>{run.rowCount.toLocaleString('en-GB')}</td>
                        <td>{flaggedTotal(run.flagCounts).toLocaleString('en-GB')}</td>
                        <td>{run.createdBy.name}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryState>
        <Pager pages={pages} nextCursor={runs.data?.nextCursor} label="Pages of saved runs" />
      </section>
    </>
  );
}

function RunReport() {
  const scopes = useReportScopes();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [scopeKey, setScopeKey] = useState('');
  const [day, setDay] = useState('');
  const chosen = scopes.find((s) => `${s.type}:${s.id}` === scopeKey) ?? scopes[0];
  const run = useMutation({
    mutationFn: () => {
      const asOf = asOfQuery(day);
      // Today's end has not come yet: the report is taken as of now.
      const past = asOf && asOf < new Date().toISOString() ? asOf : undefined;
      return api.post<AccessAuditRun>('/reports/access-audit', {
        ...(chosen ? { scope: { type: chosen.type, id: chosen.id } } : {}),
        ...(past ? { asOf: past } : {}),
      });
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ['access-audit-runs'] });
      navigate(`/reports/access-audit/${saved.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    run.mutate();
  };
  return (
    <section className="panel" aria-labelledby="run-title">
      <h2 id="run-title">Run the report</h2>
      <form onSubmit={submit} className="filters">
        <SelectField
          label="Scope"
          value={chosen ? `${chosen.type}:${chosen.id}` : ''}
          onChange={(e) => setScopeKey(e.target.value)}
        >
          {scopes.map((scope) => (
            <option key={`${scope.type}:${scope.id}`} value={`${scope.type}:${scope.id}`}>
              {scopeKind(scope.type)}: {scope.name}
            </option>
          ))}
        </SelectField>
        <AsOfField value={day} onChange={setDay} />
        <Button type="submit" busy={run.isPending}>
          Run report
        </Button>
      </form>
      {run.isPending ? (
        <p className="muted" role="status">
          Taking the report and saving it; a large trust takes up to a minute.
        </p>
      ) : null}
      <ErrorMessage error={run.error} />
    </section>
  );
}

/** One saved run: its facts, downloads and rows. */
export function AccessAuditRunPage() {
  const { id = '' } = useParams();
  const run = useQuery({
    queryKey: ['access-audit-run', id],
    queryFn: ({ signal }) => loadRun(id, signal),
    // A saved run never changes.
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <QueryState query={run} loading="Opening the saved report…">
      {(loaded) => <RunView loaded={loaded} />}
    </QueryState>
  );
}

type SortKey = 'name' | 'reach' | 'blocks' | 'lastSignIn' | 'flags';

const sorters: Record<SortKey, (a: AccessAuditRow, b: AccessAuditRow) => number> = {
  name: (a, b) => a.name.localeCompare(b.name, 'en-GB') || a.userId.localeCompare(b.userId),
  reach: (a, b) => a.reachableStudents - b.reachableStudents,
  blocks: (a, b) => a.blocks - b.blocks,
  lastSignIn: (a, b) => (a.lastSignInAt ?? '').localeCompare(b.lastSignInAt ?? ''),
  flags: (a, b) => a.flags.length - b.flags.length,
};

const PAGE = 200;

function RunView({ loaded }: { loaded: LoadedRun }) {
  const { report, rows, truncated, sha256 } = loaded;
  const [text, setText] = useState('');
  const [role, setRole] = useState<'' | Role>('');
  const [flag, setFlag] = useState<'' | 'any' | 'none' | AccessAuditFlag>('');
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'name',
    descending: false,
  });
  const [shown, setShown] = useState(PAGE);

  const counts = useMemo(() => {
    const found = Object.fromEntries(accessAuditFlags.map((f) => [f, 0])) as FlagCounts;
    for (const row of rows) for (const f of row.flags) found[f] += 1;
    return found;
  }, [rows]);

  const filtered = useMemo(() => {
    const words = text.trim().toLowerCase();
    const matching = rows.filter((row) => {
      if (role && !row.roles.some((r) => r.role === role)) return false;
      if (flag === 'any' && row.flags.length === 0) return false;
      if (flag === 'none' && row.flags.length > 0) return false;
      if (flag && flag !== 'any' && flag !== 'none' && !row.flags.includes(flag)) return false;
      if (!words) return true;
      const haystack = [
        row.name,
        row.email,
        ...row.userGroups.map((g) => g.name),
        ...row.studentGroups.map((g) => g.name),
        ...row.groupAdministration.map((a) => a.userGroup.name),
      ]
        .join(' ')
        .toLowerCase();
      return haystack.includes(words);
    });
    const compare = sorters[sort.key];
    const sorted = [...matching].sort((a, b) => compare(a, b) || sorters.name(a, b));
    return sort.descending ? sorted.reverse() : sorted;
  }, [rows, text, role, flag, sort]);

  const pickFlag = (picked: AccessAuditFlag) => {
    setFlag((current) => (current === picked ? '' : picked));
    setShown(PAGE);
  };
  const sortBy = (key: SortKey) =>
    setSort((current) => ({
      key,
      descending: current.key === key ? !current.descending : key !== 'name',
    }));
  const header = (key: SortKey, label: string) => (
    <th
      scope="col"
      aria-sort={sort.key === key ? (sort.descending ? 'descending' : 'ascending') : 'none'}
    >
      <button type="button" className="sort-button" onClick={() => sortBy(key)}>
        {label}
        <span aria-hidden="true">{sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
      </button>
    </th>
  );
  const flagPicked = flag && flag !== 'any' && flag !== 'none' ? flag : null;

  return (
    <>
      <PageHeader
        title={`Access Audit Report: ${report.scope.name}`}
        description={`${scopeKind(report.scope.type)} of ${report.organisation.name}, as of ${asOfWords(report)}.`}
      >
        <Link to="/reports/access-audit">All saved runs</Link>
      </PageHeader>
      <section className="panel" aria-labelledby="facts-title">
        <h2 id="facts-title" className="visually-hidden">
          About this run
        </h2>
        <dl className="facts">
          <dt>Scope</dt>
          <dd>
            {scopeKind(report.scope.type)}: {report.scope.name}
          </dd>
          <dt>As of</dt>
          <dd>{asOfWords(report)}</dd>
          <dt>Taken</dt>
          <dd>{formatDateTime(report.createdAt)}</dd>
          <dt>Run by</dt>
          <dd>
            {report.createdBy.name} ({report.createdBy.email})
          </dd>
          <dt>People</dt>
          <dd>
            {truncated
              ? `More than ${rows.length.toLocaleString('en-GB')}: the first ${rows.length.toLocaleString('en-GB')} are shown here; the downloads hold everyone`
              : rows.length.toLocaleString('en-GB')}
          </dd>
          <dt>SHA-256</dt>
          <dd className="report-sha">
            <code id="report-sha">{sha256 ?? 'not given'}</code>{' '}
            {sha256 ? <CopyButton value={sha256} label="Copy the SHA-256" /> : null}
            <p className="hint">
              Of the saved JSON: a copy whose SHA-256 is this one is exactly this run.
            </p>
          </dd>
        </dl>
        <p className="downloads">
          {truncated ? null : (
            <a className="button secondary" href={downloadUrl(report.id, 'pdf')} download>
              Download printable PDF
            </a>
          )}
          <a className="button secondary" href={downloadUrl(report.id, 'csv')} download>
            Download CSV
          </a>
          <a className="button secondary" href={downloadUrl(report.id, 'json')} download>
            Download JSON (the saved record)
          </a>
        </p>
        {truncated ? (
          <p className="hint">
            A run this large is not made into a PDF: print a school’s report, or open the CSV.
          </p>
        ) : null}
      </section>

      <section aria-labelledby="flags-title">
        <h2 id="flags-title">Flags</h2>
        <p className="muted">Choose a flag to see what it means and who it concerns.</p>
        <ul className="flag-summary">
          {accessAuditFlags.map((f) => (
            <li key={f}>
              <button
                type="button"
                className={`flag-chip${counts[f] > 0 ? ' flag-raised' : ''}`}
                aria-pressed={flag === f}
                onClick={() => pickFlag(f)}
              >
                {flagWords[f].label}: {counts[f].toLocaleString('en-GB')}
              </button>
            </li>
          ))}
        </ul>
        {flagPicked ? (
          <div className="notice notice-info flag-meaning" role="status">
            <p>
              <strong>{flagWords[flagPicked].label}.</strong> {flagWords[flagPicked].meaning}
            </p>
            <button type="button" className="link-button" onClick={() => setFlag('')}>
              Show everyone
            </button>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="people-title">
        <h2 id="people-title">People</h2>
        <div className="filters">
          <InputField
            label="Search"
            hint="Name, email or group"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setShown(PAGE);
            }}
          />
          <SelectField
            label="Role"
            value={role}
            onChange={(e) => {
              setRole(e.target.value as '' | Role);
              setShown(PAGE);
            }}
          >
            <option value="">Any role</option>
            {(['owner', 'dsl', 'deputy_dsl', 'admin', 'viewer'] as const).map((r) => (
              <option key={r} value={r}>
                {roleLabels[r]}
              </option>
            ))}
          </SelectField>
          <SelectField
            label="Flag"
            value={flag}
            onChange={(e) => {
              setFlag(e.target.value as typeof flag);
              setShown(PAGE);
            }}
          >
            <option value="">Anyone</option>
            <option value="any">Any flag</option>
            <option value="none">No flags</option>
            {accessAuditFlags.map((f) => (
              <option key={f} value={f}>
                {flagWords[f].label}
              </option>
            ))}
          </SelectField>
        </div>
        <p className="result-count" role="status">
          {plural(filtered.length, 'person', 'people')} shown
        </p>
        {filtered.length === 0 ? (
          <Empty>Nobody matches.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="audit-table">
              <thead>
                <tr>
                  {header('name', 'Person')}
                  <th scope="col">Roles</th>
                  <th scope="col">User groups</th>
                  <th scope="col">Student groups</th>
                  {header('reach', 'Children reachable')}
                  <th scope="col">Clearances</th>
                  <th scope="col">Group administration</th>
                  {header('blocks', 'Blocks')}
                  <th scope="col">Two-factor</th>
                  {header('lastSignIn', 'Last sign-in')}
                  {header('flags', 'Flags')}
                </tr>
              </thead>
              <tbody>
                {filtered.slice(0, shown).map((row) => (
                  <PersonRow key={row.userId} row={row} onFlag={pickFlag} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {filtered.length > shown ? (
          <div className="pager">
            <Button className="secondary" onClick={() => setShown((n) => n + PAGE)}>
              Show more
            </Button>
            <span className="muted">
              {shown.toLocaleString('en-GB')} of {filtered.length.toLocaleString('en-GB')}
            </span>
          </div>
        ) : null}
      </section>
    </>
  );
}

function List({ items }: { items: string[] }) {
  if (items.length === 0) return <span className="muted">None</span>;
  return (
    <ul className="cell-list">
      {items.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the same words may appear twice
        <li key={i}>{item}</li>
      ))}
    </ul>
  );
}

function PersonRow({
  row,
  onFlag,
}: {
  row: AccessAuditRow;
  onFlag: (flag: AccessAuditFlag) => void;
}) {
  return (
    <tr>
      <th scope="row">
        <Link to={`/admin/users/${row.userId}`}>{row.name}</Link>
        <div className="muted">{row.email}</div>
        {row.status === 'active' ? null : <span className="tag">{row.status}</span>}
      </th>
      <td>
        <List
          items={row.roles.map(
            (r) =>
              `${roleLabels[r.role]} at ${r.scope.name} (${r.via ? `via ${r.via.name}` : 'direct'}${r.reason ? `; ${r.reason}` : ''})`,
          )}
        />
      </td>
      <td>
        <List items={row.userGroups.map((g) => g.name)} />
      </td>
      <td>
        <List
          items={row.studentGroups.map(
            (g) =>
              `${g.name}${g.via.length > 0 ? ` via ${g.via.map((v) => v.name).join(', ')}` : ''}`,
          )}
        />
      </td>
      <td>
        {row.reachableStudents.toLocaleString('en-GB')}
        {row.directStudentLinks > 0 ? (
          <div className="muted">{row.directStudentLinks} linked one by one</div>
        ) : null}
      </td>
      <td>
        <List
          items={row.clearances.map(
            (c) =>
              `${c.clearance === 'child_protection' ? 'Child protection' : 'Allegations'} via ${c.via.name}`,
          )}
        />
      </td>
      <td>
        <List
          items={row.groupAdministration.map(
            (a) =>
              `${a.userGroup.name}: ${a.set.name} (${permissionsInWords(a.permissions)}; ${assignmentInWords(a.via.type, a.via.type === 'user_group' ? a.via.userGroup.name : undefined)})`,
          )}
        />
      </td>
      <td>{row.blocks}</td>
      <td>{row.twoFactor ? 'Yes' : 'No'}</td>
      <td>{row.lastSignInAt ? formatDateTime(row.lastSignInAt) : 'Never'}</td>
      <td>
        {row.flags.length === 0 ? (
          <span className="muted">None</span>
        ) : (
          <ul className="cell-list">
            {row.flags.map((f) => (
              <li key={f}>
                <button
                  type="button"
                  className="flag-chip flag-raised"
                  title={flagWords[f].meaning}
                  onClick={() => onFlag(f)}
                >
                  {flagWords[f].label}
                </button>
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}
