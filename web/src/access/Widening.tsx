import { type ReactNode, useCallback, useRef, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import { Button, Dialog, ErrorMessage } from '../components/ui.tsx';
import { plural } from '../format.ts';
import './access.css';

/** A change that may let more people see a child-protection or allegation record. */
export type WideningChange =
  | {
      kind: 'incident_assignee';
      incidentId: string;
      assignee: { type: 'user' | 'user_group'; id: string };
    }
  | { kind: 'student_link'; userGroupId: string; studentGroupId?: string; studentId?: string }
  | { kind: 'group_members'; userGroupId: string; userIds: string[] }
  /** A whole user-group batch, tried together (a link and a clearance added at once). */
  | { kind: 'user_group_batch'; userGroupId: string; operations: unknown[] };

interface WideningPreview {
  sensitiveRecords: number;
  newViewers: number;
  examples: { id: string; name: string }[];
  /** Only part of a very large group was tried: the counts are a floor. */
  partial: boolean;
}

type Asking =
  | { state: 'idle' }
  | { state: 'widens'; preview: WideningPreview }
  | { state: 'unknown'; error: unknown };

/**
 * Before a change that widens who can see child-protection or allegation records: asks the
 * server how many more people would see them and, if any, asks the user to confirm.
 * `confirm` resolves true when the change may go ahead (nothing widens, or the user agreed).
 */
export function useWideningConfirm(): {
  confirm: (change: WideningChange) => Promise<boolean>;
  dialog: ReactNode;
} {
  const [asking, setAsking] = useState<Asking>({ state: 'idle' });
  const settle = useRef<((goAhead: boolean) => void) | null>(null);

  const answer = useCallback((goAhead: boolean) => {
    settle.current?.(goAhead);
    settle.current = null;
    setAsking({ state: 'idle' });
  }, []);

  const confirm = useCallback(async (change: WideningChange) => {
    let next: Asking;
    try {
      const preview = await api.post<WideningPreview>('/access/widening-preview', change);
      if (preview.newViewers === 0) return true;
      next = { state: 'widens', preview };
    } catch (error) {
      // A refused or invalid change will be refused again when made, with its own message.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) return true;
      next = { state: 'unknown', error };
    }
    settle.current?.(false);
    return new Promise<boolean>((resolve) => {
      settle.current = resolve;
      setAsking(next);
    });
  }, []);

  const title =
    asking.state === 'widens'
      ? `${asking.preview.partial ? 'At least ' : ''}${plural(asking.preview.newViewers, 'more person', 'more people')} will be able to see child-protection records about these children`
      : 'Haven could not check who else would see these records';

  const dialog = (
    <Dialog open={asking.state !== 'idle'} title={title} onClose={() => answer(false)}>
      {asking.state === 'widens' ? (
        <>
          <p>
            {plural(asking.preview.sensitiveRecords, 'child-protection or allegation record')} would
            become visible to people who cannot see{' '}
            {asking.preview.sensitiveRecords === 1 ? 'it' : 'them'} now
            {asking.preview.examples.length > 0
              ? `, including ${asking.preview.examples.map((e) => e.name).join(', ')}`
              : ''}
            .
          </p>
          <p>Only go ahead if each of them needs to know.</p>
        </>
      ) : asking.state === 'unknown' ? (
        <ErrorMessage error={asking.error} />
      ) : null}
      <div className="dialog-actions">
        <Button className="secondary" onClick={() => answer(false)}>
          Cancel
        </Button>
        <Button onClick={() => answer(true)}>Confirm</Button>
      </div>
    </Dialog>
  );

  return { confirm, dialog };
}
