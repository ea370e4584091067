import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Answer } from '../api/answers.ts';
import { api } from '../api/client.ts';
import type { NotificationChannel, NotificationRule } from '../api/types.ts';
import { Button, Empty, ErrorMessage, Notice, QueryState, SelectField } from '../components/ui.tsx';
import { UserGroupSearch, UserSearch } from './common.tsx';

export const channelLabels: Record<NotificationChannel, string> = {
  alert: 'Alert in Haven',
  immediate_email: 'Email at once',
  digest_email: 'Daily digest email',
};

const channels = Object.keys(channelLabels) as NotificationChannel[];

const recipientKinds = {
  user: 'A member of staff',
  user_group: 'A user group',
} as const;

type RecipientKind = keyof typeof recipientKinds;
type Recipient = NotificationRule['recipient'];

/** One person or group and every way they are told (the server keeps one rule per way). */
interface Told {
  recipient: Recipient;
  channels: NotificationChannel[];
}

const keyOf = (r: { type: string; id: string }) => `${r.type}:${r.id}`;

function byRecipient(rules: NotificationRule[]): Told[] {
  const told = new Map<string, Told>();
  for (const rule of rules) {
    const entry = told.get(keyOf(rule.recipient)) ?? { recipient: rule.recipient, channels: [] };
    if (!entry.channels.includes(rule.channel)) entry.channels.push(rule.channel);
    told.set(keyOf(rule.recipient), entry);
  }
  return [...told.values()];
}

function toRules(
  told: Told[],
): { recipient: { type: RecipientKind; id: string }; channel: NotificationChannel }[] {
  return told.flatMap((t) =>
    channels
      .filter((c) => t.channels.includes(c))
      .map((channel) => ({ recipient: { type: t.recipient.type, id: t.recipient.id }, channel })),
  );
}

/**
 * Who is told of a category's new concerns, and how: each person or user group with the ways they
 * are told (an alert in Haven, an email at once, the school's daily digest). Changes are gathered
 * here and saved together, as the server replaces the whole set; whoever is named is told only of
 * records they may read when the notification is sent.
 */
export function NotificationRules({ categoryId }: { categoryId: string }) {
  const queryClient = useQueryClient();
  const queryKey = ['categories', categoryId, 'notifications'];
  const query = useQuery({
    queryKey,
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/categories/{id}/notifications', 'get'>>(
        `/categories/${categoryId}/notifications`,
        undefined,
        signal,
      ),
  });
  // Null until the first change: the saved rules are shown as they are.
  const [edited, setEdited] = useState<Told[] | null>(null);
  const [saved, setSaved] = useState(false);
  const [kind, setKind] = useState<RecipientKind>('user_group');
  const [channel, setChannel] = useState<NotificationChannel>('alert');
  const save = useMutation({
    mutationFn: (told: Told[]) =>
      api.put<Answer<'/api/v1/categories/{id}/notifications', 'put'>>(
        `/categories/${categoryId}/notifications`,
        {
          rules: toRules(told),
        },
      ),
    onSuccess: (answer) => {
      queryClient.setQueryData(queryKey, answer);
      setEdited(null);
      setSaved(true);
    },
  });

  const told = edited ?? byRecipient(query.data?.rules ?? []);
  const change = (next: Told[]) => {
    setEdited(next);
    setSaved(false);
    save.reset();
  };
  const toggle = (entry: Told, c: NotificationChannel, on: boolean) =>
    change(
      told.map((t) =>
        t === entry
          ? { ...t, channels: on ? [...t.channels, c] : t.channels.filter((x) => x !== c) }
          : t,
      ),
    );
  const add = (recipient: Recipient) => {
    const existing = told.find((t) => keyOf(t.recipient) === keyOf(recipient));
    if (!existing) change([...told, { recipient, channels: [channel] }]);
    else if (!existing.channels.includes(channel)) toggle(existing, channel, true);
  };
  const has = (type: RecipientKind, id: string) =>
    told.some((t) => keyOf(t.recipient) === keyOf({ type, id }) && t.channels.includes(channel));

  return (
    <section className="panel" aria-labelledby="rules-title">
      <h2 id="rules-title">Who is told</h2>
      <p className="muted">
        When a concern of this category is logged, these people and groups are told. Each hears only
        of concerns they may read, and no email names a child or says what happened.
      </p>
      {saved ? <Notice tone="success">The notification rules are saved.</Notice> : null}
      <QueryState query={query} loading="Loading the rules…">
        {() => (
          <>
            {told.length === 0 ? (
              <Empty>No one is told of new concerns of this category.</Empty>
            ) : (
              <ul className="list rules" aria-label="Notification rules">
                {told.map((entry) => (
                  <li key={keyOf(entry.recipient)}>
                    <fieldset className="checks">
                      <legend>
                        {entry.recipient.name}{' '}
                        <span className="muted">
                          {entry.recipient.type === 'user_group' ? '(group)' : '(person)'}
                        </span>
                      </legend>
                      <div className="rule-channels">
                        {channels.map((c) => (
                          <label key={c}>
                            <input
                              type="checkbox"
                              checked={entry.channels.includes(c)}
                              onChange={(event) => toggle(entry, c, event.target.checked)}
                            />{' '}
                            {channelLabels[c]}
                          </label>
                        ))}
                      </div>
                      {entry.channels.length === 0 ? (
                        <p className="hint">Told of nothing: saving takes them off the list.</p>
                      ) : null}
                    </fieldset>
                    <button
                      type="button"
                      className="link-button"
                      onClick={() => change(told.filter((t) => t !== entry))}
                    >
                      Remove<span className="visually-hidden"> {entry.recipient.name}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <fieldset className="add-rule">
              <legend>Tell someone else</legend>
              <div className="inline-form">
                <SelectField
                  label="Who"
                  value={kind}
                  onChange={(event) => setKind(event.target.value as RecipientKind)}
                >
                  {(Object.keys(recipientKinds) as RecipientKind[]).map((k) => (
                    <option key={k} value={k}>
                      {recipientKinds[k]}
                    </option>
                  ))}
                </SelectField>
                <SelectField
                  label="How"
                  value={channel}
                  onChange={(event) => setChannel(event.target.value as NotificationChannel)}
                >
                  {channels.map((c) => (
                    <option key={c} value={c}>
                      {channelLabels[c]}
                    </option>
                  ))}
                </SelectField>
              </div>
              {kind === 'user' ? (
                <UserSearch
                  label="Find a member of staff"
                  actionLabel="Add"
                  isPicked={(id) => has('user', id)}
                  onPick={(user) => add({ type: 'user', id: user.id, name: user.name })}
                />
              ) : (
                <UserGroupSearch
                  label="Find a user group"
                  actionLabel="Add"
                  isPicked={(id) => has('user_group', id)}
                  onPick={(group) => add({ type: 'user_group', id: group.id, name: group.name })}
                />
              )}
            </fieldset>
            {edited ? (
              <div className="pending">
                <p role="status">Your changes are not saved yet.</p>
                <ErrorMessage error={save.error} />
                <div className="pending-actions">
                  <Button busy={save.isPending} onClick={() => save.mutate(told)}>
                    Save rules
                  </Button>
                  <Button
                    className="secondary"
                    onClick={() => {
                      setEdited(null);
                      save.reset();
                    }}
                  >
                    Undo changes
                  </Button>
                </div>
              </div>
            ) : null}
          </>
        )}
      </QueryState>
    </section>
  );
}
