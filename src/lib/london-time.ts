/**
 * Wall-clock time in Europe/London, where schools' digests are due, from the platform's own
 * time-zone data (Intl): GMT in winter, BST in summer.
 */
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function wallClock(instant: number) {
  const p = Object.fromEntries(parts.formatToParts(instant).map((x) => [x.type, x.value]));
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    // London's wall clock read as if it were UTC, to compare with the instant itself.
    asUtc: Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!),
  };
}

/** The London date (YYYY-MM-DD) at an instant. */
export function londonDate(instant: Date): string {
  return wallClock(instant.getTime()).date;
}

/** The instant when London's clocks show `time` ("HH:MM") on `date` (YYYY-MM-DD). */
export function londonInstant(date: string, time: string): Date {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wanted = Date.UTC(y!, m! - 1, d!, hh!, mm!);
  // London is UTC or one hour ahead: take the offset at the first guess, then check it held.
  let guess = wanted - (wallClock(wanted).asUtc - wanted);
  guess = wanted - (wallClock(guess).asUtc - guess);
  return new Date(guess);
}
