import { type SelectQueryBuilder, sql } from 'kysely';
import SCIMMY from 'scimmy';
import { HavenError } from '../../lib/errors.ts';

/**
 * The SCIM 2.0 protocol pieces Haven's provisioning shares between Users and Groups (RFC 7644):
 * errors, filters (parsed by SCIMMY, turned into SQL by the resource), paging, attribute
 * selection, and the shapes Entra ID and Google send that need straightening before SCIMMY's
 * PatchOp applies them.
 */

export const SCIM_MEDIA_TYPE = 'application/scim+json';
export const schemaIds = {
  user: SCIMMY.Schemas.User.id,
  group: SCIMMY.Schemas.Group.id,
  enterpriseUser: SCIMMY.Schemas.EnterpriseUser.id,
  error: SCIMMY.Messages.ErrorResponse.id,
  listResponse: SCIMMY.Messages.ListResponse.id,
  patchOp: SCIMMY.Messages.PatchOp.id,
} as const;

export type ScimType =
  | 'uniqueness'
  | 'tooMany'
  | 'invalidFilter'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

/** A protocol error, answered as RFC 7644 section 3.12 says (SCIMMY's own error type). */
export function scimError(status: number, scimType: ScimType | undefined, detail: string) {
  return new SCIMMY.Types.Error(status, scimType as ScimType, detail);
}

export const isScimError = (error: unknown): error is InstanceType<typeof SCIMMY.Types.Error> =>
  error instanceof SCIMMY.Types.Error;

export interface ScimErrorBody {
  schemas: [string];
  status: string;
  scimType?: string;
  detail: string;
}

/** The error body: SCIMMY's ErrorResponse where RFC 7644 knows the status, the same shape otherwise. */
export function errorBody(status: number, scimType: string | undefined, detail: string) {
  try {
    const response = new SCIMMY.Messages.ErrorResponse({ status, scimType, detail } as never);
    return {
      schemas: [schemaIds.error],
      status: String(status),
      ...(response.scimType ? { scimType: response.scimType } : {}),
      detail,
    } as ScimErrorBody;
  } catch {
    // 415, 429, 503: statuses RFC 7644 does not list; no scimType belongs with them.
    return { schemas: [schemaIds.error], status: String(status), detail } as ScimErrorBody;
  }
}

/** Haven's own refusals (from the services provisioning reuses), in SCIM's words. */
export function fromHavenError(error: HavenError): { status: number; scimType?: ScimType } {
  switch (error.status) {
    case 400:
      return { status: 400, scimType: 'invalidValue' };
    case 409:
      return error.code.endsWith('_taken')
        ? { status: 409, scimType: 'uniqueness' }
        : { status: 409 };
    // A limit (members per group, groups per organisation) is a value the server cannot take.
    case 422:
      return { status: 400, scimType: 'invalidValue' };
    default:
      return { status: error.status };
  }
}

/** One comparison of a filter, its attribute path lower-cased and without the core schema URN. */
export interface Comparison {
  path: string;
  op: string;
  value: unknown;
}

const CORE_PREFIX = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/i;

export function attributePath(path: string): string {
  return path.replace(CORE_PREFIX, '').toLowerCase();
}

function comparisons(node: unknown, prefix: string, out: Comparison[], expression: string) {
  if (Array.isArray(node)) {
    if (node.length > 0 && node.every(Array.isArray)) {
      for (const each of node) comparisons(each, prefix, out, expression);
      return;
    }
    const [op, ...rest] = node as unknown[];
    if (typeof op !== 'string')
      throw scimError(400, 'invalidFilter', `The filter '${expression}' could not be read`);
    if (op.toLowerCase() === 'not')
      throw scimError(400, 'invalidFilter', "Haven's filters do not support 'not'");
    const needsValue = op !== 'pr';
    if (needsValue && rest.length !== 1)
      throw scimError(400, 'invalidFilter', `'${prefix} ${op}' needs a value to compare with`);
    out.push({ path: attributePath(prefix), op: op.toLowerCase(), value: rest[0] });
    return;
  }
  if (node && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) {
      comparisons(child, prefix ? `${prefix}.${key}` : key, out, expression);
    }
    return;
  }
  throw scimError(400, 'invalidFilter', `The filter '${expression}' could not be read`);
}

/**
 * A filter as alternatives of conjunctions (`or` of `and`s), parsed by SCIMMY's Filter. Each
 * resource turns the comparisons it supports into SQL and refuses the rest (`invalidFilter`).
 */
export function parseFilter(expression: string): Comparison[][] {
  let parsed: readonly object[];
  try {
    parsed = new SCIMMY.Types.Filter(expression);
  } catch (error) {
    if (isScimError(error)) throw scimError(400, 'invalidFilter', error.message);
    throw scimError(400, 'invalidFilter', `The filter '${expression}' could not be read`);
  }
  return parsed.map((branch) => {
    const out: Comparison[] = [];
    comparisons(branch, '', out, expression);
    return out;
  });
}

export function unsupportedFilter(comparison: Comparison, supported: string): never {
  throw scimError(
    400,
    'invalidFilter',
    `Haven cannot filter on '${comparison.path} ${comparison.op}'; it filters on ${supported}`,
  );
}

/** A filter value that must be text. */
export function textValue(comparison: Comparison): string {
  if (typeof comparison.value !== 'string')
    throw scimError(400, 'invalidFilter', `'${comparison.path}' is compared with text`);
  return comparison.value;
}

export interface ListQuery {
  filter?: string | undefined;
  startIndex?: string | undefined;
  count?: string | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

/** Haven answers at most this many resources a page (ServiceProviderConfig `filter.maxResults`). */
export const MAX_RESULTS = 200;

/** RFC 7644 section 3.4.2.4: 1-based `startIndex`, `count` clamped to what Haven answers. */
export function paging(query: ListQuery): { offset: number; count: number } {
  const integer = (name: string, text: string | undefined, fallback: number) => {
    if (text === undefined || text === '') return fallback;
    if (!/^-?\d+$/.test(text)) throw scimError(400, 'invalidValue', `${name} must be an integer`);
    return Number(text);
  };
  const startIndex = Math.max(1, integer('startIndex', query.startIndex, 1));
  const count = Math.min(MAX_RESULTS, Math.max(0, integer('count', query.count, 100)));
  return { offset: startIndex - 1, count };
}

/**
 * A page of a filtered, ordered list and the total, in one SQL query (`count(*) over ()`). Asked
 * past the end (or for no resources at all), the total needs a count of its own.
 */
export async function readPage<DB, TB extends keyof DB, O>(
  ordered: SelectQueryBuilder<DB, TB, O>,
  { offset, count }: { offset: number; count: number },
): Promise<{ rows: O[]; total: number }> {
  const rows = await ordered
    .select(sql<string | number>`count(*) over ()`.as('total'))
    .limit(Math.max(count, 1))
    .offset(offset)
    .execute();
  const first = rows[0] as { total?: string | number } | undefined;
  let total = first ? Number(first.total) : 0;
  if (rows.length === 0 && offset > 0) {
    const counted = await ordered
      .clearOrderBy()
      .clearSelect()
      .select(sql<string | number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    total = Number((counted as { n: string | number }).n);
  }
  return { rows: count === 0 ? [] : (rows as O[]), total };
}

export function listResponse(resources: object[], totalResults: number, offset: number) {
  return {
    schemas: [schemaIds.listResponse],
    totalResults,
    startIndex: offset + 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/** Attributes named in `attributes` / `excludedAttributes`, as top-level names, lower-case. */
function attributeNames(list: string | undefined): Set<string> | null {
  if (!list) return null;
  return new Set(
    list
      .split(',')
      .map((a) => attributePath(a.trim()).split('.')[0]!)
      .filter(Boolean),
  );
}

const ALWAYS_RETURNED = new Set(['id', 'schemas', 'meta']);

/** RFC 7644 section 3.9, at the level of top-level attributes (sub-attributes select their parent). */
export function selectAttributes<T extends Record<string, unknown>>(
  resource: T,
  query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>,
): Partial<T> {
  const only = attributeNames(query.attributes);
  const without = attributeNames(query.excludedAttributes);
  if (!only && !without) return resource;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const name = key.toLowerCase();
    if (ALWAYS_RETURNED.has(name)) kept[key] = value;
    else if (only ? only.has(name) : !without!.has(name)) kept[key] = value;
  }
  return kept as Partial<T>;
}

/** Whether `attributes` / `excludedAttributes` leave this attribute out (members of a group). */
export function leavesOut(
  name: string,
  query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>,
): boolean {
  const only = attributeNames(query.attributes);
  if (only) return !only.has(name.toLowerCase());
  return attributeNames(query.excludedAttributes)?.has(name.toLowerCase()) ?? false;
}

/** A request body must be a JSON object. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw scimError(400, 'invalidSyntax', 'The request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Entra ID sends booleans as "True" and "False" in PATCH values. */
function booleanish(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
}

const BOOLEAN_ATTRIBUTES = new Set(['active', 'primary']);

function isBooleanPath(path: string): boolean {
  const last = attributePath(path).split('.').pop() ?? '';
  return BOOLEAN_ATTRIBUTES.has(last.replace(/\[.*$/, ''));
}

/** Booleans given as text, anywhere in a value, made booleans (Entra ID's "False"). */
function straightenValue(value: unknown, boolean: boolean): unknown {
  if (boolean) return booleanish(value);
  if (Array.isArray(value)) return value.map((v) => straightenValue(v, false));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [
        key,
        straightenValue(child, isBooleanPath(key)),
      ]),
    );
  }
  return value;
}

/** A whole body with its text booleans made booleans (what Entra ID may send for `active`). */
export function straightenBooleans(body: Record<string, unknown>): Record<string, unknown> {
  return straightenValue(body, false) as Record<string, unknown>;
}

export interface PatchOperation {
  op: string;
  path?: string | undefined;
  value?: unknown;
}

/**
 * The operations of a PatchOp request (RFC 7644 section 3.5.2), checked by SCIMMY's PatchOp and
 * straightened for what Entra ID sends: capitalised op names pass as they are (SCIMMY reads them
 * case-insensitively, Haven lower-cases them), and text booleans become booleans, in a value with
 * a path or in the attributes of a value without one.
 */
export function patchOperations(body: unknown): PatchOperation[] {
  const request = bodyObject(body);
  let message: InstanceType<typeof SCIMMY.Messages.PatchOp>;
  try {
    message = new SCIMMY.Messages.PatchOp(request as never);
  } catch (error) {
    if (isScimError(error)) throw error;
    throw scimError(400, 'invalidSyntax', 'The request body is not a PatchOp message');
  }
  return (message.Operations as PatchOperation[]).map((raw) => {
    const op = raw.op.toLowerCase();
    if (raw.path === undefined) {
      if (!raw.value || typeof raw.value !== 'object' || Array.isArray(raw.value))
        throw scimError(
          400,
          'invalidValue',
          `A '${raw.op}' operation without a path needs an object value`,
        );
      return { op, value: straightenValue(raw.value, false) };
    }
    return {
      op,
      path: raw.path,
      ...(raw.value !== undefined
        ? { value: straightenValue(raw.value, isBooleanPath(raw.path)) }
        : {}),
    };
  });
}

/**
 * Splits the attributes of a path-less operation: those `take` wants become operations with
 * their own path (RFC 7644 reads them so); the rest stay in one path-less operation, if any.
 */
export function splitPathless(
  operation: PatchOperation,
  take: (attribute: string) => boolean,
): { taken: PatchOperation[]; rest: PatchOperation | undefined } {
  if (operation.path !== undefined) return { taken: [], rest: operation };
  const taken: PatchOperation[] = [];
  const kept: Record<string, unknown> = {};
  for (const [attribute, value] of Object.entries(operation.value as object)) {
    if (take(attribute)) taken.push({ op: operation.op, path: attribute, value });
    else kept[attribute] = value;
  }
  const rest = Object.keys(kept).length > 0 ? { op: operation.op, value: kept } : undefined;
  return { taken, rest };
}

/** The root attribute a path names ("members" of `members[value eq "x"]`), lower-case. */
export function rootAttribute(path: string): string {
  return attributePath(path).split(/[.[]/)[0] ?? '';
}

/** A path into an extension schema (the enterprise User's department, say). */
export function extensionOf(path: string): string | undefined {
  const lower = path.toLowerCase();
  const enterprise = schemaIds.enterpriseUser.toLowerCase();
  return lower === enterprise || lower.startsWith(`${enterprise}:`) ? enterprise : undefined;
}

/** Whether a schema declares the attribute a path names (value filters aside). */
function declares(definition: { attribute(name: string): unknown }, path: string): boolean {
  try {
    definition.attribute(path.replace(/\[[^\]]*\]/g, ''));
    return true;
  } catch {
    return false;
  }
}

/** Whether the enterprise User extension declares the attribute a path names (after its URN). */
export function enterpriseDeclares(path: string): boolean {
  const rest = path.slice(schemaIds.enterpriseUser.length + 1);
  return rest === '' || declares(SCIMMY.Schemas.EnterpriseUser.definition, rest);
}

/** Whether the core User schema declares the attribute a path names. */
export function userDeclares(path: string): boolean {
  return declares(SCIMMY.Schemas.User.definition, path);
}

/** Runs SCIMMY's schema coercion or PatchOp, turning its plain errors into SCIM ones. */
export async function underScimmy<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isScimError(error) || error instanceof HavenError) throw error;
    if (error instanceof TypeError)
      throw scimError(400, 'invalidValue', error.message.replace(/ in .*instance$/, ''));
    throw error;
  }
}
