import { expect } from 'vitest';
import { createUser, type TestOrg, type TestUser } from './factories.ts';
import type { Reply, TestHaven } from './haven.ts';

/** A user group's permission sets (spec section 5), as the tests reach them through the API. */
export const sets = (groupId: string) => `/api/v1/user-groups/${groupId}/permission-sets`;

export async function expectStatus(reply: Promise<Reply> | Reply, status: number): Promise<Reply> {
  const done = await reply;
  expect(done.status, JSON.stringify(done.body)).toBe(status);
  return done;
}

export async function createSet(
  h: TestHaven,
  token: string,
  groupId: string,
  body: { name: string; permissions: string[]; assignees: { type: string; id: string }[] },
): Promise<string> {
  return (await expectStatus(h.post(sets(groupId), token, body), 201)).body.id;
}

/** A Viewer at the organisation's school: a real user of Haven who administers no group. */
export function staff(h: TestHaven, org: TestOrg, name: string): Promise<TestUser> {
  return createUser(h, org.ownerToken, {
    name,
    role: 'viewer',
    scope: { type: 'school', id: org.schoolId },
  });
}
