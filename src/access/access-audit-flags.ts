/**
 * The Access Audit Report's flags, and each in words. Free of imports: the server (CSV, PDF) and
 * the web app (`web/src/reports`) both read this one file.
 */

export const accessAuditFlags = [
  /** In no user group. */
  'no_user_group',
  /** Holds DSL or Deputy DSL in the scope but reaches no child there. */
  'dsl_reaches_no_child',
  /** Holds a clearance without two-factor sign-in enrolled. */
  'clearance_without_two_factor',
  /** In a user group linked to an "All students" group. */
  'all_students_link',
  /** No sign-in for 90 days (or never, for an account older than 90 days). */
  'dormant',
  /** An Owner of an organisation with more than two Owners. */
  'more_than_two_owners',
] as const;
export type AccessAuditFlag = (typeof accessAuditFlags)[number];

/** Each flag in words: a short label, and what it means for the reader (CSV, PDF and the web app). */
export const flagWords = {
  no_user_group: {
    label: 'No user group',
    meaning:
      'Belongs to no user group: what they reach comes from roles and one-by-one links alone, outside any group a review looks at.',
  },
  dsl_reaches_no_child: {
    label: 'DSL reaching no child',
    meaning:
      'Holds DSL or Deputy DSL here but can see no child here: the role is unused, or a link to the children is missing.',
  },
  clearance_without_two_factor: {
    label: 'Clearance without two-factor',
    meaning:
      'Holds a clearance for child-protection or allegation records but has not enrolled two-factor sign-in.',
  },
  all_students_link: {
    label: 'Linked to all students',
    meaning:
      'In a user group linked to an "All students" group: sees every child of that school, now and as they join.',
  },
  dormant: {
    label: 'Dormant',
    meaning:
      'Has not signed in for 90 days (or ever, on an account older than that) but still holds access.',
  },
  more_than_two_owners: {
    label: 'One of more than two Owners',
    meaning:
      'An Owner of an organisation with more than two: each Owner reaches everything, so keep the number small.',
  },
} as const satisfies Record<AccessAuditFlag, { label: string; meaning: string }>;
