import { describe, expect, it } from 'vitest';
import { createUser, grantRole, setupOrganisation } from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';

describe('two organisations side by side', () => {
  const haven = useHaven();

  it('never lets one read, list or write the other (404), and leaves the other untouched', async () => {
    const h = haven();
    const oak = await setupOrganisation(h, { organisation: 'Oak Trust', school: 'Oak Primary' });
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });

    const oakUser = await createUser(h, oak.ownerToken, { name: 'Oak Teacher' });
    const oakGrant = await grantRole(
      h,
      oak.ownerToken,
      { type: 'user', id: oakUser.id },
      'viewer',
      {
        type: 'school',
        id: oak.schoolId,
      },
    );
    const oakHub = (
      await h.post('/api/v1/school-groups', oak.ownerToken, {
        name: 'Oak Hub',
        schoolIds: [oak.schoolId],
      })
    ).body.id;
    const elmUser = await createUser(h, elm.ownerToken, { name: 'Elm Teacher' });
    const t = elm.ownerToken;

    const attempts = [
      await h.get(`/api/v1/users/${oakUser.id}`, t),
      await h.patch(`/api/v1/users/${oakUser.id}`, t, { name: 'Stolen' }),
      await h.patch(`/api/v1/users/${oakUser.id}`, t, { disabled: true }),
      await h.delete(`/api/v1/users/${oakUser.id}`, t),
      await h.get(`/api/v1/schools/${oak.schoolId}`, t),
      await h.patch(`/api/v1/schools/${oak.schoolId}`, t, { name: 'Stolen' }),
      await h.get(`/api/v1/school-groups/${oakHub}`, t),
      await h.patch(`/api/v1/school-groups/${oakHub}`, t, { name: 'Stolen' }),
      await h.delete(`/api/v1/school-groups/${oakHub}`, t),
      await h.post('/api/v1/school-groups', t, {
        name: 'Mixed',
        schoolIds: [elm.schoolId, oak.schoolId],
      }),
      await h.post('/api/v1/role-grants', t, {
        subject: { type: 'user', id: oakUser.id },
        role: 'viewer',
        scope: { type: 'organisation', id: elm.organisationId },
      }),
      await h.post('/api/v1/role-grants', t, {
        subject: { type: 'user', id: elmUser.id },
        role: 'viewer',
        scope: { type: 'school', id: oak.schoolId },
      }),
      await h.post('/api/v1/role-grants', t, {
        subject: { type: 'user', id: elmUser.id },
        role: 'viewer',
        scope: { type: 'organisation', id: oak.organisationId },
      }),
      await h.post('/api/v1/role-grants', t, {
        subject: { type: 'user', id: elmUser.id },
        role: 'viewer',
        scope: { type: 'school_group', id: oakHub },
      }),
      await h.delete(`/api/v1/role-grants/${oakGrant}`, t),
    ];
    for (const reply of attempts) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(404);
      expect(reply.body.code).toBe('not_found');
    }

    const lists = [
      await h.get('/api/v1/users', t, { limit: 200 }),
      await h.get('/api/v1/users', t, { q: 'Oak' }),
      await h.get('/api/v1/schools', t),
      await h.get('/api/v1/school-groups', t),
      await h.get('/api/v1/role-grants', t),
      await h.get('/api/v1/role-grants', t, { userId: oakUser.id }),
      await h.get('/api/v1/audit-log', t, { limit: 200 }),
      await h.get('/api/v1/audit-log', t, { targetId: oakUser.id }),
    ];
    const oakIds = [oakUser.id, oak.ownerId, oak.schoolId, oak.organisationId, oakHub, oakGrant];
    for (const list of lists) {
      expect(list.status).toBe(200);
      const text = JSON.stringify(list.body.items);
      for (const id of oakIds) expect(text).not.toContain(id);
    }
    expect((await h.get('/api/v1/users', t, { q: 'Oak' })).body.items).toEqual([]);

    const oakView = await h.get(`/api/v1/users/${oakUser.id}`, oak.ownerToken);
    expect(oakView.body).toMatchObject({ name: 'Oak Teacher', status: 'active' });
    expect((await h.get(`/api/v1/schools/${oak.schoolId}`, oak.ownerToken)).body.name).toBe(
      'Oak Primary',
    );
    expect((await h.get(`/api/v1/school-groups/${oakHub}`, oak.ownerToken)).body.name).toBe(
      'Oak Hub',
    );
    expect(
      (await h.get('/api/v1/role-grants', oak.ownerToken, { userId: oakUser.id })).body.items,
    ).toHaveLength(1);
  });

  it("keeps each organisation's audit log to itself", async () => {
    const h = haven();
    const oak = await setupOrganisation(h, { organisation: 'Oak Trust' });
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust' });
    await h.patch('/api/v1/organisation', oak.ownerToken, { name: 'Oak Learning Trust' });
    const elmLog = await h.get('/api/v1/audit-log', elm.ownerToken, { limit: 200 });
    expect(elmLog.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(elmLog.body)).not.toContain('Oak Learning Trust');
    const oakLog = await h.get('/api/v1/audit-log', oak.ownerToken, {
      action: 'organisation.update',
    });
    expect(oakLog.body.items).toHaveLength(1);
    expect(oakLog.body.items[0].after).toEqual({ name: 'Oak Learning Trust' });
  });
});
