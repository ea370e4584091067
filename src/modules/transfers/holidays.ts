import { z } from 'zod';
import { requirePermission } from '../../access/decide.ts';
import type { Caller } from '../../access/readers.ts';
import type { Database } from '../../db/database.ts';
import type { SchoolHolidaysTable } from '../../db/tables.ts';
import { invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { id, idParams } from '../../lib/schemas.ts';
import { noContent } from '../../server/contracts.ts';
import { type HavenApp, originOf } from '../../server/http.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { callerOf } from '../incidents/routes.ts';
import { findSchool } from '../organisations/repository.ts';
import type { Holiday } from './school-days.ts';

/**
 * A school's holidays (`/schools/:id/holidays`): the days the five-school-day clock of a transfer
 * sent from the school skips. Kept by an Admin (or above) at the school (`settings.manage`).
 */

export interface HolidayView {
  id: string;
  startsOn: string;
  endsOn: string;
  name: string;
}

const present = (r: SchoolHolidaysTable): HolidayView => ({
  id: r.id,
  startsOn: r.starts_on,
  endsOn: r.ends_on,
  name: r.name,
});

/** The school's holidays as the clock takes them (the school is the caller's to name). */
export async function holidaysOf(
  db: Database['db'],
  organisationId: string,
  schoolId: string,
): Promise<Holiday[]> {
  const rows = await db
    .selectFrom('school_holidays')
    .select(['starts_on', 'ends_on'])
    .where('organisation_id', '=', organisationId)
    .where('school_id', '=', schoolId)
    .execute();
  return rows.map((r) => ({ startsOn: r.starts_on, endsOn: r.ends_on }));
}

export class HolidayService {
  constructor(private readonly database: Database) {}

  async #school(caller: Caller, schoolId: string) {
    const { principal } = caller;
    const school = await findSchool(this.database.db, principal.organisationId, schoolId);
    if (!school) throw notFound('School');
    requirePermission(principal, 'settings.manage', { type: 'school', id: schoolId });
  }

  async list(caller: Caller, schoolId: string): Promise<HolidayView[]> {
    await this.#school(caller, schoolId);
    const rows = await this.database.db
      .selectFrom('school_holidays')
      .selectAll()
      .where('organisation_id', '=', caller.principal.organisationId)
      .where('school_id', '=', schoolId)
      .orderBy('starts_on')
      .orderBy('id')
      .execute();
    return rows.map(present);
  }

  async add(
    caller: Caller,
    schoolId: string,
    input: { startsOn: string; endsOn: string; name: string },
    origin: ChangeOrigin,
  ): Promise<HolidayView> {
    await this.#school(caller, schoolId);
    if (input.endsOn < input.startsOn) throw invalidField('endsOn', 'must not be before startsOn');
    return runChange(this.database, origin, async (change) => {
      const row: SchoolHolidaysTable = {
        id: newId(),
        organisation_id: caller.principal.organisationId,
        school_id: schoolId,
        starts_on: input.startsOn,
        ends_on: input.endsOn,
        name: input.name,
        created_by: caller.principal.userId,
        created_at: change.now,
      };
      await change.db.insertInto('school_holidays').values(row).execute();
      change.record({
        action: 'school.holiday.add',
        targetType: 'school',
        targetId: schoolId,
        after: { id: row.id, startsOn: row.starts_on, endsOn: row.ends_on, name: row.name },
      });
      return present(row);
    });
  }

  async remove(
    caller: Caller,
    schoolId: string,
    holidayId: string,
    origin: ChangeOrigin,
  ): Promise<void> {
    await this.#school(caller, schoolId);
    await runChange(this.database, origin, async (change) => {
      const row = await change.db
        .selectFrom('school_holidays')
        .selectAll()
        .where('id', '=', holidayId)
        .where('organisation_id', '=', caller.principal.organisationId)
        .where('school_id', '=', schoolId)
        .executeTakeFirst();
      if (!row) throw notFound('Holiday');
      await change.db.deleteFrom('school_holidays').where('id', '=', holidayId).execute();
      change.record({
        action: 'school.holiday.remove',
        targetType: 'school',
        targetId: schoolId,
        before: present(row),
      });
    });
  }
}

const holiday = z.object({
  id: z.string(),
  startsOn: z.string(),
  endsOn: z.string(),
  name: z.string(),
});

export function holidayRoutes(app: HavenApp, holidays: HolidayService) {
  app.get('/api/v1/schools/:id/holidays', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['transfers'],
      summary: "The school's holidays, which a transfer's school-day clock skips",
      description: 'Admin (or above) at the school; 404 for a school not of the organisation.',
      params: idParams,
      response: { 200: z.object({ items: z.array(holiday) }) },
    },
    handler: async (request) => ({
      items: await holidays.list(callerOf(request), request.params.id),
    }),
  });

  app.post('/api/v1/schools/:id/holidays', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['transfers'],
      summary: 'Add a holiday (both days included)',
      params: idParams,
      body: z
        .object({
          startsOn: z.iso.date(),
          endsOn: z.iso.date(),
          name: z.string().trim().min(1).max(200),
        })
        .strict(),
      response: { 201: holiday },
    },
    handler: async (request, reply) => {
      const made = await holidays.add(
        callerOf(request),
        request.params.id,
        request.body,
        originOf(request),
      );
      return reply.status(201).send(made);
    },
  });

  app.delete('/api/v1/schools/:id/holidays/:holidayId', {
    config: { access: { permission: 'settings.manage' } },
    schema: {
      tags: ['transfers'],
      summary: 'Remove a holiday',
      params: z.object({ id, holidayId: id }),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await holidays.remove(
        callerOf(request),
        request.params.id,
        request.params.holidayId,
        originOf(request),
      );
      return reply.code(204).send();
    },
  });
}
