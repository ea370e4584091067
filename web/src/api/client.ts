/**
 * The one way the web app talks to Haven: same-origin JSON with the session cookie, and the
 * session's CSRF token on every change. Errors arrive as problem+json and become `ApiError`.
 */
import type { components } from './schema';

/**
 * problem+json as the OpenAPI document describes it (`errors`: with 400 `validation_failed`, one
 * entry per bad field). Only `status` and `code` are sure: the client makes up problems of its
 * own (no connection, a body that is not JSON).
 */
export type Problem = Partial<components['schemas']['Problem']> &
  Pick<components['schemas']['Problem'], 'status' | 'code'>;

/** `Retry-After` as seconds from now (it may be a number of seconds or an HTTP date). */
function retryAfterSeconds(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `Request failed (${problem.status})`);
  }
  get status() {
    return this.problem.status;
  }
  get code() {
    return this.problem.code;
  }
  /** How long to wait before asking again, from the answer's `Retry-After` (429, 503). */
  get retryAfterSeconds(): number | null {
    const seconds = this.problem.retryAfterSeconds;
    return typeof seconds === 'number' ? seconds : null;
  }
  /** The message for one field, if the server named it. */
  fieldMessage(field: string): string | undefined {
    const hit = this.problem.errors?.find((e) => e.field === field);
    return hit?.message;
  }
}

let csrfToken: string | null = null;
const unauthorisedListeners = new Set<() => void>();
const enrolmentListeners = new Set<() => void>();

export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** Called when any request answers 401: the session has ended. */
export function onUnauthorised(listener: () => void): () => void {
  unauthorisedListeners.add(listener);
  return () => unauthorisedListeners.delete(listener);
}

/**
 * Called when a request is refused with `mfa_enrolment_required`: a school now asks this user to
 * enrol two-factor sign-in before anything else (the setting may change during a session).
 */
export function onEnrolmentRequired(listener: () => void): () => void {
  enrolmentListeners.add(listener);
  return () => enrolmentListeners.delete(listener);
}

/**
 * Requests whose 401 is about the password or code they carry, not about the session: a wrong
 * current password or two-factor code must not sign the page out.
 */
const credentialChecks = new Set([
  '/auth/login',
  '/me',
  '/me/password',
  '/auth/accept-invitation',
  '/auth/password-reset/confirm',
]);

function endsSession(path: string, code: string): boolean {
  return code !== 'invalid_code' && code !== 'totp_required' && !credentialChecks.has(path);
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Raw bytes (document uploads); sent with its own content type. */
  raw?: Blob;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}) {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (options.raw) {
    body = options.raw;
    headers['content-type'] = options.raw.type || 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(`/api/v1${path}`, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError({
      status: 0,
      code: 'network_error',
      title: 'No connection',
      detail: 'Haven could not be reached. Check the connection and try again.',
    });
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  const payload = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const problem: Problem =
      typeof payload === 'object' && payload !== null
        ? (payload as Problem)
        : { status: response.status, code: 'error', detail: String(payload) };
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
    if (retryAfter !== null) problem.retryAfterSeconds = retryAfter;
    if (response.status === 401 && endsSession(path, problem.code)) {
      for (const listener of unauthorisedListeners) listener();
    }
    if (problem.code === 'mfa_enrolment_required') {
      for (const listener of enrolmentListeners) listener();
    }
    throw new ApiError({ ...problem, status: response.status });
  }
  return payload as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body: body ?? {} }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  delete: <T = void>(path: string) => request<T>('DELETE', path),
  upload: <T>(path: string, file: Blob, query?: Query) =>
    request<T>('POST', path, { raw: file, query }),
};

/**
 * A large upload (a CSV import) with progress: fetch cannot report bytes sent, so this one request
 * goes through XMLHttpRequest, with the same headers and error handling as `request`.
 */
export function sendWithProgress<T>(
  method: string,
  path: string,
  body: Blob | string,
  contentType: string,
  onProgress: (sent: number, total: number) => void,
  query?: Query,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, withQuery(`/api/v1${path}`, query));
    xhr.setRequestHeader('content-type', contentType);
    xhr.setRequestHeader('accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onerror = () =>
      reject(
        new ApiError({
          status: 0,
          code: 'network_error',
          title: 'No connection',
          detail: 'Haven could not be reached. Check the connection and try again.',
        }),
      );
    xhr.onload = () => {
      let payload: unknown = xhr.responseText;
      try {
        payload = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: keep the text.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(payload as T);
        return;
      }
      if (xhr.status === 401) for (const listener of unauthorisedListeners) listener();
      const problem =
        typeof payload === 'object' && payload !== null
          ? (payload as Problem)
          : { status: xhr.status, code: 'error', detail: String(payload) };
      reject(new ApiError({ ...problem, status: xhr.status }));
    };
    xhr.send(body);
  });
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
