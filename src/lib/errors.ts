/**
 * Haven's one error shape. Every failure the API reports is a HavenError, rendered as
 * application/problem+json with a stable machine `code` (spec: api.md, Conventions).
 */
export interface FieldError {
  field: string;
  message: string;
}

export class HavenError extends Error {
  /** Extra facts for the audit row written when this refusal is reported (never sent to the client). */
  auditMeta: Record<string, unknown> = {};
  /** The organisation a refusal concerns when there is no signed-in caller (e.g. a failed sign-in). */
  auditOrganisationId: string | null = null;

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HavenError';
  }

  withAudit(meta: Record<string, unknown>, organisationId: string | null = null): this {
    this.auditMeta = { ...this.auditMeta, ...meta };
    this.auditOrganisationId = organisationId;
    return this;
  }
}

export function notFound(what = 'Record'): HavenError {
  return new HavenError(404, 'not_found', 'Not found', `${what} not found`);
}

export function forbidden(detail: string, extra: Record<string, unknown> = {}): HavenError {
  return new HavenError(403, 'forbidden', 'Forbidden', detail, extra);
}

export function unauthorized(detail = 'Sign in to continue'): HavenError {
  return new HavenError(401, 'unauthorized', 'Unauthorized', detail);
}

export function validationFailed(errors: FieldError[]): HavenError {
  const detail = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
  return new HavenError(400, 'validation_failed', 'Validation failed', detail, { errors });
}

export function invalidField(field: string, message: string): HavenError {
  return validationFailed([{ field, message }]);
}

export function conflict(detail: string, code = 'conflict'): HavenError {
  return new HavenError(409, code, 'Conflict', detail);
}

export function limitExceeded(detail: string, limit: number): HavenError {
  return new HavenError(422, 'limit_exceeded', 'Limit exceeded', detail, { limit });
}

/** Member-only users may not use Haven (spec section 2). */
export function noRole(): HavenError {
  return new HavenError(
    403,
    'no_role',
    'No role assigned',
    'Your account has no role yet. Ask an Admin or Owner at your school to assign you one.',
  );
}
