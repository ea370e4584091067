import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { SsoKind } from '../../accounts/sso.tsx';
import { ApiError, api } from '../../api/client.ts';
import {
  Button,
  ConfirmDeletion,
  CopyButton,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  QueryState,
} from '../../components/ui.tsx';
import type {
  SsoConfiguration,
  SsoConfigurationInput,
  SsoProvider,
  SsoProviderInput,
  SsoSettings,
} from './types.ts';

const kindNames: Record<SsoKind, string> = {
  microsoft: 'Microsoft Entra ID (Microsoft 365)',
  google: 'Google Workspace',
  oidc: 'Another OpenID Connect provider',
};

function providerTitle(provider: Pick<SsoProvider, 'kind' | 'label'>): string {
  if (provider.kind === 'oidc') return provider.label || 'OpenID Connect';
  return kindNames[provider.kind];
}

/** A provider as `PUT` takes it back, its secret left out so the stored one is kept. */
function asInput(provider: SsoProvider): SsoProviderInput {
  return {
    id: provider.id,
    kind: provider.kind,
    ...(provider.label !== null ? { label: provider.label } : {}),
    ...(provider.kind === 'microsoft' && provider.tenantId !== null
      ? { tenantId: provider.tenantId }
      : provider.kind === 'google'
        ? {}
        : { issuer: provider.issuer }),
    clientId: provider.clientId,
    allowedDomains: provider.allowedDomains,
  };
}

function asConfiguration(config: SsoConfiguration): SsoConfigurationInput {
  return {
    passwordSignIn: config.passwordSignIn,
    createAccounts: config.createAccounts,
    acceptProviderMfa: config.acceptProviderMfa,
    providers: config.providers.map(asInput),
  };
}

/** `GET /organisation/sso`, and saving the whole of it back with one change. */
function useSsoConfiguration() {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['organisation', 'sso'],
    queryFn: ({ signal }) => api.get<SsoConfiguration>('/organisation/sso', undefined, signal),
  });
  const save = useMutation({
    mutationFn: (next: SsoConfigurationInput) =>
      api.put<SsoConfiguration>('/organisation/sso', next),
    onSuccess: (saved) => {
      queryClient.setQueryData(['organisation', 'sso'], saved);
      void queryClient.invalidateQueries({ queryKey: ['sso-choices'] });
    },
  });
  return { query, save };
}

/** The Owner's single sign-on: the providers, and the organisation's sign-in switches. */
export function SsoSection() {
  const { query, save } = useSsoConfiguration();
  return (
    <QueryState query={query} loading="Loading sign-in settings…">
      {(config) => <SsoSettingsView config={config} save={save} />}
    </QueryState>
  );
}

function SsoSettingsView({
  config,
  save,
}: {
  config: SsoConfiguration;
  save: ReturnType<typeof useSsoConfiguration>['save'];
}) {
  // Which form is open: a provider being edited (its id), a new one, or none.
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [removing, setRemoving] = useState<SsoProvider | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const current = asConfiguration(config);

  const saveProvider = (input: SsoProviderInput) => {
    const providers = input.id
      ? current.providers.map((p) => (p.id === input.id ? input : p))
      : [...current.providers, input];
    setSaved(null);
    save.mutate(
      { ...current, providers },
      {
        onSuccess: () => {
          setEditing(null);
          setSaved(`${providerTitle({ kind: input.kind, label: input.label ?? null })} is saved.`);
        },
      },
    );
  };

  const remove = (provider: SsoProvider) => {
    setSaved(null);
    save.mutate(
      { ...current, providers: current.providers.filter((p) => p.id !== provider.id) },
      {
        onSuccess: () => {
          setRemoving(null);
          setSaved(`${providerTitle(provider)} is removed.`);
        },
      },
    );
  };

  return (
    <>
      <section className="panel" aria-labelledby="sso-title">
        <h2 id="sso-title">Single sign-on</h2>
        <p>
          Staff sign in with their school Microsoft or Google account. Haven links a sign-in to the
          account with the same verified email address, from the domains you allow.
        </p>
        <p className="hint">
          Each provider has its own redirect address, shown here once it is saved: add it as a web
          redirect (or callback) URI in the provider's app registration.
        </p>
        {saved ? <Notice tone="success">{saved}</Notice> : null}
        {editing === null ? <ErrorMessage error={save.error} /> : null}
        {config.providers.length === 0 ? (
          <Empty>No provider yet: everyone signs in with a password.</Empty>
        ) : (
          <ul className="list" aria-label="Identity providers">
            {config.providers.map((provider) =>
              editing === provider.id ? (
                <li key={provider.id}>
                  <ProviderForm
                    provider={provider}
                    busy={save.isPending}
                    error={save.error}
                    onSave={saveProvider}
                    onCancel={() => {
                      setEditing(null);
                      save.reset();
                    }}
                  />
                </li>
              ) : (
                <li key={provider.id}>
                  <div>
                    <h3>{providerTitle(provider)}</h3>
                    <dl className="facts">
                      <dt>Issuer</dt>
                      <dd>
                        <code>{provider.issuer}</code>
                      </dd>
                      <dt>Client ID</dt>
                      <dd>
                        <code>{provider.clientId}</code>
                      </dd>
                      <dt>Client secret</dt>
                      <dd>Set (never shown)</dd>
                      <dt>Allowed domains</dt>
                      <dd>
                        {provider.allowedDomains.length > 0
                          ? provider.allowedDomains.join(', ')
                          : 'None: nobody can sign in with it yet'}
                      </dd>
                      <dt>Redirect address</dt>
                      <dd>
                        <RedirectAddress provider={provider} />
                      </dd>
                    </dl>
                  </div>
                  <div className="list-actions">
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        save.reset();
                        setSaved(null);
                        setEditing(provider.id);
                      }}
                      aria-label={`Edit ${providerTitle(provider)}`}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        save.reset();
                        setRemoving(provider);
                      }}
                      aria-label={`Remove ${providerTitle(provider)}`}
                    >
                      Remove
                    </button>
                  </div>
                </li>
              ),
            )}
          </ul>
        )}
        {editing === 'new' ? (
          <ProviderForm
            busy={save.isPending}
            error={save.error}
            onSave={saveProvider}
            onCancel={() => {
              setEditing(null);
              save.reset();
            }}
          />
        ) : editing === null ? (
          <button
            type="button"
            onClick={() => {
              save.reset();
              setSaved(null);
              setEditing('new');
            }}
          >
            Add an identity provider
          </button>
        ) : null}
        <ConfirmDeletion
          open={removing !== null}
          title={removing ? `Remove ${providerTitle(removing)}?` : ''}
          confirmLabel="Remove provider"
          busy={save.isPending}
          error={save.error}
          onConfirm={() => removing && remove(removing)}
          onClose={() => {
            setRemoving(null);
            save.reset();
          }}
        >
          <p>
            Its sign-in button disappears and nobody can sign in with it. Staff who used it will
            need a password, or another provider.
          </p>
        </ConfirmDeletion>
      </section>
      <SignInSwitches config={config} current={current} save={save} />
    </>
  );
}

const MICROSOFT_ISSUER = /^https:\/\/login\.microsoftonline\.com\/([^/]+)\/v2\.0\/?$/;

function parseDomains(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((d) => d.trim().toLowerCase().replace(/^@/, ''))
        .filter(Boolean),
    ),
  ];
}

/** Add or edit one provider; the kind chooses a preset and its hints. */
function ProviderForm({
  provider,
  busy,
  error,
  onSave,
  onCancel,
}: {
  provider?: SsoProvider;
  busy: boolean;
  error: unknown;
  onSave: (input: SsoProviderInput) => void;
  onCancel: () => void;
}) {
  const [kind, setKind] = useState<SsoKind>(provider?.kind ?? 'microsoft');
  const [label, setLabel] = useState(provider?.label ?? '');
  const [tenantId, setTenantId] = useState(
    provider?.tenantId ?? provider?.issuer.match(MICROSOFT_ISSUER)?.[1] ?? '',
  );
  // A Microsoft provider saved with its whole issuer (not a tenant id) is edited as such.
  const wholeIssuer = provider?.kind === 'microsoft' && !provider.tenantId && tenantId === '';
  const [issuer, setIssuer] = useState(provider?.issuer ?? '');
  const [clientId, setClientId] = useState(provider?.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [domains, setDomains] = useState(provider?.allowedDomains.join(', ') ?? '');
  const [checked, setChecked] = useState(false);
  const radioName = useId();

  // Where each field is missing, said before anything is sent.
  const missing = {
    tenantId: kind === 'microsoft' && !wholeIssuer && !tenantId.trim(),
    label: kind === 'oidc' && !label.trim(),
    issuer: (kind === 'oidc' || wholeIssuer) && !issuer.trim(),
    clientId: !clientId.trim(),
    clientSecret: !provider?.clientSecretSet && !clientSecret,
    domains: parseDomains(domains).length === 0,
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (Object.values(missing).some(Boolean)) return;
    const input: SsoProviderInput = {
      ...(provider ? { id: provider.id } : {}),
      kind,
      clientId: clientId.trim(),
      allowedDomains: parseDomains(domains),
      ...(clientSecret ? { clientSecret } : {}),
    };
    if (kind === 'microsoft') {
      if (wholeIssuer) input.issuer = issuer.trim();
      else input.tenantId = tenantId.trim();
    } else if (kind === 'oidc') {
      input.label = label.trim();
      input.issuer = issuer.trim();
    }
    onSave(input);
  };

  const serverField = (field: string) => {
    if (!(error instanceof ApiError)) return undefined;
    return (
      error.fieldMessage(field) ??
      error.problem.errors?.find((e) => e.field.endsWith(`.${field}`))?.message
    );
  };
  const fieldError = (field: keyof typeof missing, message: string, serverName: string = field) =>
    (checked && missing[field] ? message : undefined) ?? serverField(serverName);
  const title = provider ? `Edit ${providerTitle(provider)}` : 'Add an identity provider';

  return (
    <form onSubmit={submit} noValidate className="provider-form" aria-label={title}>
      <h3>{title}</h3>
      {provider ? null : (
        <fieldset className="checks">
          <legend>Provider</legend>
          {(Object.keys(kindNames) as SsoKind[]).map((k) => (
            <label key={k}>
              <input
                type="radio"
                name={radioName}
                value={k}
                checked={kind === k}
                onChange={() => setKind(k)}
              />{' '}
              {kindNames[k]}
            </label>
          ))}
        </fieldset>
      )}
      {kind === 'microsoft' ? (
        <>
          <p className="hint">
            In the Microsoft Entra admin centre, open App registrations and register Haven as a web
            application with the redirect address Haven shows for it once saved. Its Overview page
            shows the two IDs; create a client secret under Certificates &amp; secrets.
          </p>
          {wholeIssuer ? (
            <InputField
              label="Issuer URL"
              type="url"
              value={issuer}
              onChange={(e) => setIssuer(e.target.value)}
              error={fieldError('issuer', 'Enter the issuer URL.')}
              autoComplete="off"
            />
          ) : (
            <InputField
              label="Directory (tenant) ID"
              hint="A GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, from the app's Overview page. Only accounts of this directory sign in."
              value={tenantId}
              onChange={(e) => setTenantId(e.target.value)}
              error={fieldError('tenantId', 'Enter the directory (tenant) ID.')}
              autoComplete="off"
            />
          )}
        </>
      ) : kind === 'google' ? (
        <p className="hint">
          In the Google Cloud console, under APIs &amp; Services, Credentials, create an OAuth
          client ID for a web application, with the redirect address Haven shows once saved as an
          authorised redirect URI. Make the OAuth consent screen Internal so only your Workspace
          accounts can use it.
        </p>
      ) : (
        <>
          <InputField
            label="Name on the sign-in button"
            hint='The button reads "Sign in with" this name.'
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            error={fieldError('label', 'Enter the name for the button.')}
          />
          <InputField
            label="Issuer URL"
            hint="The provider's issuer, whose /.well-known/openid-configuration Haven reads."
            type="url"
            value={issuer}
            onChange={(e) => setIssuer(e.target.value)}
            error={fieldError('issuer', 'Enter the issuer URL.')}
            autoComplete="off"
          />
        </>
      )}
      <InputField
        label={kind === 'microsoft' ? 'Application (client) ID' : 'Client ID'}
        value={clientId}
        onChange={(e) => setClientId(e.target.value)}
        error={fieldError('clientId', 'Enter the client ID.')}
        autoComplete="off"
      />
      <InputField
        label="Client secret"
        type="password"
        autoComplete="new-password"
        hint={
          provider?.clientSecretSet
            ? 'Leave blank to keep the current secret. It is stored sealed and never shown again.'
            : 'Stored sealed and never shown again.'
        }
        value={clientSecret}
        onChange={(e) => setClientSecret(e.target.value)}
        error={fieldError('clientSecret', 'Enter the client secret.')}
      />
      <InputField
        label="Allowed email domains"
        hint={
          kind === 'google'
            ? 'Your Workspace domains, separated by commas, e.g. riverside.sch.uk. Only accounts in these domains sign in.'
            : 'Separated by commas, e.g. riverside.sch.uk, riversidetrust.org.uk. Only accounts in these domains sign in.'
        }
        value={domains}
        onChange={(e) => setDomains(e.target.value)}
        error={fieldError('domains', 'Enter at least one domain.', 'allowedDomains')}
        autoComplete="off"
      />
      <ErrorMessage error={error} />
      <div className="pending-actions">
        <Button type="submit" busy={busy}>
          Save provider
        </Button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The organisation's switches: each is saved as soon as it changes. */
function SignInSwitches({
  config,
  current,
  save,
}: {
  config: SsoConfiguration;
  current: SsoConfigurationInput;
  save: ReturnType<typeof useSsoConfiguration>['save'];
}) {
  // The switch being sent shows its new state until the answer (and goes back if refused).
  const [sending, setSending] = useState<Partial<SsoSettings> | null>(null);
  const [refused, setRefused] = useState<{ key: keyof SsoSettings; error: unknown } | null>(null);
  const value = (key: keyof SsoSettings) => sending?.[key] ?? config[key];
  const change = (key: keyof SsoSettings, on: boolean) => {
    setRefused(null);
    setSending({ [key]: on });
    save.mutate(
      { ...current, [key]: on },
      {
        onError: (error) => setRefused({ key, error }),
        onSettled: () => setSending(null),
      },
    );
  };
  const switches: { key: keyof SsoSettings; label: string; hint: string }[] = [
    {
      key: 'passwordSignIn',
      label: 'Staff may sign in with a password',
      hint: 'Turn it off once everyone signs in with a provider above: Haven then offers only the provider buttons, and password reset emails stop.',
    },
    {
      key: 'createAccounts',
      label: 'Create an account for someone new who signs in from an allowed domain',
      hint: 'They join as a Member, with no role: they see nothing until someone grants them one. Off: only people already added can sign in.',
    },
    {
      key: 'acceptProviderMfa',
      label: "Accept the provider's multi-factor sign-in for sensitive records",
      hint: 'When the provider says the person used multi-factor authentication, Haven does not ask for its own two-factor code before child-protection and allegation records. Turn it on only if your provider requires it for every account.',
    },
  ];
  return (
    <section className="panel" aria-labelledby="switches-title">
      <h2 id="switches-title">How staff sign in</h2>
      {switches.map(({ key, label, hint }) => (
        <div className="checks switch" key={key}>
          <label>
            <input
              type="checkbox"
              checked={value(key)}
              disabled={sending !== null}
              onChange={(e) => change(key, e.target.checked)}
            />{' '}
            {label}
          </label>
          <p className="hint">{hint}</p>
          {refused?.key === key ? <SwitchRefusal setting={key} error={refused.error} /> : null}
        </div>
      ))}
    </section>
  );
}

/** Why a switch was refused: for password sign-in, what must be true before it can go off. */
function SwitchRefusal({ setting, error }: { setting: keyof SsoSettings; error: unknown }) {
  if (setting === 'passwordSignIn' && error instanceof ApiError && error.status === 409)
    return (
      <div className="error" role="alert">
        <p>Password sign-in stays on for now.</p>
        <p>
          Haven turns it off only once single sign-on is known to work, so nobody is locked out:
          sign out, sign in with one of the providers above, then come back here and turn it off.
        </p>
      </div>
    );
  return <ErrorMessage error={error} />;
}

/** A provider's own redirect address, to copy into its app registration. */
function RedirectAddress({ provider }: { provider: SsoProvider }) {
  const id = useId();
  return (
    <div className="copy-row">
      <input
        id={id}
        readOnly
        value={provider.redirectUri}
        aria-label={`Redirect address for ${providerTitle(provider)}`}
      />
      <CopyButton value={provider.redirectUri} label="Copy the redirect address" fieldId={id} />
    </div>
  );
}
