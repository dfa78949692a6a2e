// Sniffs and decodes one image file (PNG 8/16-bit, JPEG, DICOM) into the project's GrayImage, by content, not by
// file extension. PNG goes through the storage engineer's validating decoder (shared/images/png.ts).

import { decodeDicom, isDicom } from '../../images/dicom.js';
import { ImageDecodeError, InvalidImageInputError, checkLimits } from '../../images/errors.js';
import { fromUint16, fromUint8, type GrayImage } from '../../images/image.js';
import { decodeJpegGray, isJpeg } from '../../images/jpeg.js';
import { decodePng } from '../../images/png.js';
import type { ImportOptionsBase, SourceFormat } from './types.js';

export interface DecodedFile {
  image: GrayImage;
  format: SourceFormat;
  patientPseudonym?: string;
  view?: string;
  modality?: string;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function sniffFormat(bytes: Uint8Array): SourceFormat | undefined {
  if (bytes.length >= 8 && PNG_SIG.every((b, i) => bytes[i] === b)) return 'png';
  if (isJpeg(bytes)) return 'jpeg';
  if (isDicom(bytes)) return 'dicom';
  return undefined;
}

/** Decode by content. Throws InvalidImageInputError (or the PNG module's InvalidImageError) for bad input. */
export function decodeImageFile(bytes: Uint8Array, options: ImportOptionsBase): DecodedFile {
  const format = sniffFormat(bytes);
  switch (format) {
    case 'png': {
      const png = decodePng(bytes, options.limits?.maxPixels ? { maxPixels: options.limits.maxPixels } : undefined);
      checkLimits(png.width, png.height, options.limits);
      const image = png.bitDepth === 16 ? fromUint16(png.width, png.height, png.data) : fromUint8(png.width, png.height, png.data);
      return { image, format };
    }
    case 'jpeg':
      return { image: decodeJpegGray(bytes, options.limits), format };
    case 'dicom': {
      const d = decodeDicom(bytes, { salt: options.salt, ...(options.limits ? { limits: options.limits } : {}) });
      if (d.meta.burnedInAnnotation === 'YES' && !options.allowBurnedInAnnotation) {
        throw new InvalidImageInputError('DICOM has BurnedInAnnotation=YES (text in the pixels may identify the patient)');
      }
      const out: DecodedFile = { image: d.image, format };
      if (d.patientPseudonym) out.patientPseudonym = d.patientPseudonym;
      if (d.meta.viewPosition) out.view = d.meta.viewPosition;
      if (d.meta.modality) out.modality = d.meta.modality;
      return out;
    }
    default:
      throw new ImageDecodeError('not a PNG, JPEG or DICOM file');
  }
}

/** Reason text for the import report from any decode failure. */
export function reasonOf(err: unknown): string {
  if (err instanceof InvalidImageInputError) return err.message;
  if (err instanceof Error) return `unreadable: ${err.message}`;
  return 'unreadable';
}

/** DICOM view positions that are not frontal chest films. */
export function isNonFrontalView(view: string | undefined): boolean {
  if (!view) return false;
  const v = view.toUpperCase();
  return v === 'LL' || v === 'RL' || v === 'LATERAL' || v === 'L' || v === 'LLD' || v === 'RLD' || v.startsWith('LAT');
}

