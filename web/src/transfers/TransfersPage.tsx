import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router';
import { api } from '../api/client.ts';
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

interface TransferOut {
  id: string;
  kind: 'organisation' | 'installation' | 'external';
  status: 'sent' | 'received' | 'cancelled';
  child: { id: string; name: string };
  fromSchool: { id: string; name: string };
  toSchool: { id: string; name: string } | null;
  external: { schoolName: string; contact: string | null } | null;
  reason: string;
  dueOn: string;
  sentAt: string;
  receivedAt: string | null;
  receivedBy: string | null;
  overdue: boolean;
}

interface TransferIn {
  id: string;
  status: 'sent' | 'received' | 'cancelled';
  child: { name: string; dateOfBirth: string | null; studentId: string | null };
  fromSchool: { name: string; organisation: string };
  toSchool: { id: string; name: string };
  reason: string;
  sentAt: string;
  dueOn: string;
  receivedAt: string | null;
}

interface Destination {
  id: string;
  name: string;
  organisation: string;
  sameOrganisation: boolean;
}

const statusLabel = { sent: 'Waiting for receipt', received: 'Received', cancelled: 'Withdrawn' };

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
      {can('transfers.manage') ? <Outgoing /> : null}
    </>
  );
}

/** The ids a sending school in another organisation enters to send a file here. */
function SchoolIds() {
  const schools = useQuery({
    queryKey: ['transfers', 'destinations'],
    queryFn: () => api.get<{ items: Destination[] }>('/transfers/destinations'),
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

function Outgoing() {
  const out = useQuery({
    queryKey: ['transfers', 'out'],
    queryFn: () => api.get<{ items: TransferOut[] }>('/transfers', { direction: 'out' }),
  });
  return (
    <section aria-labelledby="transfers-out">
      <h2 id="transfers-out">Sent</h2>
      <QueryState query={out}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No file has been sent from your schools.</Empty>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Child</th>
                  <th scope="col">To</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Due</th>
                  <th scope="col">Status</th>
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
                      {statusLabel[t.status]}
                      {t.receivedAt
                        ? ` ${formatDateTime(t.receivedAt)}${t.receivedBy ? ` by ${t.receivedBy}` : ''}`
                        : ''}
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
    queryFn: () => api.get<{ items: Destination[] }>('/transfers/destinations'),
  });
  const [to, setTo] = useState('');
  const [reason, setReason] = useState('');
  const [schoolName, setSchoolName] = useState('');
  const [contact, setContact] = useState('');
  const [otherId, setOtherId] = useState('');
  const send = useMutation({
    mutationFn: () =>
      api.post<{ id: string; passphrase?: string }>(
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
