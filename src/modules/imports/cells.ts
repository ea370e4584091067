import { MAX_YEAR_GROUP, MIN_YEAR_GROUP, type senStatuses } from '../student-groups/rules.ts';

/**
 * Reading one cell of a school's export, as a management information system (SIMS, Arbor,
 * Bromcom) writes it. Each reader answers the value, or a problem in the words a school uses
 * ("the date of birth 31/02/2016 is not a real date"), never a validator's message.
 */
export type Cell<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Cell<T> => ({ ok: true, value });
const no = (problem: string): Cell<never> => ({ ok: false, problem });

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** 1 to 12 for a month's name or its abbreviation of three letters or more; 0 otherwise. */
function monthNamed(word: string): number {
  const w = word.toLowerCase();
  if (w.length < 3) return 0;
  return MONTHS.findIndex((name) => name.startsWith(w)) + 1;
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= last;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** [year, month, day] of a day as written, before it is checked to be real. */
function dayParts(value: string): [number, number, number] | 'two-digit-year' | null {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
  if (iso) return [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  const uk = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:\s+[\d:]+)?$/.exec(value);
  if (uk) {
    if (uk[3]!.length === 2) return 'two-digit-year';
    return [Number(uk[3]), Number(uk[2]), Number(uk[1])];
  }
  const words = /^(\d{1,2})[\s-]+([A-Za-z]+)[\s-]+(\d{4})$/.exec(value);
  if (words) {
    const month = monthNamed(words[2]!);
    return month ? [Number(words[3]), month, Number(words[1])] : null;
  }
  return null;
}

/**
 * A day written the UK way: 14/03/2016, 14-03-2016, 14.03.2016, 14 March 2016, or
 * 2016-03-14 (a time after it, as some exports add, is dropped). Day first, always: 03/04/2016
 * is 3 April. Two-digit years are refused rather than guessed.
 */
export function ukDate(raw: string, what: string, today = new Date()): Cell<string | null> {
  const value = raw.trim();
  if (value === '') return ok(null);
  const parts = dayParts(value);
  if (parts === 'two-digit-year')
    return no(`the ${what} ${value} has a two-digit year: write it in full, e.g. 14/03/2016`);
  if (!parts) return no(`the ${what} ${value} is not a date (write it as 14/03/2016)`);
  const [year, month, day] = parts;
  if (!isRealDate(year, month, day)) return no(`the ${what} ${value} is not a real date`);
  const iso = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (iso > today.toISOString().slice(0, 10)) return no(`the ${what} ${value} is in the future`);
  if (year < 1900) return no(`the ${what} ${value} is too long ago to be right`);
  return ok(iso);
}

/**
 * A year group as schools write it: 9, 09, Y9, Yr 9, Year 9, NC Year 9, R or Reception (0),
 * N, N1, N2 or Nursery (-1). Empty is no year group.
 */
export function yearGroup(raw: string): Cell<number | null> {
  const value = raw.trim();
  if (value === '') return ok(null);
  const words = value
    .toLowerCase()
    .replace(/^(nc\s*)?(year|yr|y)\s*/, '')
    .trim();
  if (/^(r|rec|reception)$/.test(words)) return ok(0);
  if (/^(n|n1|n2|nur|nursery)$/.test(words)) return ok(-1);
  if (/^\d{1,2}$/.test(words)) {
    const n = Number(words);
    if (n >= MIN_YEAR_GROUP && n <= MAX_YEAR_GROUP) return ok(n);
    return no(`the year group ${value} is not one Haven knows (Nursery, Reception, or 1 to 14)`);
  }
  return no(`the year group ${value} is not one Haven knows (write it as 9, Y9, Year 9 or R)`);
}

type SenStatus = (typeof senStatuses)[number];

/**
 * SEN status or provision, as the census codes (N, K, E) or their words. A statement (S) is
 * now an EHC plan; School Action (A) and School Action Plus (P) were replaced by SEN support.
 */
export function senStatus(raw: string): Cell<SenStatus> {
  const value = raw.trim();
  const key = value.toLowerCase().replace(/[^a-z]/g, '');
  if (
    [
      '',
      'n',
      'no',
      'none',
      'nosen',
      'nospecialeducationalneed',
      'nospecialeducationalneeds',
    ].includes(key)
  )
    return ok('none');
  if (['k', 'sensupport', 'support', 'a', 'p', 'schoolaction', 'schoolactionplus'].includes(key))
    return ok('K');
  if (
    [
      'e',
      'ehc',
      'ehcp',
      'ehcplan',
      'educationhealthandcareplan',
      's',
      'statement',
      'statemented',
    ].includes(key)
  )
    return ok('E');
  return no(`the SEN status ${value} is not one Haven knows (N, K or E)`);
}

/** Yes or no, as a spreadsheet writes it; empty is "not given". */
export function yesNo(raw: string, what: string): Cell<boolean | undefined> {
  const value = raw.trim();
  if (value === '') return ok(undefined);
  if (/^(yes|y|true|t|1|on)$/i.test(value)) return ok(true);
  if (/^(no|n|false|f|0|off)$/i.test(value)) return ok(false);
  return no(`${what} should be yes or no, not ${value}`);
}

/** Flags or tags separated by ";" or "|": each a lower-case label like looked_after. */
export function labels(raw: string, what: string): Cell<string[]> {
  const values = raw
    .split(/[;|]/)
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
  const bad = values.find((v) => !/^[a-z0-9][a-z0-9_-]{0,39}$/.test(v));
  if (bad) return no(`the ${what} "${bad}" should be a lower-case word like looked_after`);
  if (values.length > 30) return no(`there are more than 30 ${what}s`);
  return ok([...new Set(values)]);
}

/** A name: up to 200 characters, with no control characters. */
export function personName(raw: string, what: string, required: boolean): Cell<string | null> {
  const value = raw.trim().replace(/\s+/g, ' ');
  if (value === '') return required ? no(`the ${what} is missing`) : ok(null);
  if (value.length > 200) return no(`the ${what} is longer than 200 characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) return no(`the ${what} holds a control character`);
  return ok(value);
}

/** A UPN: a letter, eleven digits, and a digit or letter (13 characters). */
export function upnCell(raw: string): Cell<string | null> {
  const value = raw.trim().toUpperCase();
  if (value === '') return ok(null);
  if (!/^[A-Z][0-9]{11}[0-9A-Z]$/.test(value))
    return no(
      `the UPN ${raw.trim()} is not a UPN (a letter, 11 digits and one more: 13 characters)`,
    );
  return ok(value);
}
