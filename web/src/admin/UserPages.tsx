import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, type Page } from '../api/client.ts';
import { type HeldGrant, type Role, roleLabels, type Scope } from '../api/types.ts';
import {
  Button,
  Dialog,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  QueryState,
  SelectField,
} from '../components/ui.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { useDebounced } from '../hooks.ts';
import { useCan, useMe } from '../session.tsx';
import { Pager, RoleGrantForm, ScopeOptions, useCursorPages } from './common.tsx';
import {
  type ChangedUser,
  type Invitation,
  type ListedUser,
  type SentInvitation,
  type User,
  type UserDetail,
  type UserTwoFactor,
  userStatusLabels,
} from './types.ts';

export function UsersPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const status = params.get('status') ?? 'all';
  const orphaned = params.get('inGroup') === 'none';
  const role = params.get('role') ?? '';
  /** `type:id` of the scope filter, as the role grant form writes it. */
  const where = params.get('where') ?? '';
  const [scopeType, scopeId] = where ? where.split(':') : [undefined, undefined];
  const [text, setText] = useState(q);
  const search = useDebounced(text.trim());
  useEffect(() => {
    setParams(
      (current) => {
        if ((current.get('q') ?? '') === search) return current;
        const next = new URLSearchParams(current);
        if (search) next.set('q', search);
        else next.delete('q');
        return next;
      },
      { replace: true },
    );
  }, [search, setParams]);
  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const pages = useCursorPages(`${q}|${status}|${orphaned}|${role}|${where}`);
  const query = useQuery({
    queryKey: ['users', 'list', q, status, orphaned, role, where, pages.cursor],
    queryFn: ({ signal }) =>
      api.get<Page<ListedUser>>(
        '/users',
        {
          q,
          status,
          inGroup: orphaned ? 'none' : undefined,
          role: role || undefined,
          scopeType,
          scopeId,
          cursor: pages.cursor,
          limit: 50,
        },
        signal,
      ),
  });
  const resend = useResendInvitation();
  return (
    <>
      <PageHeader title="Users" description="Everyone with an account in your organisation." />
      <AddUser />
      <section aria-labelledby="users-list-title">
        <h2 id="users-list-title">People</h2>
        <ResendOutcome resend={resend} />
        <div className="filters">
          <InputField
            label="Search by name or email"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <SelectField
            label="Status"
            value={status}
            onChange={(e) => setParam('status', e.target.value === 'all' ? null : e.target.value)}
          >
            <option value="all">Any</option>
            <option value="invited">Invited</option>
            <option value="active">Active</option>
            <option value="disabled">Disabled</option>
          </SelectField>
          <SelectField
            label="Role"
            value={role}
            onChange={(e) => setParam('role', e.target.value || null)}
          >
            <option value="">Any role, or none</option>
            {(['owner', 'dsl', 'deputy_dsl', 'admin', 'viewer'] as const).map((r) => (
              <option key={r} value={r}>
                {roleLabels[r]}
              </option>
            ))}
          </SelectField>
          <SelectField
            label="Where"
            hint="Roles held there, or over it (the organisation, its school group)"
            value={where}
            onChange={(e) => setParam('where', e.target.value || null)}
          >
            <option value="">Anywhere</option>
            <ScopeOptions />
          </SelectField>
          <div className="checks">
            <label>
              <input
                type="checkbox"
                checked={orphaned}
                onChange={(e) => setParam('inGroup', e.target.checked ? 'none' : null)}
              />{' '}
              Only people in no user group
            </label>
          </div>
        </div>
        <QueryState query={query} loading="Loading users…">
          {(data) =>
            data.items.length === 0 ? (
              <Empty>No users match.</Empty>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Email</th>
                      <th scope="col">Roles</th>
                      <th scope="col">Status</th>
                      <th scope="col">Added</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.items.map((user) => (
                      <tr key={user.id}>
                        <td>
                          <Link to={`/admin/users/${user.id}`}>{user.name}</Link>
                        </td>
                        <td>{user.email}</td>
                        <td>
                          <RoleList roles={user.roles} />
                        </td>
                        <td>
                          <UserStatusTag user={user} />
                        </td>
                        <td>{formatDate(user.createdAt)}</td>
                        <td>
                          {user.status === 'invited' ? (
                            <Button
                              className="link-button"
                              busy={resend.isPending && resend.variables?.id === user.id}
                              onClick={() => resend.mutate(user)}
                              aria-label={`${user.invitation ? 'Resend' : 'Send'} invitation to ${user.name}`}
                            >
                              {user.invitation ? 'Resend invitation' : 'Send invitation'}
                            </Button>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </QueryState>
        <Pager pages={pages} nextCursor={query.data?.nextCursor} label="Pages of users" />
      </section>
    </>
  );
}

/** Each role a person holds: which, where, and through which group (or directly). */
function RoleList({ roles }: { roles: HeldGrant[] }) {
  if (roles.length === 0) return <span className="muted">No role</span>;
  return (
    <ul className="list compact role-list">
      {roles.map((grant, index) => (
        <li key={`${grant.grantId ?? index}:${grant.source.type}`}>
          <strong>{roleLabels[grant.role]}</strong> at {grant.scope.name || 'a scope'}
          <span className="muted">
            {grant.source.type === 'direct'
              ? ' (directly)'
              : grant.source.userGroupName
                ? ` (via ${grant.source.userGroupName})`
                : ' (via a group you cannot see)'}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Whether an invitation's link has run out (it is then resent, not waited for). */
function invitationExpired(invitation: Invitation): boolean {
  return new Date(invitation.expiresAt).getTime() <= Date.now();
}

function UserStatusTag({ user }: { user: User }) {
  if (user.status === 'active') return userStatusLabels.active;
  return (
    <>
      <span className={`tag${user.status === 'disabled' ? ' tag-danger' : ''}`}>
        {userStatusLabels[user.status]}
      </span>
      {user.status !== 'invited' ? null : user.invitation === null ? (
        <span className="muted"> no invitation sent</span>
      ) : invitationExpired(user.invitation) ? (
        <span className="muted"> invitation expired</span>
      ) : null}
    </>
  );
}

/** `POST /users/:id/invitation`: a new link by email; the one sent before stops working. */
function useResendInvitation() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (user: Pick<User, 'id' | 'name' | 'email'>) =>
      api.post<SentInvitation>(`/users/${user.id}/invitation`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
}

function ResendOutcome({ resend }: { resend: ReturnType<typeof useResendInvitation> }) {
  if (resend.isError) return <ErrorMessage error={resend.error} />;
  if (!resend.isSuccess) return null;
  return (
    <Notice tone="success">
      A new invitation is on its way to {resend.variables.email}. The link sent before no longer
      works.
    </Notice>
  );
}

function AddUser() {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [invite, setInvite] = useState(true);
  const [added, setAdded] = useState<{ user: User; invited: boolean } | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api.post<User>('/users', {
        name,
        email,
        ...(invite ? { invite: true } : password ? { password } : {}),
      }),
    onSuccess: (user) => {
      setAdded({ user, invited: invite });
      setOpen(false);
      setName('');
      setEmail('');
      setPassword('');
      setInvite(true);
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    // Haven sends no email here: nobody was added; offer the password instead.
    onError: (error) => {
      if (error instanceof ApiError && error.code === 'email_off') setInvite(false);
    },
  });
  const emailOff = create.error instanceof ApiError && create.error.code === 'email_off';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const fieldError = (field: string) =>
    create.error instanceof ApiError ? create.error.fieldMessage(field) : undefined;
  return (
    <section className="panel" aria-labelledby="add-user-title">
      <h2 id="add-user-title">Add a user</h2>
      {added ? (
        <Notice tone="success">
          Added <Link to={`/admin/users/${added.user.id}`}>{added.user.name}</Link>
          {added.invited
            ? ` and sent an invitation to ${added.user.email}: its link works for 7 days.`
            : '.'}{' '}
          They hold no role until you grant one.
        </Notice>
      ) : null}
      {open ? (
        <form onSubmit={submit}>
          <InputField
            label="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            error={fieldError('name')}
          />
          <InputField
            label="Email"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
            error={fieldError('email')}
          />
          <div className="checks">
            <label>
              <input
                type="checkbox"
                checked={invite}
                onChange={(e) => setInvite(e.target.checked)}
              />{' '}
              Send an invitation email
            </label>
            <p className="hint">
              They choose their own password from a link that works once, for 7 days. Leave it
              unticked for someone who signs in with Microsoft or Google, or to set a password
              yourself.
            </p>
          </div>
          {invite ? null : (
            <InputField
              label="Password (optional)"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              hint="Give them a long password to start with; they can change it after signing in."
              error={fieldError('password')}
            />
          )}
          {emailOff ? (
            <Notice tone="warning">
              Haven has no email set up, so it cannot send invitations, and nobody was added. Give
              them a password to start with, or leave it blank for someone who signs in with
              Microsoft or Google.
            </Notice>
          ) : (
            <ErrorMessage error={create.error} />
          )}
          <div className="pending-actions">
            <Button type="submit" busy={create.isPending}>
              Add user
            </Button>
            <button type="button" className="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" onClick={() => setOpen(true)}>
          Add a user
        </button>
      )}
    </section>
  );
}

export function UserPage() {
  const { id = '' } = useParams();
  const query = useQuery({
    queryKey: ['users', 'one', id],
    queryFn: ({ signal }) => api.get<UserDetail>(`/users/${id}`, undefined, signal),
  });
  return (
    <QueryState query={query} loading="Loading the user…">
      {(user) => <UserDetails user={user} />}
    </QueryState>
  );
}

function UserDetails({ user }: { user: UserDetail }) {
  const queryClient = useQueryClient();
  const can = useCan();
  const me = useMe();
  const [confirming, setConfirming] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['users'] });
  const setDisabled = useMutation({
    mutationFn: (disabled: boolean) => api.patch<ChangedUser>(`/users/${user.id}`, { disabled }),
    onSuccess: () => {
      setConfirming(false);
      void refresh();
    },
  });
  const grant = useMutation({
    mutationFn: ({ role, scope, reason }: { role: Role; scope: Scope; reason: string }) =>
      api.post('/role-grants', {
        subject: { type: 'user', id: user.id },
        role,
        scope,
        ...(reason ? { reason } : {}),
      }),
    onSuccess: () => void refresh(),
  });
  const revoke = useMutation({
    mutationFn: (grantId: string) => api.delete(`/role-grants/${grantId}`),
    onSuccess: () => void refresh(),
  });
  const resend = useResendInvitation();
  const disabled = user.status === 'disabled';
  const mayRevoke = (held: HeldGrant): held is HeldGrant & { grantId: string } =>
    held.grantId !== null &&
    held.source.type === 'direct' &&
    (held.role === 'owner' ? can('roles.assign.owner') : can('roles.assign'));
  return (
    <>
      <PageHeader title={user.name} description={user.email}>
        {can('reports.access_audit') ? (
          <Link className="button secondary" to={`/access/inspector?userId=${user.id}`}>
            What can they see?
          </Link>
        ) : null}
      </PageHeader>
      <section className="panel" aria-labelledby="status-title">
        <h2 id="status-title">Account</h2>
        <p>
          Status: <strong>{userStatusLabels[user.status]}</strong>
          {disabled && user.disabledAt ? ` since ${formatDate(user.disabledAt)}` : ''}
        </p>
        <p className="muted">
          {user.lastSignInAt
            ? `Last signed in ${formatDateTime(user.lastSignInAt)}.`
            : 'Has never signed in.'}
        </p>
        {user.status === 'invited' ? (
          <p>
            {user.invitation === null
              ? 'No invitation has been sent: they cannot sign in until they have one (or sign in with your single sign-on provider).'
              : invitationExpired(user.invitation)
                ? `The invitation sent ${formatDateTime(user.invitation.sentAt)} has expired.`
                : `Invitation sent ${formatDateTime(user.invitation.sentAt)}; its link works until ${formatDateTime(user.invitation.expiresAt)}.`}{' '}
            A new invitation stops the link sent before from working.
          </p>
        ) : null}
        <ResendOutcome resend={resend} />
        <div className="pending-actions">
          {user.status === 'invited' ? (
            <Button
              className="secondary"
              busy={resend.isPending}
              onClick={() => resend.mutate(user)}
            >
              {user.invitation === null ? 'Send invitation' : 'Resend invitation'}
            </Button>
          ) : null}
          <button
            type="button"
            className={disabled ? 'secondary' : 'danger'}
            onClick={() => setConfirming(true)}
          >
            {disabled ? 'Enable account' : 'Disable account'}
          </button>
        </div>
        <Dialog
          open={confirming}
          title={disabled ? `Enable ${user.name}?` : `Disable ${user.name}?`}
          onClose={() => setConfirming(false)}
        >
          <p>
            {disabled
              ? 'They will be able to sign in again, with the roles and groups they still hold.'
              : 'They will be signed out everywhere at once and cannot sign in until enabled again. Their roles and groups are kept.'}
          </p>
          <ErrorMessage error={setDisabled.error} />
          <div className="dialog-actions">
            <Button
              className={disabled ? undefined : 'danger'}
              busy={setDisabled.isPending}
              onClick={() => setDisabled.mutate(!disabled)}
            >
              {disabled ? 'Yes, enable' : 'Yes, disable'}
            </Button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </Dialog>
      </section>
      {can('users.mfa.reset') && user.id !== me.id ? <TwoFactorReset user={user} /> : null}
      <section className="panel" aria-labelledby="roles-title">
        <h2 id="roles-title">Roles</h2>
        {user.roles.length === 0 ? (
          <Empty>No roles: they are a Member only and see no records.</Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">Where</th>
                  <th scope="col">From</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {user.roles.map((held, index) => (
                  <tr key={held.grantId ?? `withheld-${index}`}>
                    <td>{roleLabels[held.role]}</td>
                    <td>{held.scope.name}</td>
                    <td>
                      {held.source.type === 'direct' ? (
                        'Granted directly'
                      ) : held.source.userGroupId === null ? (
                        <em>Through a group you cannot see</em>
                      ) : (
                        <>
                          Group{' '}
                          <Link to={`/admin/user-groups/${held.source.userGroupId}`}>
                            {held.source.userGroupName}
                          </Link>
                        </>
                      )}
                    </td>
                    <td>{formatDate(held.since)}</td>
                    <td>
                      {mayRevoke(held) ? (
                        <Button
                          className="link-button"
                          busy={revoke.isPending && revoke.variables === held.grantId}
                          onClick={() => revoke.mutate(held.grantId)}
                          aria-label={`Revoke ${roleLabels[held.role]} at ${held.scope.name}`}
                        >
                          Revoke
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <ErrorMessage error={revoke.error} />
        <h3>Grant a role</h3>
        {user.id === me.id ? (
          <p className="muted">
            Nobody grants themselves a role: ask another Admin, or an Owner of the organisation.
          </p>
        ) : null}
        <RoleGrantForm
          subject={{ type: 'user', id: user.id }}
          busy={grant.isPending}
          error={grant.error}
          onGrant={(role, scope, reason) => grant.mutate({ role, scope, reason })}
        />
      </section>
    </>
  );
}

/**
 * Resetting someone's two-factor sign-in after a lost phone (an Owner anyone's, a DSL that of
 * their schools' staff; the server sends whether this caller may, for this person).
 */
function TwoFactorReset({ user }: { user: UserDetail }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState(false);
  const query = useQuery({
    queryKey: ['users', 'two-factor', user.id],
    queryFn: ({ signal }) => api.get<UserTwoFactor>(`/users/${user.id}/totp`, undefined, signal),
  });
  const reset = useMutation({
    mutationFn: () => api.delete(`/users/${user.id}/totp`),
    onSuccess: () => {
      setConfirming(false);
      setDone(true);
      void queryClient.invalidateQueries({ queryKey: ['users', 'two-factor', user.id] });
    },
  });
  const standing = query.data;
  // Nothing to offer someone this caller may not reset: the section stays away.
  if (query.isError || (standing && !standing.abilities.reset && !done)) return null;
  return (
    <section className="panel" aria-labelledby="two-factor-title">
      <h2 id="two-factor-title">Two-factor sign-in</h2>
      {done ? (
        <Notice tone="success">
          Two-factor sign-in is reset for {user.name}. They have been signed out everywhere; they
          sign in with their password and set it up again where their school asks for it.
        </Notice>
      ) : null}
      {standing === undefined ? (
        <p className="muted">Loading…</p>
      ) : standing.status === 'active' ? (
        <>
          <p>
            On. If they have lost their phone or their authenticator app, reset it so they can sign
            in with their password and set it up again.
          </p>
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Reset two-factor
          </button>
        </>
      ) : (
        <p>Off: {user.name} signs in with their password alone.</p>
      )}
      <Dialog
        open={confirming}
        title={`Reset two-factor sign-in for ${user.name}?`}
        onClose={() => setConfirming(false)}
      >
        <p>
          Their authenticator app and recovery codes stop working, and they are signed out
          everywhere. Next time they sign in they use their password alone, and will be asked to set
          up two-factor sign-in again where their school requires it.
        </p>
        <p>
          Do this only once you are sure it is them asking. It is written to the audit log, and the
          Owners and DSLs over their schools are alerted.
        </p>
        <ErrorMessage error={reset.error} />
        <div className="dialog-actions">
          <Button className="danger" busy={reset.isPending} onClick={() => reset.mutate()}>
            Yes, reset two-factor
          </Button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
