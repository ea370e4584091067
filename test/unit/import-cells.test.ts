import { describe, expect, it } from 'vitest';
import { senStatus, ukDate, upnCell, yearGroup } from '../../src/modules/imports/cells.ts';
import { headingKey, mapHeadings, studentHeadings } from '../../src/modules/imports/headings.ts';

const today = new Date('2026-11-30T12:00:00Z');

describe('cells of an MIS export', () => {
  it.each([
    ['14/03/2016', '2016-03-14'],
    ['14-03-2016', '2016-03-14'],
    ['14.03.2016', '2016-03-14'],
    ['2016-03-14', '2016-03-14'],
    ['2016-03-14T00:00:00Z', '2016-03-14'],
    ['1/9/2015', '2015-09-01'],
    ['03/04/2016', '2016-04-03'],
    ['14 March 2016', '2016-03-14'],
    ['14 Mar 2016', '2016-03-14'],
    ['29/02/2016', '2016-02-29'],
    ['', null],
  ])('reads the date %s day first', (raw, iso) => {
    expect(ukDate(raw, 'date of birth', today)).toEqual({ ok: true, value: iso });
  });

  it.each([
    ['31/02/2016', 'the date of birth 31/02/2016 is not a real date'],
    ['29/02/2015', 'the date of birth 29/02/2015 is not a real date'],
    ['13/13/2016', 'the date of birth 13/13/2016 is not a real date'],
    [
      '14/03/16',
      'the date of birth 14/03/16 has a two-digit year: write it in full, e.g. 14/03/2016',
    ],
    ['01/12/2026', 'the date of birth 01/12/2026 is in the future'],
    ['last Tuesday', 'the date of birth last Tuesday is not a date (write it as 14/03/2016)'],
    ['14 Smarch 2016', 'the date of birth 14 Smarch 2016 is not a date (write it as 14/03/2016)'],
  ])('refuses the date %s in words', (raw, problem) => {
    expect(ukDate(raw, 'date of birth', today)).toEqual({ ok: false, problem });
  });

  it.each([
    ['9', 9],
    ['09', 9],
    ['Y9', 9],
    ['Yr 9', 9],
    ['Year 9', 9],
    ['year 10', 10],
    ['NC Year 11', 11],
    ['R', 0],
    ['Reception', 0],
    ['Year R', 0],
    ['N1', -1],
    ['Nursery', -1],
    ['', null],
  ])('reads the year group %s', (raw, year) => {
    expect(yearGroup(raw)).toEqual({ ok: true, value: year });
  });

  it.each(['Year 19', 'Y', 'Key Stage 3', '9A'])('refuses the year group %s', (raw) => {
    expect(yearGroup(raw).ok).toBe(false);
  });

  it.each([
    ['N', 'none'],
    ['', 'none'],
    ['No Special Educational Need', 'none'],
    ['K', 'K'],
    ['SEN Support', 'K'],
    ['E', 'E'],
    ['EHC Plan', 'E'],
    ['S', 'E'],
  ])('reads the SEN status %s', (raw, status) => {
    expect(senStatus(raw)).toEqual({ ok: true, value: status });
  });

  it('reads a UPN in either case and refuses what is not one', () => {
    expect(upnCell(' a999000000101 ')).toEqual({ ok: true, value: 'A999000000101' });
    expect(upnCell('A99900000010').ok).toBe(false);
  });
});

describe('headings', () => {
  it('compares without case, spaces or punctuation', () => {
    expect(headingKey('Legal Forename')).toBe(headingKey('legal_forename'));
    expect(headingKey('D.O.B.')).toBe('dob');
  });

  it('reads the best heading for a field and lists the others as not used', () => {
    const head = ['First Name', 'Legal First Name', 'Last Name', 'Reg Group', '', 'DOB'];
    const map = mapHeadings(head, studentHeadings);
    expect(map.at.givenName).toBe(1);
    expect(map.at.familyName).toBe(2);
    expect(map.at.dateOfBirth).toBe(5);
    expect(map.ignored).toEqual(['First Name', 'Reg Group']);
  });
});
