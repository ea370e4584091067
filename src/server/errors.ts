import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import type { Database } from '../db/database.ts';
import { type FieldError, HavenError, validationFailed } from '../lib/errors.ts';
import { runChange } from '../modules/audit/change.ts';

const PROBLEM_TYPE_BASE = 'urn:haven:problem:';

export function problemBody(error: HavenError, instance?: string) {
  return {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.detail,
    ...(instance ? { instance } : {}),
    ...error.extra,
  };
}

export function sendProblem(reply: FastifyReply, error: HavenError) {
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send(problemBody(error, reply.request.url.split('?')[0]));
}

/** Turns anything thrown while handling a request into Haven's problem+json shape. */
export function toHavenError(error: FastifyError | Error): HavenError {
  if (error instanceof HavenError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    // Fields are named by their path in the body, query or route parameters ("owner.email", "limit").
    const errors: FieldError[] = error.validation.map((issue) => {
      const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return { field: field || 'body', message: issue.message ?? 'is invalid' };
    });
    return validationFailed(errors);
  }
  if (isResponseSerializationError(error)) {
    return new HavenError(500, 'internal_error', 'Internal error', 'The server made a bad answer');
  }
  const fastifyError = error as FastifyError;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HavenError(
        415,
        'unsupported_media_type',
        'Unsupported media type',
        'Send JSON with Content-Type: application/json',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HavenError(
        413,
        'payload_too_large',
        'Payload too large',
        'The request is too large',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return validationFailed([{ field: 'body', message: 'is empty but must be a JSON object' }]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return validationFailed([{ field: 'body', message: 'is not valid JSON' }]);
  }
  if (fastifyError.statusCode === 400 && error instanceof SyntaxError) {
    return validationFailed([{ field: 'body', message: 'is not valid JSON' }]);
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new HavenError(fastifyError.statusCode, 'bad_request', 'Bad request', error.message);
  }
  return new HavenError(
    500,
    'internal_error',
    'Internal error',
    'Something went wrong on our side',
  );
}

const AUDITED_REFUSALS = new Set([401, 403, 429]);

/**
 * Every refused request (401, 403, 429) is written to the audit log with who asked for what;
 * the change it asked for was rolled back, so this row is its own transaction.
 */
export async function auditRefusal(
  database: Database,
  request: FastifyRequest,
  error: HavenError,
): Promise<void> {
  if (!AUDITED_REFUSALS.has(error.status)) return;
  const principal = request.auth?.principal;
  const organisationId = principal?.organisationId ?? error.auditOrganisationId ?? null;
  await runChange(
    database,
    {
      organisationId,
      userId: principal?.userId ?? null,
      requestId: request.id,
      ip: request.ip,
      via: 'api',
    },
    async (change) => {
      change.record({
        category: 'denied',
        action: `request.${error.code}`,
        meta: {
          method: request.method,
          route: request.routeOptions.url ?? request.url.split('?')[0],
          path: request.url.split('?')[0],
          status: error.status,
          code: error.code,
          detail: error.detail,
          ...error.auditMeta,
        },
      });
    },
  );
}
