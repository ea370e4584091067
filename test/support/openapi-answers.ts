import { createHash } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Every answer the integration suite receives through `TestHaven.request` is checked against the
 * OpenAPI document the app serves (issue 17, item 3): the status must be one the operation
 * declares (or fall under its `default`), the media type one it declares for that status, and a
 * JSON body (problem+json included) must validate against the declared schema with a standard
 * JSON Schema (2020-12) validator. A route that answers outside its contract fails the test that
 * met it.
 */

type Json = Record<string, unknown>;

interface Operation {
  responses: Record<string, Json>;
}

interface Template {
  path: string;
  pattern: RegExp;
  params: number;
}

const DOC_ID = 'haven-openapi';

class AnswerContract {
  readonly #doc: Json;
  readonly #ajv: Ajv2020;
  readonly #templates: Template[];
  readonly #validators = new Map<string, ValidateFunction>();

  constructor(doc: Json) {
    this.#doc = doc;
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(this.#ajv);
    this.#ajv.addSchema({ ...doc, $id: DOC_ID });
    this.#templates = Object.keys((doc.paths ?? {}) as Json)
      .map((path) => ({
        path,
        pattern: new RegExp(
          `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
        ),
        params: (path.match(/\{/g) ?? []).length,
      }))
      // A literal segment wins over a parameter: /students/export before /students/{id}.
      .sort((a, b) => a.params - b.params);
  }

  #operation(method: string, pathname: string): { path: string; op: Operation } | null {
    for (const t of this.#templates) {
      if (!t.pattern.test(pathname)) continue;
      const item = (this.#doc.paths as Record<string, Json>)[t.path]!;
      const op = item[method.toLowerCase()] as Operation | undefined;
      if (op) return { path: t.path, op };
    }
    return null;
  }

  #resolve(response: Json): Json {
    const ref = response.$ref;
    if (typeof ref !== 'string') return response;
    const name = ref.replace('#/components/responses/', '');
    return ((this.#doc.components as Json).responses as Record<string, Json>)[name]!;
  }

  #validator(pointer: string): ValidateFunction {
    let validate = this.#validators.get(pointer);
    if (!validate) {
      const found = this.#ajv.getSchema(`${DOC_ID}#${pointer}`);
      if (!found) throw new Error(`No schema at ${pointer} in the OpenAPI document`);
      validate = found;
      this.#validators.set(pointer, validate);
    }
    return validate;
  }

  /** What is wrong with one answer, or null when it keeps the contract. */
  problem(
    method: string,
    url: string,
    status: number,
    contentType: string | undefined,
    body: unknown,
  ): string | null {
    const pathname = url.split('?')[0]!;
    // The document itself is the one route it leaves out.
    if (
      !pathname.startsWith('/api/v1/') ||
      method === 'HEAD' ||
      pathname === '/api/v1/openapi.json'
    )
      return null;
    const found = this.#operation(method, pathname);
    // A path the app has no route for answers 404 from the not-found handler.
    if (!found) return status === 404 ? null : `${method} ${pathname}: no such operation`;
    const { path, op } = found;
    const declared = [String(status), `${String(status)[0]}XX`, 'default'].find(
      (s) => s in op.responses,
    );
    // `default` stands for the errors a route does not list, never for a success.
    if (!declared || (declared === 'default' && status < 400))
      return `${method} ${path} answered ${status}, which it does not declare`;
    const response = this.#resolve(op.responses[declared]!);
    const content = response.content as Record<string, Json> | undefined;
    const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!content || Object.keys(content).length === 0) {
      if (body === '' || body === undefined || body === null) return null;
      return `${method} ${path} answered ${status} with a body, where it declares none`;
    }
    // A declared range (`*/*` for a document of its own type, `image/*`) takes what it covers.
    const range = [media, `${media.split('/')[0]}/*`, '*/*'].find((m) => m in content);
    if (!range)
      return `${method} ${path} answered ${status} as ${media || 'no media type'}, declared: ${Object.keys(content).join(', ')}`;
    if (range !== media || !/json/.test(media)) return null;
    const pointerPart = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
    const pointer =
      typeof op.responses[declared]!.$ref === 'string'
        ? `/components/responses/${pointerPart(String(op.responses[declared]!.$ref).replace('#/components/responses/', ''))}/content/${pointerPart(media)}/schema`
        : `/paths/${pointerPart(path)}/${method.toLowerCase()}/responses/${pointerPart(declared)}/content/${pointerPart(media)}/schema`;
    const validate = this.#validator(pointer);
    if (validate(body)) return null;
    const errors = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '(body)'} ${e.message}`)
      .join('; ');
    return `${method} ${path} answered ${status} outside its schema: ${errors}`;
  }
}

const checkers = new Map<string, AnswerContract>();

/** The checker for this document (apps of one run serve the same document, so built once). */
export function answerContract(doc: Json): AnswerContract {
  const key = createHash('sha256').update(JSON.stringify(doc)).digest('hex');
  let checker = checkers.get(key);
  if (!checker) {
    checker = new AnswerContract(doc);
    checkers.set(key, checker);
  }
  return checker;
}
