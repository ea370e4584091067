/**
 * Where a roster comes from. A `RosterSource` hands Haven a school system's schools, pupils,
 * staff and enrolments, each with its source id, status and last change, in the source's own
 * words; `sync.ts` matches and writes them. A OneRoster 1.2 CSV bundle is one (`oneroster.ts`);
 * a scheduled source (a OneRoster 1.2 REST endpoint, polled by the worker) would be another,
 * yielding the same records page by page.
 */

/** Where a record came from, to name it in a problem: "users.csv, row 14". */
export interface SourceRef {
  file: string;
  line: number;
}

/** `tobedeleted`: the source has removed it (a child leaving, a teacher gone). */
export type RosterStatus = 'active' | 'tobedeleted';

interface RosterRecord {
  sourcedId: string;
  status: RosterStatus;
  /** ISO 8601, when the source last changed it; absent when the source does not say. */
  dateLastModified?: string | undefined;
  ref: SourceRef;
}

export interface RosterSchool extends RosterRecord {
  name: string;
  /** The identifier the source gives (a URN, a DfE number, or Haven's school id). */
  identifier?: string | undefined;
}

export interface RosterPerson extends RosterRecord {
  givenName: string;
  familyName: string;
  preferredGivenName?: string | undefined;
  preferredFamilyName?: string | undefined;
  /** The source ids of the schools the person is at. */
  schoolSourcedIds: string[];
}

export interface RosterStudent extends RosterPerson {
  /** As the source writes it; read as a UPN. */
  upn?: string | undefined;
  /** As the source writes it; read as a UK date. */
  birthDate?: string | undefined;
  /** As the source writes it ("Y9", "Year 9", "R"); read as a year group. */
  yearGroup?: string | undefined;
}

export interface RosterStaffMember extends RosterPerson {
  email?: string | undefined;
  role: string;
}

export interface RosterEnrolment extends RosterRecord {
  userSourcedId: string;
  classSourcedId: string;
  schoolSourcedId: string;
  role: string;
}

export interface RosterSource {
  /** What the source is, in words ("OneRoster 1.2 CSV bundle"). */
  readonly description: string;
  schools(): AsyncIterable<RosterSchool>;
  students(): AsyncIterable<RosterStudent>;
  staff(): AsyncIterable<RosterStaffMember>;
  enrolments(): AsyncIterable<RosterEnrolment>;
  /** Problems found reading the source itself (a row without a sourcedId, a bad status). */
  readonly problems: readonly { ref: SourceRef; column: string; message: string }[];
  /** What the source holds that Haven does not use: files, and columns as "file: column". */
  readonly ignored: readonly string[];
  /** Things a school should know about how the source was read. */
  readonly notes: readonly string[];
}
