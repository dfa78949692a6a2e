// CSV import: one row per image with (at least) a path, a label and a patient column. Paths are relative to the
// CSV's folder. Column names are matched case-insensitively; the defaults accept common spellings. A header that
// lacks a required column is an INVALID_ARGUMENT naming the missing and the found columns; a row with the wrong
// number of fields, an unknown label or an unreadable file is skipped with its line number.

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative } from 'node:path';
import { DatasetInputError, parseFinding, type Finding } from '../findings.js';
import { ImportRun } from './pipeline.js';
import type { ImageSink, ImportOptionsBase, ImportReport } from './types.js';

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF; returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows.filter((r) => !(r.length === 1 && r[0]!.trim() === ''));
}

export interface CsvColumns {
  path: string | string[];
  label: string | string[];
  patient: string | string[];
  /** Optional second path column joined to `path` (e.g. folder + filename). */
  folder?: string | string[];
}

export interface CsvRowContext {
  get(column: string): string | undefined;
}

export interface CsvImportOptions extends ImportOptionsBase {
  columns?: Partial<CsvColumns>;
  /** Label → finding; return undefined to skip the row (the reason says which label). Default: parseFinding. */
  mapLabel?: (label: string) => Finding | undefined;
  /** Extra row filter: return a reason string to skip the row. */
  rowFilter?: (row: CsvRowContext) => string | undefined;
  /** Folder the paths are relative to (default: the CSV's folder). */
  baseDir?: string;
}

const DEFAULT_COLUMNS: CsvColumns = {
  path: ['path', 'file', 'filename', 'file_path', 'image', 'image_path'],
  label: ['label', 'finding', 'class', 'diagnosis'],
  patient: ['patient', 'patient_id', 'patientid', 'subject', 'subject_id'],
};

function findColumn(header: string[], want: string | string[]): number {
  const names = (Array.isArray(want) ? want : [want]).map((s) => s.toLowerCase());
  return header.findIndex((h) => names.includes(h.trim().toLowerCase()));
}

export async function importCsv(csvPath: string, sink: ImageSink, options: CsvImportOptions): Promise<ImportReport> {
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch (err) {
    throw new DatasetInputError(`cannot read CSV: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const rows = parseCsv(text.replace(/^\uFEFF/, ''));
  if (rows.length === 0) throw new DatasetInputError('CSV is empty (no header row)');
  const header = rows[0]!;
  const cols = { ...DEFAULT_COLUMNS, ...options.columns };
  const idx = { path: findColumn(header, cols.path), label: findColumn(header, cols.label), patient: findColumn(header, cols.patient) };
  const missing = (Object.keys(idx) as (keyof typeof idx)[]).filter((k) => idx[k] < 0);
  if (missing.length > 0) {
    const want = missing.map((k) => `${k} (${[cols[k]].flat().join(' | ')})`).join(', ');
    throw new DatasetInputError(`CSV columns don't match: missing ${want}; found columns: ${header.map((h) => JSON.stringify(h)).join(', ')}`);
  }
  const folderIdx = cols.folder ? findColumn(header, cols.folder) : -1;
  if (cols.folder && folderIdx < 0) throw new DatasetInputError(`CSV columns don't match: missing folder (${[cols.folder].flat().join(' | ')}); found columns: ${header.join(', ')}`);
  const base = options.baseDir ?? dirname(csvPath);
  const mapLabel = options.mapLabel ?? parseFinding;
  const run = new ImportRun(sink, options);
  const lower = header.map((h) => h.trim().toLowerCase());
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const line = `line ${r + 1}`;
    if (row.length !== header.length) {
      run.skip(line, `row has ${row.length} fields, header has ${header.length}`);
      continue;
    }
    const ctx: CsvRowContext = { get: (c) => { const i = lower.indexOf(c.toLowerCase()); return i >= 0 ? row[i] : undefined; } };
    const rel = join(folderIdx >= 0 ? row[folderIdx]!.trim() : '', row[idx.path]!.trim());
    const display = `${line}: ${rel}`;
    if (!row[idx.path]!.trim()) { run.skip(line, 'empty path'); continue; }
    const abs = isAbsolute(rel) ? normalize(rel) : join(base, rel);
    // Paths must stay inside the dataset folder: a CSV is untrusted input.
    if (relative(base, abs).startsWith('..')) { run.skip(display, 'path leaves the dataset folder'); continue; }
    const filtered = options.rowFilter?.(ctx);
    if (filtered) { run.skip(display, filtered); continue; }
    const label = row[idx.label]!.trim();
    const finding = mapLabel(label);
    if (!finding) { run.skip(display, `label '${label}' is not one of the five findings`); continue; }
    const patient = row[idx.patient]!.trim();
    await run.add({ displayPath: display, absPath: abs, finding, ...(patient ? { patientKey: `csv:${patient}` } : {}) });
  }
  return run.report;
}
