import { type ReactNode, useCallback, useRef, useState } from 'react';
import type { Answer, Body } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import { Button, Dialog, ErrorMessage } from '../components/ui.tsx';
import { plural } from '../format.ts';
import './access.css';

/**
 * A change that may let more people read a child-protection or allegation record: the kinds
 * `POST /access/widening-preview` takes (an incident edit, a link, members, a whole user-group
 * batch, a role grant, a block lifted, a direct link), tried there by the server and rolled back.
 */
export type WideningChange = Body<'/api/v1/access/widening-preview', 'post'>;

/** How many more people would read sensitive records; `partial`: the counts are a floor. */
type WideningPreview = Answer<'/api/v1/access/widening-preview', 'post'>;

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
