import { z } from 'zod';
import { grantableRoles } from '../access/roles.ts';
import { scopeTypes } from '../access/scopes.ts';

/** Shared zod building blocks, so every route validates the same things the same way. */
export const id = z.string().min(1).max(64);
export const idParams = z.object({ id });
export const name = z.string().trim().min(1).max(200);
export const email = z.email().max(254);
export const isoTime = z.iso.datetime({ offset: true });
export const roleName = z.enum(grantableRoles);
export const scope = z.object({ type: z.enum(scopeTypes), id });

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    code: z.string(),
    detail: z.string(),
  })
  .loose();
