import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Pager, useCursorPages } from '../admin/common.tsx';
import { clearanceLabels } from '../admin/types.ts';
import type { Answer } from '../api/answers.ts';
import { api, type Page } from '../api/client.ts';
import { roleLabels, type ScopeType } from '../api/types.ts';
import {
  Button,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  Progress,
  QueryState,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { endOfDayIso, formatDate, formatDateTime, plural } from '../format.ts';
import type {
  AccessReview,
  AccessReviewItem,
  AccessReviewSummary,
  ItemStatus,
  NamedScope,
  ReviewChange,
  ReviewOutcome,
} from './types.ts';
import './reviews.css';

const scopeKinds: Record<ScopeType, string> = {
  organisation: 'Organisation',
  school_group: 'School group',
  school: 'School',
};

const statusWords: Record<ItemStatus, string> = {
  undecided: 'To review',
  confirmed: 'Confirmed',
  changed: 'Changed',
  not_decided: 'Not decided',
};

function scopeWords(scope: NamedScope): string {
  return `${scopeKinds[scope.type]}: ${scope.name}`;
}

function StatusTag({ status }: { status: ItemStatus }) {
  const tone =
    status === 'undecided' ? ' tag-warning' : status === 'not_decided' ? ' tag-danger' : '';
  return <span className={`tag${tone}`}>{statusWords[status]}</span>;
}

const reviewKeys = {
  all: ['access-reviews'] as const,
  list: (status: string, cursor: string | undefined) =>
    ['access-reviews', 'list', status, cursor] as const,
  one: (id: string) => ['access-reviews', id] as const,
  item: (id: string, itemId: string) => ['access-reviews', id, 'items', itemId] as const,
};

/** Access reviews: those the caller runs or reviews a group in, and starting one. */
export function AccessReviewsPage() {
  const [status, setStatus] = useState<'open' | 'closed' | ''>('open');
  const pages = useCursorPages(`reviews-${status}`);
  const reviews = useQuery({
    queryKey: reviewKeys.list(status, pages.cursor),
    queryFn: ({ signal }) =>
      api.get<Page<AccessReviewSummary>>(
        '/access-reviews',
        { status: status || undefined, cursor: pages.cursor, limit: 25 },
        signal,
      ),
  });
  return (
    <>
      <PageHeader
        title="Access reviews"
        description="Each term, every user group is checked by its owners (or an Admin): who is in it, which children it reaches, its roles and clearances, and what changed since it was last reviewed. Each decision is recorded with a note."
      />
      <StartReview />
      <section aria-labelledby="reviews-title">
        <h2 id="reviews-title">Reviews</h2>
        <div className="filters">
          <SelectField
            label="Show"
            value={status}
            onChange={(e) => setStatus(e.target.value as typeof status)}
          >
            <option value="open">Open reviews</option>
            <option value="closed">Closed reviews</option>
            <option value="">All reviews</option>
          </SelectField>
        </div>
        <QueryState query={reviews} loading="Loading reviews…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No reviews here.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Review</th>
                      <th scope="col">Scope</th>
                      <th scope="col">Due</th>
                      <th scope="col">Progress</th>
                      <th scope="col">For you</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((review) => (
                      <tr key={review.id}>
                        <td>
                          <Link to={`/access-reviews/${review.id}`}>{review.title}</Link>
                          {review.status === 'closed' ? (
                            <span className="tag"> Closed {formatDate(review.closedAt)}</span>
                          ) : null}
                        </td>
                        <td>{scopeWords(review.scope)}</td>
                        <td>{formatDate(review.dueAt)}</td>
                        <td>
                          {review.progress.decided} of {review.progress.total} decided
                        </td>
                        <td>
                          {review.toDecide > 0
                            ? `${plural(review.toDecide, 'group')} to review`
                            : '—'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryState>
        <Pager pages={pages} nextCursor={reviews.data?.nextCursor} label="Pages of reviews" />
      </section>
    </>
  );
}

/** Starting a review: a scope where the caller is Admin (the server decides again) and a due date. */
function StartReview() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const homes = useQuery({
    queryKey: ['user-group-homes'],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/user-groups/homes', 'get'>>('/user-groups/homes', undefined, signal),
  });
  const [open, setOpen] = useState(false);
  const [scopeKey, setScopeKey] = useState('');
  const [dueDate, setDueDate] = useState('');
  const [title, setTitle] = useState('');
  const scopes = homes.data?.items ?? [];
  const chosen = scopes.find((s) => `${s.type}:${s.id}` === scopeKey) ?? scopes[0];
  const start = useMutation({
    mutationFn: () =>
      api.post<Answer<'/api/v1/access-reviews', 'post'>>('/access-reviews', {
        scope: { type: chosen!.type, id: chosen!.id },
        dueAt: endOfDayIso(dueDate),
        ...(title.trim() ? { title: title.trim() } : {}),
      }),
    onSuccess: (review) => {
      void queryClient.invalidateQueries({ queryKey: reviewKeys.all });
      navigate(`/access-reviews/${review.id}`);
    },
  });
  // Only Admins somewhere may start one: the homes list is refused to everyone else.
  if (homes.isError || (homes.isSuccess && scopes.length === 0)) return null;
  if (!open)
    return (
      <p>
        <Button onClick={() => setOpen(true)} disabled={!homes.isSuccess}>
          Start a review
        </Button>
      </p>
    );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate();
  };
  return (
    <section className="panel" aria-labelledby="start-review-title">
      <h2 id="start-review-title">Start a review</h2>
      <form onSubmit={submit}>
        <SelectField
          label="Scope"
          hint="Every user group homed there (and at its schools) becomes an item, reviewed by its owners or an Admin."
          value={chosen ? `${chosen.type}:${chosen.id}` : ''}
          onChange={(e) => setScopeKey(e.target.value)}
        >
          {scopes.map((s) => (
            <option key={`${s.type}:${s.id}`} value={`${s.type}:${s.id}`}>
              {scopeWords(s)}
            </option>
          ))}
        </SelectField>
        <InputField
          label="Due date"
          type="date"
          value={dueDate}
          onChange={(e) => setDueDate(e.target.value)}
          required
        />
        <InputField
          label="Title (optional)"
          hint="For example: Autumn term 2026"
          value={title}
          maxLength={200}
          onChange={(e) => setTitle(e.target.value)}
        />
        <ErrorMessage error={start.error} />
        <div className="pending-actions">
          <Button type="submit" busy={start.isPending} disabled={!chosen || !dueDate}>
            Start the review
          </Button>
          <button type="button" className="secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

/** One review: progress, its items with their reviewers and status, and closing it. */
export function AccessReviewPage() {
  const { id = '' } = useParams();
  const review = useQuery({
    queryKey: reviewKeys.one(id),
    queryFn: ({ signal }) => api.get<AccessReview>(`/access-reviews/${id}`, undefined, signal),
  });
  return (
    <QueryState query={review} loading="Loading the review…">
      {(r) => (
        <>
          <PageHeader
            title={r.title}
            description={`${scopeWords(r.scope)}. Started ${formatDate(r.createdAt)}${r.createdBy ? ` by ${r.createdBy.name}` : ''}; due ${formatDate(r.dueAt)}.`}
          >
            <Link to="/access-reviews">All reviews</Link>
          </PageHeader>
          {r.status === 'closed' ? (
            <section className="panel" aria-labelledby="summary-title">
              <h2 id="summary-title">Closed</h2>
              <p>
                Closed {formatDateTime(r.closedAt)}
                {r.closedBy ? ` by ${r.closedBy.name}` : ''}.
              </p>
              {/* Withheld (null) from someone who sees only their groups' items. */}
              {r.summary ? <p className="review-summary">{r.summary}</p> : null}
            </section>
          ) : null}
          <Progress value={r.progress.decided} max={r.progress.total} label="Groups decided" />
          <AuditRuns runs={r.auditRuns} />
          <section aria-labelledby="items-title">
            <h2 id="items-title">User groups</h2>
            {r.items.length === 0 ? (
              <Empty>No user groups to review here.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">User group</th>
                      <th scope="col">Reviewers</th>
                      <th scope="col">Status</th>
                      <th scope="col">Decision</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.items.map((item) => (
                      <tr key={item.id}>
                        <td>
                          <Link to={`/access-reviews/${r.id}/items/${item.id}`}>
                            {item.userGroup.name}
                          </Link>
                          {item.userGroup.deleted ? <span className="tag"> Deleted</span> : null}
                          <div className="muted">{scopeWords(item.userGroup.homeScope)}</div>
                        </td>
                        <td>
                          {item.reviewers.length > 0
                            ? item.reviewers.map((p) => p.name).join(', ')
                            : `Admins of ${item.userGroup.homeScope.name}`}
                        </td>
                        <td>
                          <StatusTag status={item.status} />
                        </td>
                        <td>
                          {item.decision ? (
                            <>
                              {item.decision.note}
                              <div className="muted">
                                {item.decision.decidedBy.name},{' '}
                                {formatDateTime(item.decision.decidedAt)}
                              </div>
                            </>
                          ) : item.abilities.decide ? (
                            <Link to={`/access-reviews/${r.id}/items/${item.id}`}>Review it</Link>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          {r.abilities.close ? <CloseReview review={r} /> : null}
        </>
      )}
    </QueryState>
  );
}

function AuditRuns({ runs }: { runs: AccessReview['auditRuns'] }) {
  if (!runs.start && !runs.close) return null;
  return (
    <p>
      Access Audit Report:{' '}
      {runs.start ? <Link to={`/reports/access-audit/${runs.start}`}>at the start</Link> : null}
      {runs.start && runs.close ? ' · ' : null}
      {runs.close ? <Link to={`/reports/access-audit/${runs.close}`}>at the close</Link> : null}
    </p>
  );
}

function CloseReview({ review }: { review: AccessReview }) {
  const queryClient = useQueryClient();
  const [summary, setSummary] = useState('');
  const undecided = review.progress.total - review.progress.decided;
  const [force, setForce] = useState(false);
  const close = useMutation({
    mutationFn: () =>
      api.post<Answer<'/api/v1/access-reviews/{id}/close', 'post'>>(
        `/access-reviews/${review.id}/close`,
        {
          summary,
          ...(force ? { force: true } : {}),
        },
      ),
    onSuccess: (closed) => {
      queryClient.setQueryData(reviewKeys.one(review.id), closed);
      void queryClient.invalidateQueries({ queryKey: reviewKeys.all });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    close.mutate();
  };
  return (
    <section className="panel" aria-labelledby="close-title">
      <h2 id="close-title">Close the review</h2>
      <form onSubmit={submit}>
        <TextAreaField
          label="Summary"
          hint="What the review found and what was changed, for the inspector."
          value={summary}
          onChange={(e) => setSummary(e.target.value)}
          maxLength={4000}
          required
        />
        {undecided > 0 ? (
          <div className="checks">
            <label>
              <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
              Close with {plural(undecided, 'group')} not decided
            </label>
          </div>
        ) : null}
        <ErrorMessage error={close.error} />
        <Button
          type="submit"
          busy={close.isPending}
          disabled={!summary.trim() || (undecided > 0 && !force)}
        >
          Close the review
        </Button>
      </form>
    </section>
  );
}

const changeWords: Record<ReviewChange['kind'], string> = {
  member: 'Member',
  owner: 'Owner',
  link: 'Link',
  grant: 'Role',
  clearance: 'Clearance',
};

function linkWords(link: {
  studentGroup: { name: string } | null;
  student: { name: string } | null;
  redacted: boolean;
}): string {
  if (link.studentGroup) return link.studentGroup.name;
  if (link.student) return link.student.name;
  return 'A child you cannot see';
}

function changeSubject(change: ReviewChange): string {
  if (change.user) return change.user.name;
  if (change.link) return linkWords(change.link);
  if (change.grant)
    return `${roleLabels[change.grant.role as 'admin'] ?? change.grant.role} at ${change.grant.scope.name}`;
  if (change.clearance)
    return clearanceLabels[change.clearance as 'child_protection'] ?? change.clearance;
  return '';
}

function NewTag({ isNew }: { isNew: boolean }) {
  return isNew ? <span className="tag tag-warning">New since last review</span> : null;
}

/** One group under review: what it holds, what changed, changes made here, and the decision. */
export function AccessReviewItemPage() {
  const { id = '', itemId = '' } = useParams();
  const item = useQuery({
    queryKey: reviewKeys.item(id, itemId),
    queryFn: ({ signal }) =>
      api.get<AccessReviewItem>(`/access-reviews/${id}/items/${itemId}`, undefined, signal),
  });
  return (
    <QueryState query={item} loading="Loading the group…">
      {(it) => <ItemView item={it} />}
    </QueryState>
  );
}

function ItemView({ item }: { item: AccessReviewItem }) {
  const queryClient = useQueryClient();
  const group = item.userGroup;
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: reviewKeys.all });
  // Changes made here go through the group's batch with the review's item: audited with it.
  const change = useMutation({
    mutationFn: async (input: { operations: object[]; words: string }) => {
      await api.post(`/user-groups/${group.id}/batch`, {
        operations: input.operations,
        accessReviewId: item.reviewId,
        accessReviewItemId: item.id,
      });
      return input.words;
    },
    onSuccess: async (words) => {
      setDone(words);
      await refresh();
    },
  });
  const since = formatDate(item.since);
  return (
    <>
      <PageHeader
        title={group.name}
        description={`${scopeWords(group.homeScope)}. In the review "${item.reviewTitle}". Changes are shown since ${since} (the group's last review, or its creation).`}
      >
        <Link to={`/access-reviews/${item.reviewId}`}>Back to the review</Link>
        {!group.deleted ? (
          <Link to={`/admin/user-groups/${group.id}`}>Open the group's page</Link>
        ) : null}
      </PageHeader>
      {group.rationale ? (
        <p>
          <strong>Why it has this access:</strong> {group.rationale}
        </p>
      ) : null}
      {done ? <Notice tone="success">{done}</Notice> : null}
      <ErrorMessage error={change.error} />
      <Decide item={item} />

      <section className="panel" aria-labelledby="changes-title">
        <h2 id="changes-title">Changed since {since}</h2>
        {item.changes.length === 0 ? (
          <Empty>Nothing changed since then.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">What</th>
                  <th scope="col">By</th>
                </tr>
              </thead>
              <tbody>
                {item.changes.map((c) => (
                  <tr
                    key={`${c.kind}-${c.change}-${c.at}-${c.user?.id ?? c.link?.id ?? c.grant?.id ?? c.clearance}`}
                  >
                    <td>{formatDateTime(c.at)}</td>
                    <td>
                      {changeWords[c.kind]} {c.change}: {changeSubject(c)}
                      {c.accessReviewId === item.reviewId ? (
                        <span className="tag"> In this review</span>
                      ) : null}
                    </td>
                    <td>{c.by?.name ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="panel" aria-labelledby="members-title">
        <h2 id="members-title">Members ({group.memberCount.toLocaleString('en-GB')})</h2>
        {item.members.length === 0 ? (
          <Empty>No members.</Empty>
        ) : (
          <ul className="list compact">
            {item.members.map((m) => (
              <li key={m.id} className={m.new ? 'review-new' : undefined}>
                {m.name} <span className="muted">{m.email}</span> <NewTag isNew={m.new} />{' '}
                {item.abilities.manageMembers ? (
                  <button
                    type="button"
                    className="link-button"
                    disabled={change.isPending}
                    onClick={() =>
                      change.mutate({
                        operations: [{ op: 'removeMembers', userIds: [m.id] }],
                        words: `Removed ${m.name} from ${group.name}.`,
                      })
                    }
                  >
                    Remove {m.name}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
        {group.memberCount > item.members.length ? (
          <p className="muted">
            The first {item.members.length} by name;{' '}
            <Link to={`/admin/user-groups/${group.id}`}>the group's page</Link> lists them all.
          </p>
        ) : null}
      </section>

      <section className="panel" aria-labelledby="owners-title">
        <h2 id="owners-title">Owners</h2>
        {item.owners.length === 0 ? (
          <Empty>No owners: Admins of {group.homeScope.name} review it.</Empty>
        ) : (
          <ul className="list compact">
            {item.owners.map((o) => (
              <li key={o.id} className={o.new ? 'review-new' : undefined}>
                {o.name} <NewTag isNew={o.new} />{' '}
                {item.abilities.manageOwners ? (
                  <button
                    type="button"
                    className="link-button"
                    disabled={change.isPending}
                    onClick={() =>
                      change.mutate({
                        operations: [{ op: 'removeOwners', userIds: [o.id] }],
                        words: `${o.name} no longer owns ${group.name}.`,
                      })
                    }
                  >
                    Remove {o.name} as owner
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby="links-title">
        <h2 id="links-title">Children it reaches</h2>
        {item.studentLinks.length === 0 ? (
          <Empty>Not linked to any student group or child.</Empty>
        ) : (
          <ul className="list compact">
            {item.studentLinks.map((l) => (
              <li key={l.id} className={l.new ? 'review-new' : undefined}>
                {linkWords(l)} <NewTag isNew={l.new} />{' '}
                {item.abilities.manageLinks ? (
                  <button
                    type="button"
                    className="link-button"
                    disabled={change.isPending}
                    onClick={() =>
                      change.mutate({
                        operations: [{ op: 'removeStudentLink', linkId: l.id }],
                        words: `Ended the link to ${linkWords(l)}.`,
                      })
                    }
                  >
                    End the link to {linkWords(l)}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby="grants-title">
        <h2 id="grants-title">Roles and clearances it gives its members</h2>
        {item.roleGrants.length === 0 && item.clearances.length === 0 ? (
          <Empty>No role and no clearance.</Empty>
        ) : (
          <ul className="list compact">
            {item.roleGrants.map((g) => (
              <li key={g.id} className={g.new ? 'review-new' : undefined}>
                {roleLabels[g.role]} at {g.scope.name}
                {g.reason ? <span className="muted"> ({g.reason})</span> : null}{' '}
                <NewTag isNew={g.new} />
              </li>
            ))}
            {item.clearances.map((c) => (
              <li key={c.clearance}>
                {clearanceLabels[c.clearance]} clearance{' '}
                {item.abilities.manageClearances ? (
                  <button
                    type="button"
                    className="link-button"
                    disabled={change.isPending}
                    onClick={() =>
                      change.mutate({
                        operations: [
                          {
                            op: 'setClearances',
                            clearances: item.clearances
                              .map((x) => x.clearance)
                              .filter((x) => x !== c.clearance),
                          },
                        ],
                        words: `Removed the ${clearanceLabels[c.clearance]} clearance.`,
                      })
                    }
                  >
                    Remove the {clearanceLabels[c.clearance]} clearance
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
        <p className="muted">
          Roles are granted and revoked on{' '}
          <Link to={`/admin/user-groups/${group.id}`}>the group's page</Link>.
        </p>
      </section>
    </>
  );
}

function Decide({ item }: { item: AccessReviewItem }) {
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<ReviewOutcome>('confirmed');
  const [note, setNote] = useState('');
  const decide = useMutation({
    mutationFn: () =>
      api.post<Answer<'/api/v1/access-reviews/{id}/items/{itemId}/decision', 'post'>>(
        `/access-reviews/${item.reviewId}/items/${item.id}/decision`,
        {
          outcome,
          note,
        },
      ),
    onSuccess: async (review) => {
      queryClient.setQueryData(reviewKeys.one(review.id), review);
      setNote('');
      await queryClient.invalidateQueries({ queryKey: reviewKeys.item(item.reviewId, item.id) });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    decide.mutate();
  };
  return (
    <section className="panel" aria-labelledby="decision-title">
      <h2 id="decision-title">Decision</h2>
      {item.decision ? (
        <p>
          <StatusTag status={item.decision.outcome} /> {item.decision.note}{' '}
          <span className="muted">({formatDateTime(item.decision.decidedAt)})</span>
        </p>
      ) : (
        <p>
          <StatusTag status={item.status} />
        </p>
      )}
      {item.abilities.decide ? (
        <form onSubmit={submit}>
          <fieldset className="checks">
            <legend>This group's access is</legend>
            <label>
              <input
                type="radio"
                name="outcome"
                checked={outcome === 'confirmed'}
                onChange={() => setOutcome('confirmed')}
              />
              Confirmed: right as it is
            </label>
            <label>
              <input
                type="radio"
                name="outcome"
                checked={outcome === 'changed'}
                onChange={() => setOutcome('changed')}
              />
              Changed: I corrected it
            </label>
          </fieldset>
          <TextAreaField
            label="Note"
            hint="Why it is right, or what you changed and why."
            value={note}
            onChange={(e) => setNote(e.target.value)}
            maxLength={4000}
            required
          />
          <ErrorMessage error={decide.error} />
          <Button type="submit" busy={decide.isPending} disabled={!note.trim()}>
            {item.decision ? 'Record a new decision' : 'Record the decision'}
          </Button>
        </form>
      ) : item.reviewStatus === 'open' ? (
        <p className="muted">
          You may see this group but not decide it: its owners or an Admin do (nobody reviews access
          they hold through the group).
        </p>
      ) : null}
    </section>
  );
}
