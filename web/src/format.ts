/** Dates as people in UK schools write them: 23/11/2026, 14:05, in UK time. */

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  timeZone: 'Europe/London',
});
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/London',
});

// No time zone: the time as the clock on the user's own device shows it.
const localTimeFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date).replace(',', '');
}

/** "10:42": the hour and minute of an instant in the user's local time. */
export function formatLocalTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : localTimeFormat.format(date);
}

/** The value for an `<input type="datetime-local">` showing this instant in local time. */
export function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** An `<input type="datetime-local">` value back to an ISO instant. */
export function fromLocalInput(value: string): string {
  return new Date(value).toISOString();
}

/** The end of a calendar day picked in a date input ("as of 23/11/2026" includes that day). */
export function endOfDayIso(date: string): string {
  return new Date(`${date}T23:59:59.999`).toISOString();
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}

/**
 * When to try again after a refusal with `Retry-After`: "in 40 seconds", "in 3 minutes, at 14:05",
 * "in 2 hours, at 16:30" (the clock time in the user's own time).
 */
export function formatWait(seconds: number, now = Date.now()): string {
  if (seconds < 60) return `in ${plural(Math.max(1, seconds), 'second')}`;
  const at = formatLocalTime(new Date(now + seconds * 1000).toISOString());
  if (seconds < 3600) return `in ${plural(Math.ceil(seconds / 60), 'minute')}, at ${at}`;
  return `in about ${plural(Math.round(seconds / 3600), 'hour')}, at ${at}`;
}
