import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { Answer } from '../api/answers.ts';
import { api } from '../api/client.ts';
import type { Action, Alert } from '../api/types.ts';
import { StepUpBanner } from '../components/StepUp.tsx';
import { Button, Empty, ErrorMessage, PageHeader, QueryState } from '../components/ui.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { useCan, useMe } from '../session.tsx';

/** Alerts that carry their own text, and the page each leads to. */
const messageAlerts = {
  security: { fallback: 'A change to who can see records', to: null },
  access_review: { fallback: 'An access review awaits you', to: '/access-reviews' },
  transfer_overdue: { fallback: 'A transfer has no receipt yet', to: '/transfers' },
} as const satisfies Partial<Record<Alert['kind'], { fallback: string; to: string | null }>>;

type MessageAlert = keyof typeof messageAlerts;

function carriesMessage(kind: Alert['kind']): kind is MessageAlert {
  return kind in messageAlerts;
}

const alertText: Record<Exclude<Alert['kind'], MessageAlert>, string> = {
  incident_assigned: 'A concern was assigned to you',
  action_assigned: 'An action was assigned to you',
  action_due: 'An action is due',
  incident_logged: 'A concern was logged',
};

/** What an alert says: some carry their own text; the others say what happened. */
function alertWords(alert: Alert): string {
  if (carriesMessage(alert.kind)) return alert.message ?? messageAlerts[alert.kind].fallback;
  return `${alertText[alert.kind]}${alert.title ? `: ${alert.title}` : ''}`;
}

/** Where an alert leads: its record, or the page a review or transfer alert is about. */
function alertLink(alert: Alert): string | null {
  if (alert.incidentId) return `/incidents/${alert.incidentId}`;
  return carriesMessage(alert.kind) ? messageAlerts[alert.kind].to : null;
}

export function HomePage() {
  const me = useMe();
  const can = useCan();
  return (
    <>
      <PageHeader title={`Hello, ${me.name.split(' ')[0]}`} description={me.organisation.name}>
        {can('incidents.create') ? (
          <Link className="button" to="/concerns/new">
            Log a concern
          </Link>
        ) : null}
      </PageHeader>
      {can('incidents.view') ? <HeldBack /> : null}
      <div className="columns">
        {can('actions.complete') ? <MyActions /> : null}
        {can('alerts.manage') ? <MyAlerts /> : null}
      </div>
    </>
  );
}

/** Records left out of the caller's lists until they pass a two-factor check, if any. */
function HeldBack() {
  const count = useQuery({
    queryKey: ['incidents', 'count', {}],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/incidents/count', 'get'>>('/incidents/count', undefined, signal),
  });
  return <StepUpBanner count={count.data?.stepUpNeeded ?? 0} />;
}

function MyActions() {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['me', 'actions'],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/me/actions', 'get'>>('/me/actions', undefined, signal),
  });
  const complete = useMutation({
    mutationFn: (id: string) => api.post<Action>(`/actions/${id}/complete`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['me'] }),
  });
  return (
    <section className="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">My actions</h2>
      <ErrorMessage error={complete.error} />
      <QueryState query={query}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No open actions. Actions assigned to you or your groups appear here.</Empty>
          ) : (
            <ul className="list">
              {items.map((action) => (
                <li key={action.id} className={action.overdue ? 'overdue' : undefined}>
                  <div>
                    <Link to={`/incidents/${action.incidentId}`}>{action.title}</Link>
                    <p className="muted">
                      {action.dueAt ? (
                        <>
                          {action.overdue ? (
                            <strong className="tag tag-danger">Overdue</strong>
                          ) : null}{' '}
                          Due {formatDate(action.dueAt)}
                        </>
                      ) : (
                        'No due date'
                      )}
                    </p>
                  </div>
                  <Button
                    className="secondary"
                    busy={complete.isPending && complete.variables === action.id}
                    onClick={() => complete.mutate(action.id)}
                    aria-label={`Mark "${action.title}" done`}
                  >
                    Mark done
                  </Button>
                </li>
              ))}
            </ul>
          )
        }
      </QueryState>
    </section>
  );
}

function MyAlerts() {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['me', 'alerts'],
    queryFn: ({ signal }) => api.get<Answer<'/api/v1/alerts', 'get'>>('/alerts', undefined, signal),
  });
  const mark = useMutation({
    mutationFn: ({ id, to }: { id: string; to: 'read' | 'dismiss' }) =>
      api.post(`/alerts/${id}/${to}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['me', 'alerts'] }),
  });
  return (
    <section className="panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">My alerts</h2>
      <ErrorMessage error={mark.error} />
      <QueryState query={query}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No alerts.</Empty>
          ) : (
            <ul className="list">
              {items.map((alert) => {
                const link = alertLink(alert);
                return (
                  <li key={alert.id} className={alert.read ? 'read' : 'unread'}>
                    <div>
                      {link ? (
                        <Link
                          to={link}
                          onClick={() => !alert.read && mark.mutate({ id: alert.id, to: 'read' })}
                        >
                          {alertWords(alert)}
                        </Link>
                      ) : (
                        <p>{alertWords(alert)}</p>
                      )}
                      <p className="muted">
                        {alert.read ? '' : <strong className="tag">New</strong>}{' '}
                        {alert.stepUpNeeded ? (
                          <span className="tag tag-warning">Needs a two-factor check</span>
                        ) : null}{' '}
                        {formatDateTime(alert.createdAt)}
                      </p>
                    </div>
                    <div className="alert-actions">
                      {/* An alert about no record (a security alert) is read where it stands. */}
                      {!alert.incidentId && !alert.read ? (
                        <button
                          type="button"
                          className="link-button"
                          onClick={() => mark.mutate({ id: alert.id, to: 'read' })}
                          aria-label={`Mark read: ${alertWords(alert)}`}
                        >
                          Mark read
                        </button>
                      ) : null}
                      <button
                        type="button"
                        className="link-button"
                        onClick={() => mark.mutate({ id: alert.id, to: 'dismiss' })}
                        aria-label={`Dismiss alert: ${alertWords(alert)}`}
                      >
                        Dismiss
                      </button>
                    </div>
                  </li>
                );
              })}
            </ul>
          )
        }
      </QueryState>
    </section>
  );
}
