import type { RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The OpenAPI document as a contract (issue 17, item 3). Routes declare their requests and
 * success answers with zod; what every route shares is added here, in one place, so that no route
 * can forget it:
 *  - an `operationId` made from the method and the path (a route may name its own);
 *  - `security: []` on public routes (the document's default is a session or a bearer token);
 *  - the problem+json (RFC 9457) answers each kind of route can give, by reference;
 *  - `format: date-time` on the answers' times (properties named `...At`, `since`, `until`);
 *  - `servers`, the licence, the problem schema.
 */

const PROBLEM_MEDIA = 'application/problem+json';

type Json = Record<string, unknown>;

interface RouteAccessConfig {
  access?: { public?: boolean };
}

const problemSchema = {
  type: 'object',
  description: 'An error (RFC 9457). `code` is stable; `detail` is written for people.',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', description: 'urn:haven:problem:<code>' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'With 400 `validation_failed`: each field and what is wrong with it.',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
};

/** The shared answers, by the name operations refer to them with. */
const problemResponses: Record<string, { status: string; description: string }> = {
  BadRequest: { status: '400', description: 'The request is malformed or fails validation' },
  Unauthorized: { status: '401', description: 'No valid session or token' },
  Forbidden: { status: '403', description: 'The caller may not take this action' },
  NotFound: {
    status: '404',
    description: 'No such record, or one the caller may not see (the two are not told apart)',
  },
  Conflict: { status: '409', description: 'The change conflicts with the current state' },
  TooManyRequests: { status: '429', description: 'Too many attempts; see Retry-After' },
  Problem: {
    status: 'default',
    description: 'Any other error (413, 415, 422, 500, 503 with Retry-After)',
  },
};

const WRITES = new Set(['post', 'put', 'patch', 'delete']);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** `GET /api/v1/students/{id}/safeguarding-file` becomes `getStudentsByIdSafeguardingFile`. */
export function operationIdFor(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\/?/, '')
    .split('/')
    .filter(Boolean)
    .flatMap((segment) => {
      const param = /^[:{](\w+)}?$/.exec(segment);
      if (param) return ['by', param[1]!];
      return segment.split(/[^A-Za-z0-9]+/).filter(Boolean);
    });
  const tail = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${method.toLowerCase()}${tail || 'Root'}`;
}

/** Per route: its operationId and, when it is public, `security: []`. */
export const openApiTransform: typeof jsonSchemaTransform = (input) => {
  const out = jsonSchemaTransform(input);
  const route = input.route as RouteOptions;
  const schema = { ...(out.schema as Json) };
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  if (!schema.operationId) schema.operationId = operationIdFor(method, input.url);
  if ((route.config as RouteAccessConfig | undefined)?.access?.public) schema.security = [];
  return { ...out, schema };
};

const TIME_PROPERTY = /(At|^since|^until)$/;

/** Adds `format: date-time` to string properties that hold times, wherever they are nested. */
function markTimes(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) markTimes(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const object = node as Json;
  const properties = object.properties as Record<string, Json> | undefined;
  if (properties && typeof properties === 'object') {
    for (const [name, property] of Object.entries(properties)) {
      if (TIME_PROPERTY.test(name)) markTime(property);
    }
  }
  for (const value of Object.values(object)) markTimes(value);
}

function markTime(property: Json): void {
  const type = property.type;
  const isString = type === 'string' || (Array.isArray(type) && type.includes('string'));
  if (isString && !property.format && !property.enum && !property.pattern) {
    property.format = 'date-time';
  }
  for (const key of ['anyOf', 'oneOf']) {
    const options = property[key];
    if (Array.isArray(options)) for (const option of options as Json[]) markTime(option);
  }
}

function problemRef(name: string) {
  return { $ref: `#/components/responses/${name}` };
}

/** Adds the shared error answers to one operation, by what kind of route it is. */
function addProblems(method: string, path: string, operation: Json): void {
  const responses = (operation.responses ?? {}) as Json;
  const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
  const hasInput =
    (Array.isArray(operation.parameters) && operation.parameters.length > 0) ||
    operation.requestBody !== undefined;
  const wanted: string[] = [];
  if (hasInput || WRITES.has(method)) wanted.push('BadRequest');
  if (!isPublic) wanted.push('Unauthorized', 'Forbidden', 'NotFound');
  else if (path.includes('{')) wanted.push('NotFound');
  if (WRITES.has(method)) wanted.push('Conflict');
  if (isPublic && method !== 'get') wanted.push('TooManyRequests');
  wanted.push('Problem');
  for (const name of wanted) {
    const status = problemResponses[name]!.status;
    if (!(status in responses)) responses[status] = problemRef(name);
  }
  operation.responses = responses;
}

/** The whole document: shared components, servers, and every operation's error answers. */
export const openApiTransformObject: typeof jsonSchemaTransformObject = (input) => {
  const doc = jsonSchemaTransformObject(input) as Json;
  const info = {
    ...(doc.info as Json),
    license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
  };
  const components = { ...((doc.components as Json) ?? {}) };
  components.schemas = { ...((components.schemas as Json) ?? {}), Problem: problemSchema };
  components.responses = Object.fromEntries(
    Object.entries(problemResponses).map(([name, { description }]) => [
      name,
      {
        description,
        content: { [PROBLEM_MEDIA]: { schema: { $ref: '#/components/schemas/Problem' } } },
      },
    ]),
  );
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      markTimes(operation.responses);
      addProblems(method, path, operation);
    }
  }
  return {
    ...doc,
    info,
    servers: [{ url: '/', description: 'This Haven installation' }],
    components,
  } as ReturnType<typeof jsonSchemaTransformObject>;
};
