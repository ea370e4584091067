import { type ReactNode, useCallback, useRef, useState } from 'react';
import { ApiError, api } from '../api/client.ts';
import type { IncidentPatch, Role, ScopeType } from '../api/types.ts';
import { Button, Dialog, ErrorMessage } from '../components/ui.tsx';
import { plural } from '../format.ts';
import './access.css';

/**
 * A change that may let more people read a child-protection or allegation record: the same
 * kinds `POST /access/widening-preview` takes, tried there by the server and rolled back.
 */
export type WideningChange =
  | {
      kind: 'incident_assignee';
      incidentId: string;
      assignee: { type: 'user' | 'user_group'; id: string };
    }
  /** An edit of a concern: its category, children, school, or closing a sensitive one. */
  | { kind: 'incident_update'; incidentId: string; patch: IncidentPatch }
  | { kind: 'student_link'; userGroupId: string; studentGroupId?: string; studentId?: string }
  | { kind: 'group_members'; userGroupId: string; userIds: string[] }
  /** A whole user-group batch, tried together (a link and a clearance added at once). */
  | { kind: 'user_group_batch'; userGroupId: string; operations: unknown[] }
  | {
      kind: 'role_grant';
      subject: { type: 'user' | 'user_group'; id: string };
      role: Exclude<Role, 'member'>;
      scope: { type: ScopeType; id: string };
      reason?: string;
    }
  | { kind: 'block_removal'; blockId: string }
  | { kind: 'direct_link'; userId: string; studentId: string };

interface WideningPreview {
  sensitiveRecords: number;
  newViewers: number;
  examples: { id: string; name: string }[];
  /** Only part of a very large group was tried: the counts are a floor. */
  partial: boolean;
}

type Asking =
  | { state: 'idle' }
  | { state: 'widens'; change: WideningChange; preview: WideningPreview }
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
      next = { state: 'widens', change, preview };
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

  const dialog = (
    <Dialog open={asking.state !== 'idle'} title={titleOf(asking)} onClose={() => answer(false)}>
      {asking.state === 'widens' ? (
        <>
          <p>{explain(asking.change, asking.preview)}</p>
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

/** An assignment or an edit asks about the one record; the other kinds about every record. */
function aboutOneRecord(change: WideningChange): boolean {
  return change.kind === 'incident_assignee' || change.kind === 'incident_update';
}

function titleOf(asking: Asking): string {
  if (asking.state !== 'widens') return 'Haven could not check who else would read these records';
  const { preview, change } = asking;
  const people = `${preview.partial ? 'At least ' : ''}${plural(preview.newViewers, 'more person', 'more people')}`;
  return aboutOneRecord(change)
    ? `${people} will be able to read this record`
    : `${people} will be able to see child-protection or allegation records`;
}

/** "Ann Lee, Bo Parent and 3 others": the people the server named, and how many more. */
function named(preview: WideningPreview): string {
  const names = preview.examples.map((e) => e.name).join(', ');
  const others = preview.newViewers - preview.examples.length;
  if (others <= 0) return names;
  const more = `${preview.partial ? 'at least ' : ''}${plural(others, 'other', 'others')}`;
  return names ? `${names} and ${more}` : more;
}

function explain(change: WideningChange, preview: WideningPreview): string {
  const who = named(preview);
  if (aboutOneRecord(change))
    return `${who} cannot read this record now and would be able to after this change.`;
  const them = preview.sensitiveRecords === 1 ? 'it' : 'them';
  return `${plural(preview.sensitiveRecords, 'child-protection or allegation record')} would become visible to people who cannot see ${them} now, including ${who}.`;
}
