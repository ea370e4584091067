import PDFDocument from 'pdfkit';
import type { Sensitivity } from '../../db/tables.ts';
import { londonDateTime } from '../compliance/words.ts';
import type { FileConcern, FileDocument, FileEntry, SafeguardingFile } from './document.ts';

/**
 * The child's file as a printable chronology (PDFKit), in the house style of the Access Audit
 * Report: A4, a title page (the child, who made the file, when, and whose view it holds), then
 * every entry oldest first, every page numbered. Nothing in it depends on the moment of rendering
 * (the creation date is the file's own), so the same file always gives the same bytes.
 */

const MARGIN = 48;
const FOOTER = 22;
const REGULAR = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const ITALIC = 'Helvetica-Oblique';

export const sensitivityWords: Record<Sensitivity, string> = {
  standard: 'Standard',
  child_protection: 'Child protection',
  allegation: 'Allegation against staff',
};

const statusWords: Record<FileConcern['status'], string> = {
  open: 'Open',
  in_progress: 'In progress',
  closed: 'Closed',
};

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function documentLine(d: FileDocument): string {
  return `${d.name} (${d.contentType}, ${size(d.size)}, added ${londonDateTime(d.addedAt)})`;
}

/** The file's PDF bytes. */
export function renderFilePdf(file: SafeguardingFile): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN + FOOTER, left: MARGIN, right: MARGIN },
    bufferPages: true,
    compress: true,
    lang: 'en-GB',
    displayTitle: true,
    info: {
      Title: `Safeguarding file: ${file.child.name}`,
      Author: file.madeBy.name,
      Subject: `As seen by ${file.asSeenBy.name}`,
      Creator: 'Haven',
      Producer: 'Haven (PDFKit)',
      // The file's own time, so the same file is the same bytes (PDFKit's file id hashes this).
      CreationDate: new Date(file.madeAt),
    },
  });
  const chunks: Buffer[] = [];
  const bytes = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  titlePage(doc, file);
  doc.addPage();
  chronology(doc, file);
  footers(doc, file);
  doc.end();
  return bytes;
}

function width(doc: PDFKit.PDFDocument): number {
  return doc.page.width - 2 * MARGIN;
}

function fact(doc: PDFKit.PDFDocument, label: string, value: string, indent = 0) {
  const y = doc.y;
  const w = width(doc) - indent;
  doc
    .font(BOLD)
    .fontSize(10)
    .text(label, MARGIN + indent, y, { width: 140 });
  const after = doc.y;
  doc.font(REGULAR).text(value, MARGIN + indent + 150, y, { width: w - 150 });
  doc.y = Math.max(doc.y, after);
  doc.moveDown(0.2);
}

function titlePage(doc: PDFKit.PDFDocument, file: SafeguardingFile) {
  const w = width(doc);
  doc.font(BOLD).fontSize(22).text('Safeguarding file', MARGIN, MARGIN, { width: w });
  doc.font(REGULAR).fontSize(15).text(file.child.name, { width: w });
  doc.moveDown(1);
  const child = file.child;
  fact(doc, 'Given name', child.givenName);
  fact(doc, 'Family name', child.familyName);
  if (child.preferredName) fact(doc, 'Preferred name', child.preferredName);
  fact(doc, 'Date of birth', child.dateOfBirth ?? 'Not recorded');
  fact(doc, 'UPN', child.upn ?? 'Not recorded');
  fact(doc, 'School', child.school.name);
  fact(doc, 'Year group', child.yearGroup === null ? 'Not recorded' : `Year ${child.yearGroup}`);
  doc.moveDown(1);
  fact(doc, 'Made', londonDateTime(file.madeAt));
  fact(doc, 'Made by', file.madeBy.name);
  fact(doc, 'As seen by', file.asSeenBy.name);
  doc.moveDown(1);
  doc.font(ITALIC).fontSize(10).fillColor('#333333').text(file.note, MARGIN, doc.y, { width: w });
  doc.fillColor('#000000');
}

function heading(doc: PDFKit.PDFDocument, text: string) {
  // Keep a heading with at least a few lines of what follows it.
  if (doc.y > doc.page.height - doc.page.margins.bottom - 80) doc.addPage();
  doc
    .font(BOLD)
    .fontSize(12)
    .text(text, MARGIN, doc.y, { width: width(doc) });
  doc.moveDown(0.3);
}

function subheading(doc: PDFKit.PDFDocument, text: string, indent: number) {
  doc.moveDown(0.3);
  doc
    .font(BOLD)
    .fontSize(10)
    .text(text, MARGIN + indent, doc.y, { width: width(doc) - indent });
  doc.moveDown(0.1);
}

function line(doc: PDFKit.PDFDocument, text: string, indent: number) {
  doc
    .font(REGULAR)
    .fontSize(10)
    .text(text, MARGIN + indent, doc.y, { width: width(doc) - indent });
}

function concernEntry(doc: PDFKit.PDFDocument, at: string, c: FileConcern) {
  heading(
    doc,
    `${londonDateTime(at)} · Concern · ${c.category} · ${sensitivityWords[c.sensitivity]}`,
  );
  fact(doc, 'Status', statusWords[c.status]);
  fact(doc, 'Reported by', c.reporter);
  fact(doc, 'Recorded', londonDateTime(c.recordedAt));
  if (c.location) fact(doc, 'Location', c.location);
  subheading(doc, 'Account', 0);
  line(doc, c.description, 0);
  if (c.revisions.length > 0) {
    subheading(doc, 'Earlier versions', 0);
    for (const r of c.revisions) {
      doc.moveDown(0.2);
      line(
        doc,
        `Version ${r.revision}, until ${londonDateTime(r.replacedAt)}${r.replacedBy ? ` (changed by ${r.replacedBy})` : ''}: ${r.category} · ${sensitivityWords[r.sensitivity]} · ${statusWords[r.status]} · occurred ${londonDateTime(r.occurredAt)}${r.location ? ` · ${r.location}` : ''}`,
        12,
      );
      line(doc, r.description, 24);
    }
  }
  if (c.actions.length > 0) {
    subheading(doc, 'Actions', 0);
    for (const a of c.actions) {
      const due = a.dueAt ? `, due ${londonDateTime(a.dueAt)}` : '';
      const done = a.completedAt
        ? `; done ${londonDateTime(a.completedAt)}${a.completedBy ? ` by ${a.completedBy}` : ''}`
        : '; open';
      line(doc, `${a.title} (set ${londonDateTime(a.createdAt)}${due}${done})`, 12);
    }
  }
  if (c.documents.length > 0) {
    subheading(doc, 'Documents', 0);
    for (const d of c.documents) line(doc, documentLine(d), 12);
  }
}

function entry(doc: PDFKit.PDFDocument, e: FileEntry) {
  if (e.kind === 'concern') concernEntry(doc, e.at, e.concern);
  else {
    heading(doc, `${londonDateTime(e.at)} · Document on the child's file`);
    line(doc, documentLine(e.document), 0);
  }
  doc.moveDown(0.6);
  const y = doc.y;
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + width(doc), y)
    .lineWidth(0.4)
    .strokeColor('#bbbbbb')
    .stroke();
  doc.strokeColor('#000000');
  doc.moveDown(0.6);
}

function chronology(doc: PDFKit.PDFDocument, file: SafeguardingFile) {
  doc
    .font(BOLD)
    .fontSize(16)
    .text(`Chronology: ${file.child.name}`, MARGIN, MARGIN, { width: width(doc) });
  doc
    .font(REGULAR)
    .fontSize(10)
    .text(
      `Born ${file.child.dateOfBirth ?? 'not recorded'} · UPN ${file.child.upn ?? 'not recorded'} · ${file.child.school.name}`,
      { width: width(doc) },
    );
  doc.moveDown(1);
  if (file.entries.length === 0) {
    line(doc, 'Nothing is recorded here.', 0);
    return;
  }
  for (const e of file.entries) entry(doc, e);
}

/** Every page's footer, written once every page exists: the child, whose view, page n of N. */
function footers(doc: PDFKit.PDFDocument, file: SafeguardingFile) {
  const range = doc.bufferedPageRange();
  const text = `Safeguarding file · ${file.child.name} · as seen by ${file.asSeenBy.name} · made ${londonDateTime(file.madeAt)}`;
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const page = doc.page;
    const bottom = page.margins.bottom;
    page.margins.bottom = 0;
    const y = page.height - MARGIN - FOOTER / 2;
    doc.font(REGULAR).fontSize(7).fillColor('#555555');
    doc.text(text, MARGIN, y, { width: page.width - 2 * MARGIN - 110, lineBreak: false });
    doc.text(`Page ${i + 1} of ${range.count}`, page.width - MARGIN - 100, y, {
      width: 100,
      align: 'right',
      lineBreak: false,
    });
    page.margins.bottom = bottom;
    doc.fillColor('#000000');
  }
}
