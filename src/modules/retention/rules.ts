import { type RawBuilder, sql } from 'kysely';
import type { Engine } from '../../db/database.ts';

/**
 * How long a record is kept (issue 16, item 4), by its category's sensitivity, now or in any
 * earlier version it still holds (child protection first, then allegation):
 *  - child protection: until the 25th birthday of the youngest child any version names; when a child's
 *    date of birth is unknown (or the child is not on roll), 25 years from the record's date,
 *    which is never earlier than any child's 25th birthday;
 *  - allegation: the later of the subject's retirement age (the organisation's setting) and ten
 *    years from the allegation; until a DSL records the subject's date of birth, ten years, and
 *    the record cannot be destroyed (`subject_birth_date_unknown`) until they do;
 *  - every other record: the school's `retentionYears` from the record's date.
 * A DSL may keep a record longer (`extend`): the later of the rule's day and theirs holds.
 *
 * The day is worked out in SQL from what is stored now (a child's corrected date of birth moves
 * it at once), by the one expression the queue filters on and a record's page shows. Days are
 * "YYYY-MM-DD" text on both engines, compared as text; a 29 February plus years that land on no
 * leap year is 1 March, so the record is due on 1 March and every day shown is a real one.
 */

export const retentionRules = [
  'child_protection_25th_birthday',
  'child_protection_birth_date_unknown',
  'allegation_retirement_age',
  'allegation_ten_years',
  'allegation_subject_birth_date_unknown',
  'school_retention_years',
] as const;
export type RetentionRule = (typeof retentionRules)[number];

export interface RetentionSettings {
  /** The school's period for records that are neither child protection nor allegations. */
  retentionYears: number;
  /** The organisation's normal retirement age, for allegations (`organisationSettings`). */
  retirementAge: number;
}

/** The UTC day of a stored time. */
function dayOf(engine: Engine, time: RawBuilder<string>): RawBuilder<string> {
  return engine === 'postgres'
    ? sql<string>`to_char(${time} at time zone 'UTC', 'YYYY-MM-DD')`
    : sql<string>`substr(${time}, 1, 10)`;
}

/**
 * A "YYYY-MM-DD" day so many years on (null stays null). A 29 February that lands on a year
 * without one becomes 1 March, the day such a birthday is reached: every day it gives exists.
 */
function plusYears(day: RawBuilder<string>, years: number): RawBuilder<string> {
  const year = sql<number>`(cast(substr(${day}, 1, 4) as integer) + cast(${years} as integer))`;
  const leap = sql`(${year} % 4 = 0 and (${year} % 100 <> 0 or ${year} % 400 = 0))`;
  return sql<string>`(cast(${year} as text) || case when substr(${day}, 6, 5) = '02-29' and not ${leap} then '-03-01' else substr(${day}, 5, 6) end)`;
}

export interface RetentionColumns {
  /** The day the rule alone keeps the record to. */
  ruleDay: RawBuilder<string>;
  rule: RawBuilder<RetentionRule>;
  /** The day it is kept to: the later of the rule's and a DSL's extension. */
  retainUntil: RawBuilder<string>;
}

/** The retention of `incidents as i`, as columns of any query over it. */
export function retentionColumns(engine: Engine, settings: RetentionSettings): RetentionColumns {
  const occurred = dayOf(engine, sql<string>`i.occurred_at`);
  // Every version the record still holds counts: one lowered from child protection (or from an
  // allegation) keeps that version, and so its period, until it is destroyed; a child taken off
  // it is still named in the versions before.
  const held = (sensitivity: 'child_protection' | 'allegation') =>
    sql`(i.sensitivity = ${sensitivity} or exists (select 1 from incident_revisions hr where hr.incident_id = i.id and hr.sensitivity = ${sensitivity}))`;
  const named = sql`(select f.student_id from incident_students f where f.incident_id = i.id union select rf.student_id from incident_revision_students rf where rf.incident_id = i.id)`;
  const youngest = sql<string>`(select max(s.date_of_birth) from students s where s.id in ${named})`;
  const childUnknown = sql`(i.unlisted_child is not null or not exists ${named} or exists (select 1 from students s where s.id in ${named} and s.date_of_birth is null))`;
  const tenYears = plusYears(occurred, 10);
  const retirement = plusYears(sql<string>`i.subject_born_on`, settings.retirementAge);
  const retires = sql`(i.subject_born_on is not null and ${retirement} > ${tenYears})`;
  const ruleDay = sql<string>`(case
    when ${held('child_protection')} then
      case when ${childUnknown} then ${plusYears(occurred, 25)} else ${plusYears(youngest, 25)} end
    when ${held('allegation')} then
      case when ${retires} then ${retirement} else ${tenYears} end
    else ${plusYears(occurred, settings.retentionYears)} end)`;
  const rule = sql<RetentionRule>`(case
    when ${held('child_protection')} then
      case when ${childUnknown} then 'child_protection_birth_date_unknown' else 'child_protection_25th_birthday' end
    when ${held('allegation')} then
      case when i.subject_born_on is null then 'allegation_subject_birth_date_unknown'
        when ${retires} then 'allegation_retirement_age' else 'allegation_ten_years' end
    else 'school_retention_years' end)`;
  const retainUntil = sql<string>`(case when i.retain_extended_to is not null and i.retain_extended_to > ${ruleDay} then i.retain_extended_to else ${ruleDay} end)`;
  return { ruleDay, rule, retainUntil };
}
