import PDFDocument from 'pdfkit';
import type { AccessAuditRow } from '../../access/access-audit.ts';
import { accessAuditFlags } from '../../access/access-audit.ts';
import { flagWords } from '../../access/access-audit-flags.ts';
import type { DocumentPart, RunReport } from './document.ts';
import type { RunView } from './runs.ts';
import {
  clearancesText,
  flagsText,
  groupAdministrationText,
  londonDateTime,
  rolesText,
  statusText,
  studentGroupsText,
  userGroupsText,
} from './words.ts';

/**
 * The saved report as a printable PDF (PDFKit): A4 landscape, a title page (scope, as-of, who ran
 * it, totals per flag, the SHA-256 of the saved JSON), then one table row per person, headers
 * repeated and every page numbered. Rendered from the stored document a row at a time; nothing in
 * it depends on the moment of download (the document's dates are the run's), so every download of
 * a run is the same bytes.
 */

const MARGIN = 36;
const FOOTER = 22;
const PADDING = 3;
const FONT_SIZE = 7;
const REGULAR = 'Helvetica';
const BOLD = 'Helvetica-Bold';
/** Pause writing while this much of the PDF waits for the reader (bytes). */
const BACKLOG = 4 << 20;

interface Column {
  title: string;
  width: number;
  text: (row: AccessAuditRow) => string;
}

const lines = '\n';

const columns: Column[] = [
  {
    title: 'Person',
    width: 106,
    text: (r) => [r.name, r.email, ...(r.status === 'active' ? [] : [statusText(r)])].join(lines),
  },
  { title: 'Roles (where; source)', width: 120, text: (r) => rolesText(r, lines) },
  { title: 'User groups', width: 72, text: (r) => userGroupsText(r, lines) },
  { title: 'Student groups (via)', width: 86, text: (r) => studentGroupsText(r, lines) },
  {
    title: 'Children reachable',
    width: 42,
    text: (r) =>
      `${r.reachableStudents}${r.directStudentLinks > 0 ? `\n(${r.directStudentLinks} linked one by one)` : ''}`,
  },
  { title: 'Clearances (via)', width: 68, text: (r) => clearancesText(r, lines) },
  {
    title: 'Group administration (set [permissions] how)',
    width: 87,
    text: (r) => groupAdministrationText(r, lines),
  },
  { title: 'Blocks', width: 32, text: (r) => String(r.blocks) },
  { title: 'Two-factor', width: 34, text: (r) => (r.twoFactor ? 'Yes' : 'No') },
  {
    title: 'Last sign-in',
    width: 52,
    text: (r) => (r.lastSignInAt ? londonDateTime(r.lastSignInAt) : 'Never'),
  },
  { title: 'Flags', width: 70, text: (r) => flagsText(r, lines) },
];

function scopeWords(report: RunReport): string {
  const kind = { organisation: 'Organisation', school_group: 'School group', school: 'School' }[
    report.scope.type
  ];
  return `${kind}: ${report.scope.name}`;
}

function asOfWords(report: RunReport): string {
  return report.asOf
    ? londonDateTime(report.asOf)
    : `${londonDateTime(report.createdAt)} (when it was taken)`;
}

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

/** The PDF of a saved run, as a stream; `parts` is the run's stored document read back. */
export function renderPdf(run: RunView, parts: AsyncIterable<DocumentPart>): PDFKit.PDFDocument {
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margins: { top: MARGIN, bottom: MARGIN + FOOTER, left: MARGIN, right: MARGIN },
    compress: true,
    lang: 'en-GB',
    displayTitle: true,
    info: {
      Title: `Access Audit Report: ${run.scope.name}`,
      Author: run.createdBy.name,
      Subject: `SHA-256 of the saved report: ${run.sha256}`,
      Creator: 'Haven',
      Producer: 'Haven (PDFKit)',
      // The run's own time, so every download is the same bytes (PDFKit's file id hashes this).
      CreationDate: new Date(run.createdAt),
    },
  });
  void draw(doc, run, parts).catch((error: unknown) => {
    doc.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return doc;
}

async function draw(doc: PDFKit.PDFDocument, run: RunView, parts: AsyncIterable<DocumentPart>) {
  let pageNumber = 1;
  let footerText = `Access Audit Report · ${run.scope.name}`;
  const footer = () => {
    const page = doc.page;
    const bottom = page.margins.bottom;
    page.margins.bottom = 0;
    const y = page.height - MARGIN - FOOTER / 2;
    doc.font(REGULAR).fontSize(7).fillColor('#555555');
    doc.text(footerText, MARGIN, y, { width: 600, lineBreak: false });
    doc.text(`Page ${pageNumber}`, page.width - MARGIN - 100, y, {
      width: 100,
      align: 'right',
      lineBreak: false,
    });
    page.margins.bottom = bottom;
    doc.fillColor('#000000');
  };
  const newPage = async () => {
    doc.addPage();
    pageNumber += 1;
    footer();
    while (doc.readableLength > BACKLOG && !doc.destroyed) await pause();
  };

  const iterator = parts[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done || first.value.kind !== 'report')
    throw new Error('The saved report has no header');
  const report = first.value.report;
  footerText = `Access Audit Report · ${scopeWords(report)} · as of ${asOfWords(report)} · run ${report.id}`;
  footer();
  titlePage(doc, report, run);

  const left = MARGIN;
  const contentWidth = columns.reduce((sum, c) => sum + c.width, 0);
  const bottom = () => doc.page.height - doc.page.margins.bottom;
  const header = () => {
    doc.font(BOLD).fontSize(FONT_SIZE);
    const height =
      Math.max(
        ...columns.map((c) => doc.heightOfString(c.title, { width: c.width - 2 * PADDING })),
      ) +
      2 * PADDING;
    const top = doc.page.margins.top;
    doc.rect(left, top, contentWidth, height).fill('#e6e6e6');
    doc.fillColor('#000000');
    let x = left;
    for (const c of columns) {
      doc.text(c.title, x + PADDING, top + PADDING, { width: c.width - 2 * PADDING });
      x += c.width;
    }
    doc.font(REGULAR).fontSize(FONT_SIZE);
    return top + height;
  };

  await newPage();
  let y = header();
  const lineHeight = doc.currentLineHeight(true);
  let people = 0;
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
    if (doc.destroyed) return;
    const part = next.value;
    if (part.kind !== 'row') continue;
    people += 1;
    const texts = columns.map((c) => c.text(part.row));
    // Most cells are one short line: measured by width alone, and drawn without line wrapping.
    const oneLine = texts.map(
      (t, i) => !t.includes('\n') && doc.widthOfString(t) <= columns[i]!.width - 2 * PADDING,
    );
    const wanted =
      Math.max(
        ...texts.map((t, i) =>
          oneLine[i]
            ? lineHeight
            : doc.heightOfString(t, { width: columns[i]!.width - 2 * PADDING }),
        ),
      ) +
      2 * PADDING;
    const tallest = bottom() - doc.page.margins.top - 40;
    const height = Math.min(wanted, tallest);
    if (y + height > bottom()) {
      await newPage();
      y = header();
    }
    let x = left;
    texts.forEach((text, i) => {
      const width = columns[i]!.width;
      if (oneLine[i]) doc.text(text, x + PADDING, y + PADDING, { lineBreak: false });
      else
        doc.text(text, x + PADDING, y + PADDING, {
          width: width - 2 * PADDING,
          height: height - 2 * PADDING,
          ellipsis: true,
        });
      x += width;
    });
    y += height;
    doc
      .moveTo(left, y)
      .lineTo(left + contentWidth, y)
      .lineWidth(0.4)
      .strokeColor('#bbbbbb')
      .stroke();
  }
  if (people === 0) {
    doc
      .font(REGULAR)
      .fontSize(10)
      .text('Nobody is in this report.', left, y + 12);
  }
  doc.end();
}

function titlePage(doc: PDFKit.PDFDocument, report: RunReport, run: RunView) {
  const width = doc.page.width - 2 * MARGIN;
  doc.font(BOLD).fontSize(22).text('Access Audit Report', MARGIN, MARGIN, { width });
  doc.font(REGULAR).fontSize(13).text(report.organisation.name, { width });
  doc.moveDown(1);
  const facts: [string, string][] = [
    ['Scope', scopeWords(report)],
    ['As of', asOfWords(report)],
    ['Taken', londonDateTime(report.createdAt)],
    ['Run by', `${report.createdBy.name} (${report.createdBy.email})`],
    ['People in the report', String(run.rowCount)],
    ['Run id', report.id],
    ['SHA-256 of the saved report (JSON)', run.sha256],
  ];
  doc.fontSize(10);
  for (const [label, value] of facts) {
    const y = doc.y;
    doc.font(BOLD).text(label, MARGIN, y, { width: 190 });
    doc.font(REGULAR).text(value, MARGIN + 200, y, { width: width - 200 });
    doc.moveDown(0.3);
  }
  doc.moveDown(1);
  doc.font(BOLD).fontSize(12).text('Flags', MARGIN, doc.y, { width });
  doc.moveDown(0.3);
  doc.fontSize(10);
  for (const flag of accessAuditFlags) {
    const words = flagWords[flag];
    const y = doc.y;
    doc.font(BOLD).text(words.label, MARGIN, y, { width: 190 });
    doc.font(REGULAR).text(String(run.flagCounts[flag]), MARGIN + 200, y, { width: 50 });
    doc.text(words.meaning, MARGIN + 260, y, { width: width - 260 });
    doc.moveDown(0.3);
  }
  doc.moveDown(1);
  doc
    .font(REGULAR)
    .fontSize(9)
    .fillColor('#333333')
    .text(
      'One row per person holding a role, a user group or a link in this scope, or administering one of its user groups, with where each role, clearance and permission set comes from. Children are counted, never named. This document is printed from the saved report; the saved JSON is the record, and its SHA-256 above shows whether a copy is that record.',
      MARGIN,
      doc.y,
      { width },
    );
  doc.fillColor('#000000');
}
