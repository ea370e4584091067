/**
 * The school-day clock of a transfer. Keeping Children Safe in Education asks for the file within
 * five school days of the move: the day the transfer is sent does not count, nor does a Saturday,
 * a Sunday or a day of one of the sending school's holidays.
 */

import { londonDate } from '../../lib/london-time.ts';

/** A holiday: both days included, "YYYY-MM-DD". */
export interface Holiday {
  startsOn: string;
  endsOn: string;
}

/**
 * The day, "YYYY-MM-DD", of an instant or a day, as the school's calendar reads it (Europe/London):
 * a file sent at 00:30 BST on a Monday was sent on the Monday, not on UTC's Sunday.
 */
export function dayOf(at: string): string {
  return londonDate(new Date(at));
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A weekday outside every holiday. */
export function isSchoolDay(day: string, holidays: readonly Holiday[]): boolean {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !holidays.some((h) => h.startsOn <= day && day <= h.endsOn);
}

/** The `count`th school day after `from` ("YYYY-MM-DD"; `from` itself never counts). */
export function addSchoolDays(from: string, count: number, holidays: readonly Holiday[]): string {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError('count must be a whole number above 0');
  let day = from;
  let left = count;
  // A holiday longer than a year is a mistake in the calendar; the clock still ends.
  for (let guard = 0; left > 0 && guard < 3660; guard++) {
    day = nextDay(day);
    if (isSchoolDay(day, holidays)) left--;
  }
  return day;
}

/** The days a transfer has from the day it is sent. */
export const TRANSFER_SCHOOL_DAYS = 5;
