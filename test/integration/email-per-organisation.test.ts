import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHaven } from '../support/cli.ts';
import { createUser, grantRole, setupOrganisation, type TestOrg } from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

// Issue 11, finding 12: an address is unique within an organisation, not on the installation.

const OTHER_PASSWORD = 'willow-Lantern-93-quarry';
const SHARED = 'sam.shared@school.test';

/** A person in `org` with this email and password, holding Viewer there so they may sign in. */
async function addPerson(h: TestHaven, org: TestOrg, email: string, password: string) {
  const reply = await h.post('/api/v1/users', org.ownerToken, {
    email,
    name: 'Sam Shared',
    password,
  });
  expect(reply.status).toBe(201);
  await grantRole(h, org.ownerToken, { type: 'user', id: reply.body.id }, 'viewer', {
    type: 'organisation',
    id: org.organisationId,
  });
  return reply.body.id as string;
}

function signIn(h: TestHaven, body: Record<string, string>) {
  return h.post('/api/v1/auth/login', undefined, body);
}

describe('email addresses are unique within an organisation', () => {
  const haven = useHaven();

  it("another organisation's Admin adds an address already used elsewhere (201, nothing told); its own twice is 409", async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const elmAdmin = await createUser(h, elm.ownerToken, {
      role: 'admin',
      organisationId: elm.organisationId,
    });
    await addPerson(h, oak, SHARED, STRONG_PASSWORD);

    const created = await h.post('/api/v1/users', elmAdmin.token, {
      email: SHARED.toUpperCase(),
      name: 'Sam at Elm',
    });
    expect(created.status).toBe(201);
    expect(created.body.email).toBe(SHARED);
    const elmUsers = await h.get('/api/v1/users', elmAdmin.token, { q: 'sam.shared' });
    expect(elmUsers.body.items.map((u: { id: string }) => u.id)).toEqual([created.body.id]);

    const again = await h.post('/api/v1/users', elmAdmin.token, { email: SHARED, name: 'Twice' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('email_taken');
    const oakAgain = await h.post('/api/v1/users', oak.ownerToken, { email: SHARED, name: 'Dup' });
    expect(oakAgain.status).toBe(409);
  });

  it('each person signs in with their own password and lands in their own organisation', async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const atOak = await addPerson(h, oak, SHARED, STRONG_PASSWORD);
    const atElm = await addPerson(h, elm, SHARED, OTHER_PASSWORD);

    const oakSignIn = await signIn(h, { email: SHARED, password: STRONG_PASSWORD });
    expect(oakSignIn.status).toBe(200);
    expect(oakSignIn.body.user.id).toBe(atOak);
    expect(oakSignIn.body.user.organisation).toEqual({ id: oak.organisationId, name: 'Oak Trust' });

    const elmSignIn = await signIn(h, { email: SHARED.toUpperCase(), password: OTHER_PASSWORD });
    expect(elmSignIn.status).toBe(200);
    expect(elmSignIn.body.user.id).toBe(atElm);
    const me = await h.get('/api/v1/me', elmSignIn.body.token);
    expect(me.body.organisation.id).toBe(elm.organisationId);

    const wrong = await signIn(h, { email: SHARED, password: 'not-the-Right-one-55' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
    expect(wrong.body).not.toHaveProperty('organisations');
    // Naming an organisation does not open another's account with its password.
    const elsewhere = await signIn(h, {
      email: SHARED,
      password: STRONG_PASSWORD,
      organisationId: elm.organisationId,
    });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body.code).toBe('invalid_credentials');
  });

  it('one password for several accounts: 409 choose_organisation naming only those, then organisationId signs in there', async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const ash = await setupOrganisation(h, { organisation: 'Ash Trust', school: 'Ash Primary' });
    await addPerson(h, oak, SHARED, STRONG_PASSWORD);
    const atElm = await addPerson(h, elm, SHARED, STRONG_PASSWORD);
    await addPerson(h, ash, SHARED, OTHER_PASSWORD);

    const asked = await signIn(h, { email: SHARED, password: STRONG_PASSWORD });
    expect(asked.status).toBe(409);
    expect(asked.body.code).toBe('choose_organisation');
    expect(asked.body).not.toHaveProperty('token');
    expect(asked.body.organisations).toEqual([
      { id: elm.organisationId, name: 'Elm Trust' },
      { id: oak.organisationId, name: 'Oak Trust' },
    ]);
    expect(await countSessions(h)).toBe(3); // the three Owners' own

    const chosen = await signIn(h, {
      email: SHARED,
      password: STRONG_PASSWORD,
      organisationId: elm.organisationId,
    });
    expect(chosen.status).toBe(200);
    expect(chosen.body.user.id).toBe(atElm);
    expect(chosen.body.user.organisation).toEqual({ id: elm.organisationId, name: 'Elm Trust' });

    // The third account's own password still goes straight in.
    const ashSignIn = await signIn(h, { email: SHARED, password: OTHER_PASSWORD });
    expect(ashSignIn.status).toBe(200);
    expect(ashSignIn.body.user.organisation.id).toBe(ash.organisationId);
  });

  it('the throttle counts per email, whichever organisation is named', async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    await addPerson(h, oak, SHARED, STRONG_PASSWORD);
    await addPerson(h, elm, SHARED, OTHER_PASSWORD);

    for (let i = 0; i < 10; i++) {
      const wrong = await signIn(h, {
        email: SHARED,
        password: `wrong-password-${i}-xyz`,
        ...(i % 2 ? { organisationId: oak.organisationId } : {}),
      });
      expect(wrong.status).toBe(401);
    }
    const failures = await h.database.db
      .selectFrom('login_attempts')
      .select('outcome')
      .where('email', '=', SHARED)
      .execute();
    expect(failures.map((f) => f.outcome)).toEqual(Array(10).fill('failure'));
    for (const body of [
      { email: SHARED, password: STRONG_PASSWORD } as Record<string, string>,
      { email: SHARED, password: OTHER_PASSWORD, organisationId: elm.organisationId },
    ]) {
      const refused = await signIn(h, body);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('too_many_attempts');
    }
  });

  it('`haven users import` matches only addresses of its own organisation; `haven org create` checks none elsewhere', async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-emails-'));
    try {
      const csv = path.join(dir, 'users.csv');
      writeFileSync(
        csv,
        `email,name\n${oak.ownerEmail},Olive at Elm\nnew.person@school.test,New\n`,
      );
      const imported = await runHaven(h, [
        'users',
        'import',
        '--file',
        csv,
        '--org',
        elm.organisationId,
      ]);
      expect(imported).toMatchObject({ code: 0 });
      const again = await runHaven(h, [
        'users',
        'import',
        '--file',
        csv,
        '--org',
        elm.organisationId,
      ]);
      // Within Elm the address is now taken: the same file again finds both accounts (an
      // import updates a known address instead of adding it twice), and adds no one.
      expect(again).toMatchObject({ code: 0 });
      const atElm = await h.database.db
        .selectFrom('users')
        .select('email')
        .where('organisation_id', '=', elm.organisationId)
        .where('email', 'in', [oak.ownerEmail, 'new.person@school.test'])
        .execute();
      expect(atElm.map((u) => u.email).sort()).toEqual(
        [oak.ownerEmail, 'new.person@school.test'].sort(),
      );

      const password = path.join(dir, 'password');
      writeFileSync(password, OTHER_PASSWORD);
      const created = await runHaven(h, [
        'org',
        'create',
        '--name',
        'Ash Trust',
        '--school',
        'Ash Primary',
        '--owner-email',
        oak.ownerEmail,
        '--owner-name',
        'Olive at Ash',
        '--owner-password-file',
        password,
      ]);
      expect(created).toMatchObject({ code: 0 });
      const ashOwner = await signIn(h, { email: oak.ownerEmail, password: OTHER_PASSWORD });
      expect(ashOwner.status).toBe(200);
      expect(ashOwner.body.user.organisation.name).toBe('Ash Trust');
      // Oak's Owner signs in as before: the Elm account has no password, Ash's another one.
      const oakOwner = await signIn(h, { email: oak.ownerEmail, password: STRONG_PASSWORD });
      expect(oakOwner.status).toBe(200);
      expect(oakOwner.body.user.organisation.id).toBe(oak.organisationId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function countSessions(h: TestHaven): Promise<number> {
  const row = await h.database.db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
