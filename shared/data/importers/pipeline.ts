// The loop every importer shares: read a file (size-capped), decode it, check it is a frontal film, pick the
// patient pseudonym, hand it to the sink, and record the outcome. A bad file becomes a `skipped` entry; only a
// failing sink (storage down) aborts the import, since silently dropping good images would be worse.

import { readFile, stat } from 'node:fs/promises';
import { pseudonymize } from '../../images/dicom.js';
import { emptyCounts, type Finding } from '../findings.js';
import { decodeImageFile, isNonFrontalView, reasonOf } from './decode.js';
import type { ImageSink, ImportOptionsBase, ImportReport } from './types.js';

export interface ImportCandidate {
  /** Path shown in the report (relative to the import root). */
  displayPath: string;
  absPath: string;
  finding: Finding;
  /** Patient key from the source (folder name, CSV column, file stem); pseudonymised before it leaves. */
  patientKey?: string;
}

export class ImportRun {
  readonly report: ImportReport = { imported: 0, counts: emptyCounts(), skipped: [] };
  constructor(
    private readonly sink: ImageSink,
    private readonly options: ImportOptionsBase,
  ) {}

  skip(path: string, reason: string): void {
    this.report.skipped.push({ path, reason });
  }

  async add(c: ImportCandidate): Promise<void> {
    let bytes: Uint8Array;
    try {
      const st = await stat(c.absPath);
      if (!st.isFile()) return this.skip(c.displayPath, 'not a regular file');
      const max = this.options.maxFileBytes ?? 256 * 1024 * 1024;
      if (st.size > max) return this.skip(c.displayPath, `file is ${st.size} bytes, above the ${max}-byte limit`);
      if (st.size === 0) return this.skip(c.displayPath, 'empty file');
      bytes = new Uint8Array(await readFile(c.absPath));
    } catch (err) {
      return this.skip(c.displayPath, `cannot read file: ${(err as NodeJS.ErrnoException).code ?? reasonOf(err)}`);
    }
    let decoded;
    try {
      decoded = decodeImageFile(bytes, this.options);
    } catch (err) {
      return this.skip(c.displayPath, reasonOf(err));
    }
    if (isNonFrontalView(decoded.view)) return this.skip(c.displayPath, `not a frontal view (ViewPosition ${decoded.view})`);
    // DICOM's own Patient ID wins (it is what links a patient's films); else the source's key; else the file itself.
    const patientId = decoded.patientPseudonym ?? pseudonymize(c.patientKey ?? `file:${c.displayPath}`, this.options.salt);
    await this.sink.put(decoded.image, {
      finding: c.finding,
      patientId,
      format: decoded.format,
      bitDepth: decoded.image.bitDepth,
      ...(decoded.view ? { view: decoded.view } : {}),
      ...(decoded.modality ? { modality: decoded.modality } : {}),
    });
    this.report.imported++;
    this.report.counts[c.finding]++;
  }
}
