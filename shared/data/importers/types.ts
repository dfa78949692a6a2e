// What importers hand to storage, and what they report back.
// Importers never pass file paths or source identifiers on: a file name can hold a patient's name. The sink gets
// pixels, the finding, a pseudonymous patient id and technical fields; the report (for the operator running the
// import, printed locally) lists skipped files by path with the reason.

import type { GrayImage } from '../../images/image.js';
import type { DecodeLimits } from '../../images/errors.js';
import type { Finding, FindingCounts } from '../findings.js';

export type SourceFormat = 'png' | 'jpeg' | 'dicom' | 'phantom';

export interface ImportedImageMeta {
  finding: Finding;
  /** Pseudonymous patient id (keyed hash), used for patient-level splits. */
  patientId: string;
  format: SourceFormat;
  /** Bits per sample of the source (8 or 16); the image's own bitDepth matches. */
  bitDepth: 8 | 16;
  /** Frontal view when known (PA / AP). */
  view?: string;
  modality?: string;
  /** Stable id within a synthetic source (phantom image id). Importers of real data never set it. */
  sourceId?: string;
}

/** Where imported images go; the storage gRPC client implements this. put() resolves once the image is durable. */
export interface ImageSink {
  put(image: GrayImage, meta: ImportedImageMeta): Promise<void>;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface ImportReport {
  imported: number;
  counts: FindingCounts;
  skipped: SkippedFile[];
}

export interface ImportOptionsBase {
  /** Secret salt for patient pseudonyms (config: the deployment's de-identification salt). */
  salt: string;
  limits?: DecodeLimits;
  /** Largest file read, in bytes (default 256 MiB). */
  maxFileBytes?: number;
  /** Import DICOM files flagged BurnedInAnnotation=YES (text in the pixels may identify the patient). Default false. */
  allowBurnedInAnnotation?: boolean;
}
