import type { FastifyError, FastifyReply } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { type FieldError, HavenError, validationFailed } from '../lib/errors.ts';

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

/** Seconds a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 5;

/** The database gave up waiting; the same request may well succeed in a moment. */
export function unavailable(): HavenError {
  return new HavenError(
    503,
    'unavailable',
    'Unavailable',
    'The database is busy; try again in a few seconds',
  );
}

export function sendProblem(reply: FastifyReply, error: HavenError) {
  if (error.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  // A 429 carries its own wait (`retryAfter`, seconds), worked out by whatever refused it.
  if (error.status === 429 && typeof error.extra.retryAfter === 'number')
    reply.header('retry-after', String(error.extra.retryAfter));
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
  if (isDatabaseUnavailable(error)) return unavailable();
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
