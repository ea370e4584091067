import { stringify } from 'csv-stringify/sync';

/** Spreadsheet programs run cells that start with these; an export must never carry a formula. */
export function neutraliseFormula(value: unknown): unknown {
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(value)) return `'${value}`;
  return value;
}

/** CSV text of the rows, every cell made safe to open in a spreadsheet. */
export function toCsv(lines: readonly (readonly unknown[])[]): string {
  return stringify(lines.map((line) => line.map(neutraliseFormula)));
}
