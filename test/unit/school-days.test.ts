import { describe, expect, it } from 'vitest';
import { addSchoolDays, isSchoolDay } from '../../src/modules/transfers/school-days.ts';

describe('the school-day clock', () => {
  it('counts five weekdays after the day sent, skipping the weekend', () => {
    // Monday 30 November 2026 -> Monday 7 December.
    expect(addSchoolDays('2026-11-30', 5, [])).toBe('2026-12-07');
    // Thursday -> the Thursday after, across one weekend.
    expect(addSchoolDays('2026-12-03', 5, [])).toBe('2026-12-10');
    // Sent on a Saturday: Monday is the first school day.
    expect(addSchoolDays('2026-12-05', 5, [])).toBe('2026-12-11');
    expect(addSchoolDays('2026-12-05', 1, [])).toBe('2026-12-07');
  });

  it('skips the school’s holidays, both ends included', () => {
    const halfTerm = [{ startsOn: '2026-12-08', endsOn: '2026-12-09' }];
    // Thursday 3rd: Fri 4, Mon 7, (Tue 8, Wed 9 off), Thu 10, Fri 11, Mon 14.
    expect(addSchoolDays('2026-12-03', 5, halfTerm)).toBe('2026-12-14');
    expect(isSchoolDay('2026-12-08', halfTerm)).toBe(false);
    expect(isSchoolDay('2026-12-10', halfTerm)).toBe(true);
    expect(isSchoolDay('2026-12-12', [])).toBe(false);
  });

  it('crosses a holiday that spans the year end', () => {
    const christmas = [{ startsOn: '2026-12-21', endsOn: '2027-01-01' }];
    // Friday 18 December: Mon 4, Tue 5, Wed 6, Thu 7, Fri 8 January 2027.
    expect(addSchoolDays('2026-12-18', 5, christmas)).toBe('2027-01-08');
  });

  it('refuses a count that is not a whole number above zero', () => {
    expect(() => addSchoolDays('2026-11-30', 0, [])).toThrow(RangeError);
  });
});
