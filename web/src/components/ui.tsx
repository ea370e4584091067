import type { UseQueryResult } from '@tanstack/react-query';
import {
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react';
import { ApiError } from '../api/client.ts';
import { formatWait } from '../format.ts';

/** The page's heading; focused on arrival so screen readers announce the new page. */
export function PageHeader({
  title,
  children,
  description,
}: {
  title: string;
  description?: ReactNode;
  children?: ReactNode;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Haven`;
    ref.current?.focus();
  }, [title]);
  return (
    <div className="page-header">
      <div>
        <h1 ref={ref} tabIndex={-1}>
          {title}
        </h1>
        {description ? <p className="muted">{description}</p> : null}
      </div>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 404) return 'Not found, or you do not have access to it.';
    const wait = error.retryAfterSeconds;
    // The server's own "try again later" gives way to when, from its Retry-After.
    if (error.status === 429 && wait !== null)
      return `${error.message.replace(/[;,]\s*try again\b.*$/i, '').replace(/\.?$/, '.')} You can try again ${formatWait(wait)}.`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorMessage({ error, retry }: { error: unknown; retry?: () => void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <p>{errorMessage(error)}</p>
      {retry ? (
        <button type="button" className="secondary" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** Loading, error, or the data: every page that reads shows all three states the same way. */
export function QueryState<T>({
  query,
  children,
  loading,
}: {
  query: UseQueryResult<T>;
  children: (data: T) => ReactNode;
  loading?: string;
}) {
  if (query.isPending) return <Loading label={loading} />;
  if (query.isError) return <ErrorMessage error={query.error} retry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}

export function Notice({
  children,
  tone = 'info',
}: {
  children: ReactNode;
  tone?: 'info' | 'success' | 'warning';
}) {
  return (
    <div className={`notice notice-${tone}`} role="status">
      {children}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

interface FieldProps {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: (props: {
    id: string;
    'aria-describedby'?: string;
    'aria-invalid'?: boolean;
  }) => ReactNode;
}

/** A labelled form control with its hint and error, wired for screen readers. */
export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${error ? ' field-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-message" id={errorId}>
          {error}
        </p>
      ) : null}
      {children({
        id,
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
        ...(error ? { 'aria-invalid': true } : {}),
      })}
    </div>
  );
}

type InputFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> & {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
};

export function InputField({ label, hint, error, ...input }: InputFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(props) => <input {...input} {...props} />}
    </Field>
  );
}

type TextAreaFieldProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'id'> & {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
};

export function TextAreaField({ label, hint, error, ...textarea }: TextAreaFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(props) => <textarea {...textarea} {...props} />}
    </Field>
  );
}

type SelectFieldProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, 'id'> & {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
  children: ReactNode;
};

export function SelectField({ label, hint, error, children, ...select }: SelectFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(props) => (
        <select {...select} {...props}>
          {children}
        </select>
      )}
    </Field>
  );
}

export function Button({
  busy,
  children,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean }) {
  return (
    <button type={type} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

/**
 * A modal dialog on the native `<dialog>` element: focus moves into it, Escape closes it, and
 * focus returns to where it was.
 */
export function Dialog({
  open,
  title,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      {open ? (
        <>
          <h2 id={titleId}>{title}</h2>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

/** Progress of a long operation (imports, large membership edits). */
export function Progress({ value, max, label }: { value: number; max: number; label: string }) {
  return (
    <div className="progress">
      <label>
        {label}
        <progress value={value} max={max}>
          {Math.round((value / Math.max(max, 1)) * 100)}%
        </progress>
      </label>
      <span className="muted">
        {value.toLocaleString('en-GB')} of {max.toLocaleString('en-GB')}
      </span>
    </div>
  );
}

/**
 * Asks before a record is deleted (kept, marked deleted): what goes, any error, the danger
 * button and "Keep it".
 */
export function ConfirmDeletion({
  open,
  title,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  confirmLabel: string;
  busy: boolean;
  error: unknown;
  onConfirm: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      {children}
      <ErrorMessage error={error} />
      <div className="dialog-actions">
        <Button className="danger" busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
        <Button className="secondary" onClick={onClose}>
          Keep it
        </Button>
      </div>
    </Dialog>
  );
}

/** The foot of a list read page by page: "Load more" while there is more, and what is shown. */
export function LoadMore({
  list,
  children,
}: {
  list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
  children?: ReactNode;
}) {
  return (
    <div className="pager">
      {list.hasNextPage ? (
        <Button
          className="secondary"
          busy={list.isFetchingNextPage}
          onClick={() => void list.fetchNextPage()}
        >
          Load more
        </Button>
      ) : null}
      {children}
    </div>
  );
}

/**
 * Copies a value to the clipboard and says so; where the browser refuses (no permission, an
 * insecure page), the value is selected in its field for the person to copy themselves.
 */
export function CopyButton({
  value,
  label,
  fieldId,
}: {
  value: string;
  /** The button's accessible name, e.g. "Copy the token". */
  label: string;
  /** The input holding the value, selected when the clipboard is not available. */
  fieldId?: string;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'select'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState('copied');
    } catch {
      const field = fieldId ? document.getElementById(fieldId) : null;
      if (field instanceof HTMLInputElement) field.select();
      setState('select');
    }
  };
  return (
    <span className="copy">
      <button type="button" className="secondary" onClick={() => void copy()}>
        {label}
      </button>
      <span role="status" className="muted">
        {state === 'copied'
          ? 'Copied.'
          : state === 'select'
            ? 'Selected: press Ctrl+C to copy.'
            : ''}
      </span>
    </span>
  );
}
