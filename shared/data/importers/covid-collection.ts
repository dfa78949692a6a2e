// Preset for the public COVID-19 chest X-ray collection (github.com/ieee8023/covid-chestxray-dataset) metadata.csv:
// columns patientid, finding, view, modality, folder, filename (among others). Findings are hierarchical strings:
//   "Pneumonia/Viral/COVID-19"      → covid19
//   "Pneumonia/Viral/<other>"       → viral   (SARS, MERS, Influenza, Varicella, Herpes …)
//   "Pneumonia/Bacterial/<species>" → bacterial
//   "Pneumonia/Fungal/<species>"    → fungal
//   "No Finding"                    → healthy
// anything else (Tuberculosis, Lipoid, unlabelled "Pneumonia", "todo") is skipped. Only X-ray frontal views are kept:
// PA, AP, AP Supine, AP erect/semi erect; lateral, CT slices (Axial/Coronal) are skipped.

import type { Finding } from '../findings.js';
import { importCsv, type CsvImportOptions } from './csv.js';
import type { ImageSink, ImportOptionsBase, ImportReport } from './types.js';

export function mapCovidCollectionFinding(label: string): Finding | undefined {
  const parts = label.split('/').map((p) => p.trim().toLowerCase());
  if (parts.length === 1 && parts[0] === 'no finding') return 'healthy';
  if (parts[0] !== 'pneumonia' || parts.length < 2) return undefined;
  if (parts[1] === 'viral') return parts[2] === 'covid-19' ? 'covid19' : parts.length >= 3 ? 'viral' : undefined;
  if (parts[1] === 'bacterial') return 'bacterial';
  if (parts[1] === 'fungal') return 'fungal';
  return undefined;
}

export function isFrontalView(view: string): boolean {
  const v = view.trim().toUpperCase();
  return v === 'PA' || v === 'AP' || v.startsWith('AP ');
}

export const COVID_COLLECTION_OPTIONS: Pick<CsvImportOptions, 'columns' | 'mapLabel' | 'rowFilter'> = {
  columns: { path: 'filename', folder: 'folder', label: 'finding', patient: 'patientid' },
  mapLabel: mapCovidCollectionFinding,
  rowFilter: (row) => {
    const modality = row.get('modality');
    if (modality !== undefined && modality.trim() !== '' && modality.trim().toLowerCase() !== 'x-ray') return `modality '${modality}' is not X-ray`;
    const view = row.get('view') ?? '';
    if (!isFrontalView(view)) return `view '${view}' is not frontal (PA/AP)`;
    return undefined;
  },
};

export function importCovidCollection(metadataCsv: string, sink: ImageSink, options: ImportOptionsBase): Promise<ImportReport> {
  return importCsv(metadataCsv, sink, { ...options, ...COVID_COLLECTION_OPTIONS });
}
