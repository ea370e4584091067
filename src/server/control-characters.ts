import type { FastifyRequest } from 'fastify';
import { type FieldError, validationFailed } from '../lib/errors.ts';
import type { HavenApp } from './http.ts';

// C0 controls and DEL, except tab, line feed and carriage return, which are ordinary text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is this pattern's purpose
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function described(text: string): string {
  const found = CONTROL.exec(text)![0];
  return `contains a control character (U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * The first string in `value` holding a control character, with its field named as the zod
 * errors name it ("owner.email", "userIds.3"). Walked with a stack: a deeply nested body must
 * not overflow the call stack.
 */
function firstControl(value: unknown, root: string): FieldError | null {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [item, field] = stack.pop()!;
    if (typeof item === 'string') {
      if (CONTROL.test(item)) return { field: field || 'body', message: described(item) };
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--)
        stack.push([item[i], field ? `${field}.${i}` : String(i)]);
    } else if (item !== null && typeof item === 'object' && !Buffer.isBuffer(item)) {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        if (CONTROL.test(key))
          return { field: field || 'body', message: `has a name that ${described(key)}` };
        stack.push([child, field ? `${field}.${key}` : key]);
      }
    }
  }
  return null;
}

/**
 * Refuses NUL and the other C0 control characters in route parameters, the query string and the
 * body (JSON or CSV text) with 400 before validation: PostgreSQL cannot store NUL in text, and
 * SQLite would, so without this the engines would answer differently. Uploaded files arrive as
 * bytes (a Buffer) and are left alone.
 */
export function registerControlCharacterGuard(app: HavenApp) {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const found =
      firstControl(request.params, '') ??
      firstControl(request.query, '') ??
      firstControl(request.body, '');
    if (found) throw validationFailed([found]);
  });
}
