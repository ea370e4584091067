/**
 * Column headings of the exports schools make from their management information system, and
 * Haven's own. A heading is compared without case, spaces or punctuation ("Legal Forename",
 * "legal_forename" and "LEGAL-FORENAME" are one). For each field the headings are listed best
 * first: where a file has two for one field (Arbor's "Legal First Name" and "First Name"), the
 * first listed is read and the other is reported as not used. docs/imports.md lists them.
 */

export function headingKey(heading: string): string {
  return heading
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

export const studentHeadings = {
  upn: ['upn', 'uniquepupilnumber', 'pupilupn', 'studentupn'],
  givenName: [
    'legalforename',
    'legalfirstname',
    'legalgivenname',
    'forename',
    'firstname',
    'givenname',
    'forenames',
  ],
  familyName: [
    'legalsurname',
    'legallastname',
    'legalfamilyname',
    'surname',
    'lastname',
    'familyname',
  ],
  preferredName: [
    'preferredforename',
    'preferredfirstname',
    'preferredgivenname',
    'preferredname',
    'knownas',
    'knownasforename',
    'chosenname',
  ],
  preferredSurname: [
    'preferredsurname',
    'preferredlastname',
    'preferredfamilyname',
    'knownassurname',
  ],
  dateOfBirth: ['dob', 'dateofbirth', 'birthdate', 'birthday'],
  yearGroup: [
    'yeargroup',
    'year',
    'ncyear',
    'ncyeargroup',
    'nationalcurriculumyear',
    'curriculumyear',
    'yr',
  ],
  house: ['house'],
  senStatus: ['senstatus', 'senprovision', 'sen', 'senneed', 'specialeducationalneeds'],
  flags: ['flags'],
  tags: ['tags'],
  onRoll: ['onroll'],
  school: ['school', 'schoolname'],
  schoolId: ['schoolid'],
} as const;

export type StudentColumn = keyof typeof studentHeadings;

export const staffHeadings = {
  email: [
    'workemail',
    'workemailaddress',
    'schoolemail',
    'schoolemailaddress',
    'email',
    'emailaddress',
    'mainemail',
  ],
  name: ['name', 'fullname', 'staffname', 'displayname'],
  // Staff are known by their preferred names; the legal ones fill in where a row has none.
  preferredGivenName: ['preferredforename', 'preferredfirstname', 'knownas'],
  givenName: ['legalforename', 'legalfirstname', 'forename', 'firstname', 'givenname'],
  preferredFamilyName: ['preferredsurname', 'preferredlastname', 'preferredfamilyname'],
  familyName: ['legalsurname', 'legallastname', 'surname', 'lastname', 'familyname'],
} as const;

export type StaffColumn = keyof typeof staffHeadings;

export interface HeadingMap<F extends string> {
  /** For each column of the file, the field it fills, or undefined when it is not used. */
  columns: (F | undefined)[];
  /** Where each field is read from: its column's index. */
  at: Partial<Record<F, number>>;
  /** The file's headings that fill nothing, in the file's order. */
  ignored: string[];
}

/** Which column fills which field; the best heading for a field wins, the rest are unused. */
export function mapHeadings<F extends string>(
  head: readonly string[],
  dictionary: Record<F, readonly string[]>,
): HeadingMap<F> {
  const keys = head.map(headingKey);
  const columns: (F | undefined)[] = head.map(() => undefined);
  const at: Partial<Record<F, number>> = {};
  for (const field of Object.keys(dictionary) as F[]) {
    for (const candidate of dictionary[field]) {
      const index = keys.findIndex((k, i) => k === candidate && columns[i] === undefined);
      if (index >= 0) {
        columns[index] = field;
        at[field] = index;
        break;
      }
    }
  }
  const ignored = head.filter((h, i) => columns[i] === undefined && h.trim() !== '');
  return { columns, at, ignored: ignored.map((h) => h.trim()) };
}
