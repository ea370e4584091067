import { openSecret, sealSecret } from '../auth/secret-seal.ts';

/**
 * A provider's client secret at rest: AES-256-GCM under the installation's `sso` subkey (not the
 * TOTP one), with the organisation and provider as associated data, so a sealed secret copied
 * onto another organisation's or provider's row does not open. It never leaves the server.
 */
function boundTo(organisationId: string, providerId: string): string {
  return `sso-client-secret:${organisationId}:${providerId}`;
}

export function sealClientSecret(
  key: Buffer,
  organisationId: string,
  providerId: string,
  secret: string,
): string {
  return sealSecret(key, boundTo(organisationId, providerId), secret);
}

/** The secret, or throws if the stored value is not sealed, was altered, or moved. */
export function openClientSecret(
  key: Buffer,
  organisationId: string,
  providerId: string,
  stored: string,
): string {
  // Unlike TOTP secrets, there were never unsealed ones: a plain value is refused.
  if (!stored.startsWith('v1.')) throw new Error('The client secret is not sealed');
  return openSecret(key, boundTo(organisationId, providerId), stored);
}
