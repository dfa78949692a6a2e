// Folder-per-class import: ROOT/<class>/**/<image files>. Class folder names map to findings through `classMap`
// (case-insensitive) or, by default, the usual spellings ("healthy", "normal", "COVID-19", "bacterial", …; the
// study's one-letter folders B/C/F/H/V work too). Patients: by default each file is its own patient unless DICOM
// carries a Patient ID; `patientPattern` (a regex with one capture group on the file name, e.g. /^(P\d+)_/) groups
// several files of one patient.

import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DatasetInputError, FINDINGS, parseFinding, type Finding } from '../findings.js';
import { ImportRun } from './pipeline.js';
import type { ImageSink, ImportOptionsBase, ImportReport } from './types.js';

export interface FolderImportOptions extends ImportOptionsBase {
  /** Folder name → finding, e.g. { "NORMAL": "healthy", "PNEUMONIA_VIRUS": "viral" }. Overrides the defaults. */
  classMap?: Record<string, Finding>;
  patientPattern?: RegExp;
}

const IGNORED = /^(\.|_|thumbs\.db$|desktop\.ini$)/i;

export function resolveClassName(name: string, classMap?: Record<string, Finding>): Finding | undefined {
  if (classMap) {
    for (const [k, v] of Object.entries(classMap)) if (k.toLowerCase() === name.toLowerCase()) return v;
  }
  return parseFinding(name.replace(/[_\s]+/g, ' '));
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (IGNORED.test(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

export async function importFolder(root: string, sink: ImageSink, options: FolderImportOptions): Promise<ImportReport> {
  if (options.classMap) {
    for (const [k, v] of Object.entries(options.classMap)) {
      if (!(FINDINGS as readonly string[]).includes(v)) throw new DatasetInputError(`class map entry '${k}' → '${v}': not a finding (${FINDINGS.join(', ')})`);
    }
  }
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new DatasetInputError(`cannot read import folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const classes: [string, Finding][] = [];
  const unknown: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || IGNORED.test(e.name)) continue;
    const f = resolveClassName(e.name, options.classMap);
    if (f) classes.push([e.name, f]); else unknown.push(e.name);
  }
  if (classes.length === 0) {
    throw new DatasetInputError(
      `no class folders recognised in the import folder${unknown.length ? ` (found: ${unknown.slice(0, 10).join(', ')})` : ''}; ` +
        `expected one folder per finding named ${FINDINGS.join(', ')} (or aliases such as normal, covid-19, b/c/f/h/v), or pass a class map`,
    );
  }
  const run = new ImportRun(sink, options);
  for (const name of unknown.sort()) run.skip(name + '/', 'folder name is not a known class');
  for (const [name, finding] of classes.sort((a, b) => a[0].localeCompare(b[0]))) {
    for (const abs of await walk(join(root, name))) {
      const rel = relative(root, abs);
      const base = abs.split(/[\\/]/).pop()!;
      const m = options.patientPattern?.exec(base);
      await run.add({ displayPath: rel, absPath: abs, finding, ...(m?.[1] ? { patientKey: `pattern:${m[1]}` } : {}) });
    }
  }
  return run.report;
}
