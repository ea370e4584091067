import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import type { Answer } from '../../api/answers.ts';
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
import { formatDateTime } from '../../format.ts';
import type { NewScimToken, ScimToken } from './types.ts';

/** The SCIM base address a directory is given: this Haven's own origin. */
export function scimBaseUrl(): string {
  return `${window.location.origin}/scim/v2`;
}

/**
 * SCIM provisioning: the base address, the organisation's bearer tokens (each shown once, when
 * made), and revoking one.
 */
export function ScimSection() {
  const queryClient = useQueryClient();
  const baseId = useId();
  const tokenId = useId();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<ScimToken | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  const query = useQuery({
    queryKey: ['organisation', 'scim-tokens'],
    queryFn: ({ signal }) =>
      api.get<Answer<'/api/v1/organisation/scim-tokens', 'get'>>(
        '/organisation/scim-tokens',
        undefined,
        signal,
      ),
  });
  const create = useMutation({
    mutationFn: (tokenName: string) =>
      api.post<NewScimToken>('/organisation/scim-tokens', { name: tokenName }),
    onSuccess: (answer, tokenName) => {
      setCreated({ name: tokenName, token: answer.token });
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['organisation', 'scim-tokens'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (token: ScimToken) => api.delete(`/organisation/scim-tokens/${token.id}`),
    onSuccess: (_, token) => {
      setRevoking(null);
      setRevoked(`"${token.name}" is revoked: requests with it are refused from now.`);
      void queryClient.invalidateQueries({ queryKey: ['organisation', 'scim-tokens'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRevoked(null);
    create.mutate(name.trim());
  };
  const nameError =
    create.error instanceof ApiError ? create.error.fieldMessage('name') : undefined;

  return (
    <section className="panel" aria-labelledby="scim-title">
      <h2 id="scim-title">Provisioning (SCIM)</h2>
      <p>
        Microsoft Entra ID or Google Workspace can add, update and disable staff accounts and keep
        user group membership in step with your directory. Give it this address and a token.
      </p>
      <div className="field">
        <label htmlFor={baseId}>SCIM base address (tenant URL)</label>
        <div className="copy-row">
          <input id={baseId} readOnly value={scimBaseUrl()} />
          <CopyButton value={scimBaseUrl()} label="Copy the SCIM address" fieldId={baseId} />
        </div>
      </div>
      {created ? (
        <div className="token-once" role="status">
          <Notice tone="warning">
            Copy the token for "{created.name}" now and paste it into your directory's provisioning
            settings (Secret token). It is shown only this once; Haven keeps only a fingerprint of
            it.
          </Notice>
          <div className="field">
            <label htmlFor={tokenId}>New token</label>
            <div className="copy-row">
              <input id={tokenId} readOnly value={created.token} className="secret" />
              <CopyButton value={created.token} label="Copy the token" fieldId={tokenId} />
            </div>
          </div>
          <button type="button" className="secondary" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      ) : null}
      {revoked ? <Notice tone="success">{revoked}</Notice> : null}
      <h3 className="section-gap">Tokens</h3>
      <QueryState query={query} loading="Loading tokens…">
        {(data) =>
          data.items.length === 0 ? (
            <Empty>No tokens: nothing can provision accounts.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">
                      <span className="visually-hidden">Status</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((token) => (
                    <tr key={token.id}>
                      <td>{token.name}</td>
                      <td>
                        {formatDateTime(token.createdAt)}
                        {token.createdBy ? ` by ${token.createdBy.name}` : ''}
                      </td>
                      <td>{token.lastUsedAt ? formatDateTime(token.lastUsedAt) : 'Never'}</td>
                      <td>
                        {token.revokedAt ? (
                          <span className="tag">Revoked {formatDateTime(token.revokedAt)}</span>
                        ) : (
                          <button
                            type="button"
                            className="link-button"
                            onClick={() => {
                              revoke.reset();
                              setRevoking(token);
                            }}
                            aria-label={`Revoke ${token.name}`}
                          >
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
      <form className="inline-form" onSubmit={submit} aria-label="Create a SCIM token">
        <InputField
          label="Token name"
          hint="What it is for, e.g. Entra ID provisioning."
          value={name}
          maxLength={200}
          onChange={(e) => setName(e.target.value)}
          error={nameError}
          required
        />
        <Button type="submit" busy={create.isPending} disabled={!name.trim()}>
          Create token
        </Button>
        {nameError ? null : <ErrorMessage error={create.error} />}
      </form>
      <ConfirmDeletion
        open={revoking !== null}
        title={revoking ? `Revoke "${revoking.name}"?` : ''}
        confirmLabel="Revoke token"
        busy={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => setRevoking(null)}
      >
        <p>
          Your directory can no longer provision accounts with it; accounts it made stay as they
          are. Create a new token and give it to the directory to carry on.
        </p>
      </ConfirmDeletion>
    </section>
  );
}
