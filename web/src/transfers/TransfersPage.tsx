import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Answer, Item } from '../api/answers.ts';
import { ApiError, api } from '../api/client.ts';
import {
  Button,
  Dialog,
  Empty,
  ErrorMessage,
  InputField,
  Notice,
  PageHeader,
  QueryState,
  SelectField,
  TextAreaField,
} from '../components/ui.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import { useCan } from '../session.tsx';

/**
 * Transfers (issue 16): the child's safeguarding file sent to their new school. Out: what the
 * signed-in person's schools sent, when it is due and when it was received. In: files offered to
 * their schools, which a DSL accepts (the server decides who may do what; this page only hides
 * what cannot be done).
 */

/** `GET /transfers` answers one of two lists, as `direction` asks. */
type ListedTransfer = Item<'/api/v1/transfers'>;

/**
 * A transfer the caller's schools sent (`direction=out`); `receipt` is an external transfer's
 * receipt, recorded by hand at the sending school.
 */
type TransferOut = Extract<ListedTransfer, { kind: string }>;

/** A file offered to the caller's schools (`direction=in`). */
type TransferIn = Exclude<ListedTransfer, { kind: string }>;

const statusLabel = { sent: 'Waiting for receipt', received: 'Received', cancelled: 'Cancelled' };

export function TransfersPage() {
  const can = useCan();
  const [params, setParams] = useSearchParams();
  const studentId = params.get('studentId');
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <>
      <PageHeader
        title="Transfers"
        description="A child's safeguarding file, sent separately from the pupil file to their new school within five school days, with the receipt recorded."
      />
      {notice ? <Notice tone="success">{notice}</Notice> : null}
      {studentId && can('transfers.manage') ? (
        <SendDialog
          studentId={studentId}
          onClose={(message) => {
            setParams({});
            if (message) setNotice(message);
          }}
        />
      ) : null}
      {can('transfers.receive') ? <SchoolIds /> : null}
      {can('transfers.receive') ? <Incoming onAccepted={setNotice} /> : null}
      {can('transfers.manage') ? <Outgoing onDone={setNotice} /> : null}
    </>
  );
}

/** The ids a sending school in another organisation enters to send a file here. */
function SchoolIds() {
  const schools = useQuery({
    queryKey: ['transfers', 'destinations'],
    queryFn: () =>
      api.get<Answer<'/api/v1/transfers/destinations', 'get'>>('/transfers/destinations'),
  });
  const items = schools.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <p>
      A school of another organisation sends a file here with your school id:{' '}
      {items.map((d, i) => (
        <span key={d.id}>
          {i > 0 ? '; ' : ''}
          {d.name} <code>{d.id}</code>
        </span>
      ))}
    </p>
  );
}

/**
 * What the caller's schools sent. The server lists only transfers of schools where the caller
 * manages transfers, so each one still waiting may be cancelled here, and an external one's
 * receipt recorded; the server decides each request again.
 */
function Outgoing({ onDone }: { onDone: (message: string) => void }) {
  const can = useCan();
  const out = useQuery({
    queryKey: ['transfers', 'out'],
    queryFn: () => api.get<{ items: TransferOut[] }>('/transfers', { direction: 'out' }),
  });
  const [cancelling, setCancelling] = useState<TransferOut | null>(null);
  const [recording, setRecording] = useState<TransferOut | null>(null);
  return (
    <section aria-labelledby="transfers-out">
      <h2 id="transfers-out">Sent</h2>
      {can('settings.manage') ? (
        <p className="muted">
          The due day skips weekends and the sending school’s holidays, kept under{' '}
          <Link to="/admin/schools">Schools and settings</Link>.
        </p>
      ) : null}
      <QueryState query={out}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No file has been sent from your schools.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Child</th>
                    <th scope="col">To</th>
                    <th scope="col">Sent</th>
                    <th scope="col">Due</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((t) => (
                    <tr key={t.id}>
                      <td>{t.child.name}</td>
                      <td>{t.toSchool?.name ?? t.external?.schoolName}</td>
                      <td>{formatDateTime(t.sentAt)}</td>
                      <td>
                        {formatDate(t.dueOn)}
                        {t.overdue ? <strong> Overdue</strong> : null}
                      </td>
                      <td>
                        <TransferStatus transfer={t} />
                      </td>
                      <td>
                        {t.status === 'sent' ? (
                          <>
                            {t.kind === 'external' ? (
                              <>
                                <Button
                                  className="secondary"
                                  onClick={() => setRecording(t)}
                                  aria-label={`Record receipt of ${t.child.name}'s file`}
                                >
                                  Record receipt
                                </Button>{' '}
                              </>
                            ) : null}
                            <Button
                              className="secondary"
                              onClick={() => setCancelling(t)}
                              aria-label={`Cancel the transfer of ${t.child.name}'s file`}
                            >
                              Cancel
                            </Button>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryState>
      <CancelTransfer
        transfer={cancelling}
        onClose={(message) => {
          setCancelling(null);
          if (message) onDone(message);
        }}
      />
      {recording ? (
        <RecordReceipt
          transfer={recording}
          onClose={(message) => {
            setRecording(null);
            if (message) onDone(message);
          }}
        />
      ) : null}
    </section>
  );
}

function TransferStatus({ transfer: t }: { transfer: TransferOut }) {
  if (t.receipt)
    return (
      <>
        Received: confirmed by {t.receipt.confirmedBy} on {formatDate(t.receipt.confirmedOn)}
        {t.receipt.note ? <span className="muted"> ({t.receipt.note})</span> : null}
      </>
    );
  return (
    <>
      {statusLabel[t.status]}
      {t.receivedAt
        ? ` ${formatDateTime(t.receivedAt)}${t.receivedBy ? ` by ${t.receivedBy}` : ''}`
        : ''}
    </>
  );
}

const destinationOf = (t: TransferOut) => t.toSchool?.name ?? t.external?.schoolName ?? '';

/** Withdraws a file not yet received: the new school is no longer offered it. */
function CancelTransfer({
  transfer,
  onClose,
}: {
  transfer: TransferOut | null;
  onClose: (message?: string) => void;
}) {
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: (t: TransferOut) => api.post(`/transfers/${encodeURIComponent(t.id)}/cancel`),
    onSuccess: (_, t) => {
      void queryClient.invalidateQueries({ queryKey: ['transfers'] });
      cancel.reset();
      onClose(`The transfer of ${t.child.name}'s file was cancelled.`);
    },
  });
  const close = () => {
    cancel.reset();
    onClose();
  };
  return (
    <Dialog open={transfer !== null} title="Cancel this transfer?" onClose={close}>
      {transfer ? (
        <>
          <p>
            {transfer.child.name}'s file will no longer be waiting for {destinationOf(transfer)}.
            The transfer stays listed as cancelled, and the file can be sent again.
          </p>
          <ErrorMessage error={cancel.error} />
          <div className="dialog-actions">
            <Button
              className="danger"
              busy={cancel.isPending}
              onClick={() => cancel.mutate(transfer)}
            >
              Cancel the transfer
            </Button>
            <Button className="secondary" onClick={close}>
              Keep it
            </Button>
          </div>
        </>
      ) : null}
    </Dialog>
  );
}

/** "YYYY-MM-DD" today in UK time, for a date input's default and its latest day. */
function todayInUk(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
}

/** A school not on Haven confirmed receipt (by phone, email or letter): recorded by hand. */
function RecordReceipt({
  transfer,
  onClose,
}: {
  transfer: TransferOut;
  onClose: (message?: string) => void;
}) {
  const queryClient = useQueryClient();
  const [receivedBy, setReceivedBy] = useState('');
  const [receivedOn, setReceivedOn] = useState(todayInUk);
  const [note, setNote] = useState('');
  const record = useMutation({
    mutationFn: () =>
      api.post(`/transfers/${encodeURIComponent(transfer.id)}/receipt`, {
        receivedBy,
        receivedOn,
        ...(note.trim() ? { note } : {}),
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['transfers'] });
      onClose(`The receipt of ${transfer.child.name}'s file was recorded.`);
    },
  });
  const error = record.error instanceof ApiError ? record.error : null;
  const fieldError = (field: string) => error?.fieldMessage(field);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    record.mutate();
  };
  return (
    <Dialog open title="Record receipt" onClose={() => onClose()}>
      <p>
        {destinationOf(transfer)} confirmed that {transfer.child.name}'s file arrived. Record who
        confirmed it, on which day and how.
      </p>
      <form onSubmit={submit}>
        <InputField
          label="Confirmed by"
          hint="Who at the new school confirmed receipt, such as their DSL."
          value={receivedBy}
          required
          maxLength={200}
          onChange={(e) => setReceivedBy(e.target.value)}
          error={fieldError('receivedBy')}
        />
        <InputField
          label="Confirmed on"
          type="date"
          value={receivedOn}
          required
          max={todayInUk()}
          onChange={(e) => setReceivedOn(e.target.value)}
          error={fieldError('receivedOn')}
        />
        <TextAreaField
          label="How it was confirmed"
          hint="For example: a phone call, or an email from their DSL. Optional."
          value={note}
          maxLength={2000}
          onChange={(e) => setNote(e.target.value)}
          error={fieldError('note')}
        />
        {error?.problem.errors ? null : <ErrorMessage error={record.error} />}
        <div className="dialog-actions">
          <Button type="submit" busy={record.isPending}>
            Record receipt
          </Button>
          <Button className="secondary" onClick={() => onClose()}>
            Close
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function Incoming({ onAccepted }: { onAccepted: (message: string) => void }) {
  const queryClient = useQueryClient();
  const incoming = useQuery({
    queryKey: ['transfers', 'in'],
    queryFn: () => api.get<{ items: TransferIn[] }>('/transfers', { direction: 'in' }),
  });
  const accept = useMutation({
    mutationFn: (t: TransferIn) => api.post(`/transfers/${encodeURIComponent(t.id)}/accept`),
    onSuccess: (_, t) => {
      onAccepted(`${t.child.name}'s file was received at ${t.toSchool.name}.`);
      void queryClient.invalidateQueries({ queryKey: ['transfers'] });
    },
  });
  return (
    <section aria-labelledby="transfers-in">
      <h2 id="transfers-in">Offered to your schools</h2>
      <ErrorMessage error={accept.error} />
      <QueryState query={incoming}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No file has been offered to your schools.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Child</th>
                  <th scope="col">Date of birth</th>
                  <th scope="col">From</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {items.map((t) => (
                  <tr key={t.id}>
                    <td>{t.child.name}</td>
                    <td>{t.child.dateOfBirth ? formatDate(t.child.dateOfBirth) : 'Not known'}</td>
                    <td>
                      {t.fromSchool.name} ({t.fromSchool.organisation})
                    </td>
                    <td>{t.reason}</td>
                    <td>
                      {t.status === 'sent' ? (
                        <Button
                          busy={accept.isPending && accept.variables?.id === t.id}
                          onClick={() => accept.mutate(t)}
                          aria-label={`Accept ${t.child.name}'s file`}
                        >
                          Accept
                        </Button>
                      ) : (
                        `Received ${t.receivedAt ? formatDateTime(t.receivedAt) : ''}`
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </section>
  );
}

function SendDialog({
  studentId,
  onClose,
}: {
  studentId: string;
  onClose: (message?: string) => void;
}) {
  const queryClient = useQueryClient();
  const destinations = useQuery({
    queryKey: ['transfers', 'destinations'],
    queryFn: () =>
      api.get<Answer<'/api/v1/transfers/destinations', 'get'>>('/transfers/destinations'),
  });
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [schoolName, setSchoolName] = useState('');
  const [contact, setContact] = useState('');
  const [otherId, setOtherId] = useState('');
  const send = useMutation({
    mutationFn: () =>
      api.post<Answer<'/api/v1/transfers', 'post'>>(
        '/transfers',
        to === 'external'
          ? { studentId, external: { schoolName, contact }, reason }
          : { studentId, toSchoolId: to === 'other' ? otherId : to, reason },
      ),
    onSuccess: (sent) => {
      void queryClient.invalidateQueries({ queryKey: ['transfers'] });
      if (!sent.passphrase) onClose('The file was sent. The receiving school’s DSL accepts it.');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send.mutate();
  };
  const passphrase = send.data?.passphrase;
  return (
    <Dialog open title="Send the safeguarding file" onClose={() => onClose()}>
      {passphrase && send.data ? (
        <>
          <Notice tone="warning">
            The archive opens with this passphrase, shown only now. Send it separately from the
            archive (by phone, for instance): <code>{passphrase}</code>
          </Notice>
          <p>
            <a
              className="button"
              href={`/api/v1/transfers/${encodeURIComponent(send.data.id)}/archive`}
              download
            >
              Download the archive
            </a>{' '}
            <a
              className="button secondary"
              href={`/api/v1/transfers/${encodeURIComponent(send.data.id)}/pdf`}
              download
            >
              Printable PDF
            </a>
          </p>
          <Button
            onClick={() => onClose('The export was made; record the receipt when confirmed.')}
          >
            Done
          </Button>
        </>
      ) : (
        <form onSubmit={submit}>
          <QueryState query={destinations}>
            {({ items }) => (
              <SelectField
                label="New school"
                value={to}
                required
                onChange={(e) => setTo(e.target.value)}
              >
                <option value="">Choose a school</option>
                {items.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                    {d.sameOrganisation ? '' : ` (${d.organisation})`}
                  </option>
                ))}
                <option value="other">A school of another organisation on Haven</option>
                <option value="external">A school not on Haven (export)</option>
              </SelectField>
            )}
          </QueryState>
          {to === 'other' ? (
            <InputField
              label="Their Haven school id"
              hint="Their DSL finds it on their Transfers page."
              value={otherId}
              required
              onChange={(e) => setOtherId(e.target.value.trim())}
            />
          ) : null}
          {to === 'external' ? (
            <>
              <InputField
                label="School name"
                value={schoolName}
                required
                onChange={(e) => setSchoolName(e.target.value)}
              />
              <InputField
                label="Their DSL's contact"
                value={contact}
                required
                onChange={(e) => setContact(e.target.value)}
              />
            </>
          ) : null}
          <TextAreaField
            label="Reason"
            value={reason}
            required
            onChange={(e) => setReason(e.target.value)}
          />
          <ErrorMessage error={send.error} />
          <Button type="submit" busy={send.isPending}>
            Send the file
          </Button>{' '}
          <Button className="secondary" onClick={() => onClose()}>
            Cancel
          </Button>
        </form>
      )}
    </Dialog>
  );
}
