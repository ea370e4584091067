import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, type Page } from '../api/client.ts';
import type { OutboxEmail, OutboxStatus } from '../api/types.ts';
import {
  Button,
  Empty,
  ErrorMessage,
  Notice,
  PageHeader,
  QueryState,
  SelectField,
} from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { Pager, useCursorPages, useSchoolName } from './common.tsx';

const statusLabels: Record<OutboxStatus, string> = {
  failed: 'Could not be sent',
  pending: 'Waiting to be sent',
  sending: 'Being sent',
  sent: 'Sent',
  withdrawn: 'Withdrawn',
};

/** What each email is, in the school's words (an unknown kind shows as it is). */
const kindLabels: Record<string, string> = {
  incident_logged: 'A concern was logged',
  digest: 'Daily digest',
  action_due: 'An action is due',
  security: 'Security alert',
  access_review: 'Access review reminder',
  invitation: 'Invitation',
  password_reset: 'Password reset',
};

const statuses = Object.keys(statusLabels) as OutboxStatus[];

/**
 * The emails Haven sends for the caller's schools, by status (failed ones first of all): who each
 * was for, how many tries, the last error, and "Send again" for one that could not be sent.
 */
export function EmailsPage() {
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const requested = params.get('status');
  const status: OutboxStatus = statuses.includes(requested as OutboxStatus)
    ? (requested as OutboxStatus)
    : 'failed';
  const pages = useCursorPages(status);
  const schoolName = useSchoolName();
  const [queued, setQueued] = useState<string | null>(null);
  const query = useQuery({
    queryKey: ['outbox', status, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<OutboxEmail>>('/outbox', { status, cursor: pages.cursor, limit: 50 }, signal),
  });
  const retry = useMutation({
    mutationFn: (email: OutboxEmail) => api.post(`/outbox/${email.id}/retry`),
    onSuccess: (_, email) => {
      setQueued(`The email to ${email.to.name ?? email.to.address} will be sent again shortly.`);
      void queryClient.invalidateQueries({ queryKey: ['outbox'] });
    },
  });
  return (
    <>
      <PageHeader
        title="Emails"
        description="The emails Haven sends about your schools: alerts, digests and reminders. None names a child or says what happened."
      />
      {queued ? <Notice tone="success">{queued}</Notice> : null}
      <ErrorMessage error={retry.error} />
      <div className="filters">
        <SelectField
          label="Show"
          value={status}
          onChange={(e) => {
            setQueued(null);
            retry.reset();
            setParams(e.target.value === 'failed' ? {} : { status: e.target.value });
          }}
        >
          {statuses.map((s) => (
            <option key={s} value={s}>
              {statusLabels[s]}
            </option>
          ))}
        </SelectField>
      </div>
      <QueryState query={query} loading="Loading emails…">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>
              {status === 'failed' ? 'Every email has gone out: none failed.' : 'No emails here.'}
            </Empty>
          ) : (
            <ul className="list emails" aria-label={`Emails: ${statusLabels[status]}`}>
              {data.items.map((email) => {
                const what = email.subject ?? kindLabels[email.kind] ?? email.kind;
                const to = email.to.name ?? email.to.address;
                return (
                  <li key={email.id}>
                    <div>
                      <strong>{what}</strong>
                      <p>To {email.to.name ? `${email.to.name} (${email.to.address})` : to}</p>
                      <p className="muted">
                        {email.subject ? `${kindLabels[email.kind] ?? email.kind} · ` : ''}
                        {email.schoolId ? `${schoolName(email.schoolId)} · ` : ''}
                        Queued {formatDateTime(email.createdAt)} ·{' '}
                        {email.attempts === 1 ? '1 try' : `${email.attempts} tries`}
                        {email.sentAt ? ` · Sent ${formatDateTime(email.sentAt)}` : ''}
                        {email.status === 'pending' && email.nextAttemptAt
                          ? ` · Next try ${formatDateTime(email.nextAttemptAt)}`
                          : ''}
                      </p>
                      {email.lastError ? (
                        <p className="email-error">
                          {email.status === 'failed' ? 'Error' : 'Last error'}: {email.lastError}
                        </p>
                      ) : null}
                    </div>
                    {email.status === 'failed' ? (
                      <Button
                        className="secondary"
                        busy={retry.isPending && retry.variables?.id === email.id}
                        onClick={() => {
                          setQueued(null);
                          retry.mutate(email);
                        }}
                      >
                        Send again
                        <span className="visually-hidden">
                          : {what} to {to}
                        </span>
                      </Button>
                    ) : null}
                  </li>
                );
              })}
            </ul>
          )
        }
      </QueryState>
      <Pager pages={pages} nextCursor={query.data?.nextCursor} label="Pages of emails" />
    </>
  );
}
