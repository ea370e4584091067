import { describe, expect, it } from 'vitest';
import {
  blockStudent,
  createStudent,
  createUser,
  setupOrganisation,
} from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';

// What the administration pages read besides the fixed core: names on blocks, school settings.
describe('administration lists', () => {
  const haven = useHaven();

  it('names the member of staff and the child on each block', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const staff = await createUser(h, org.ownerToken, { name: 'Vic Viewer' });
    const studentId = await createStudent(h, org.ownerToken, {
      schoolId: org.schoolId,
      givenName: 'Amy',
      familyName: 'Ash',
    });
    await blockStudent(h, org.ownerToken, staff.id, studentId, 'Family member');
    const reply = await h.get('/api/v1/blocks', org.ownerToken);
    expect(reply.status).toBe(200);
    expect(reply.body.items).toEqual([
      expect.objectContaining({
        userId: staff.id,
        studentId,
        reason: 'Family member',
        userName: 'Vic Viewer',
        studentName: 'Amy Ash',
      }),
    ]);
  });

  it("shows each school's two-factor rule for sensitive records, on by default", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const settings = async () =>
      (await h.get('/api/v1/schools', org.ownerToken)).body.items.map(
        (s: { settings: unknown }) => s.settings,
      );
    // `setupOrganisation` turned two-factor enrolment off; the rest are the defaults.
    const defaults = { requireMfaEnrolment: false, digestTime: '16:00', retentionYears: 6 };
    expect(await settings()).toEqual([{ requireMfaForSensitive: true, ...defaults }]);
    const off = await h.patch(`/api/v1/schools/${org.schoolId}/settings`, org.ownerToken, {
      requireMfaForSensitive: false,
    });
    expect(off.status).toBe(200);
    expect(await settings()).toEqual([{ requireMfaForSensitive: false, ...defaults }]);
    const one = await h.get(`/api/v1/schools/${org.schoolId}`, org.ownerToken);
    expect(one.body.settings).toEqual({ requireMfaForSensitive: false, ...defaults });
  });
});
