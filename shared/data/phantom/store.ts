// Renders a phantom dataset into an ImageSink (the storage client), one image at a time, so memory stays flat at
// any size. Returns the same kind of report the importers give.

import { emptyCounts } from '../findings.js';
import type { ImageSink, ImportReport } from '../importers/types.js';
import { DEFAULT_PHANTOM_SIZE, planPhantomDataset, validatePhantomSize, type PhantomOptions } from './dataset.js';
import { renderPhantom } from './render.js';

export interface StorePhantomOptions extends PhantomOptions {
  size?: number;
  /** Called after each stored image (progress reporting); `done` counts from 1. */
  onProgress?: (done: number, total: number) => void;
}

export async function storePhantomDataset(sink: ImageSink, options: StorePhantomOptions = {}): Promise<ImportReport> {
  const size = options.size ?? DEFAULT_PHANTOM_SIZE;
  validatePhantomSize(size);
  const records = planPhantomDataset(options);
  const report: ImportReport = { imported: 0, counts: emptyCounts(), skipped: [] };
  for (const rec of records) {
    await sink.put(renderPhantom(rec.spec, size), {
      finding: rec.finding,
      patientId: rec.patientId,
      format: 'phantom',
      bitDepth: 8,
      view: 'PA',
      sourceId: rec.id,
    });
    report.imported++;
    report.counts[rec.finding]++;
    options.onProgress?.(report.imported, records.length);
  }
  return report;
}
