// Images in, images out: the checks an uploaded PNG passes before it is stored (size, structure, decompression-bomb
// limits, 8/16-bit grayscale, optional caller checksum), and the integrity check on the way back out.
import { createHash } from 'node:crypto';
import { invalidArgument } from '../../shared/grpc/errors.js';
import { InvalidImageError, validatePng, type PngLimits } from '../../shared/images/png.js';
import { ObjectNotFoundError, type ObjectStore } from './backends/object-store.js';
import { dataLoss } from './errors.js';
import { layout, type CollectionKind } from './layout.js';
import type { ImageEntry } from './manifest.js';

export interface ImageMeta {
  finding: ImageEntry['finding'];
  patientId: string;
  split: ImageEntry['split'];
  view: string;
  source: string;
  /** Caller's sha256 of the bytes, '' when not given. */
  expectedSha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Validates one uploaded PNG and builds its manifest entry. Throws INVALID_ARGUMENT with the reason. */
export function checkImage(png: Buffer, meta: ImageMeta, limits: PngLimits, label: string): ImageEntry {
  let info;
  try {
    info = validatePng(png, { limits, requireGray: true });
  } catch (err) {
    if (err instanceof InvalidImageError) {
      throw invalidArgument(`${label}: ${err.message}`, { reason: err.reason });
    }
    throw err;
  }
  const sha = sha256Hex(png);
  if (meta.expectedSha256 !== '' && meta.expectedSha256 !== sha) {
    throw invalidArgument(`${label}: bytes do not match header.sha256 (got ${sha}, header says ${meta.expectedSha256})`, {
      reason: 'sha256_mismatch',
    });
  }
  return {
    sha256: sha,
    finding: meta.finding,
    patientId: meta.patientId,
    split: meta.split,
    fold: 0,
    width: info.width,
    height: info.height,
    bitDepth: info.bitDepth as 8 | 16,
    sizeBytes: png.byteLength,
    view: meta.view,
    source: meta.source,
  };
}

/** Reads a stored image and verifies it still hashes to its name. */
export async function readImage(store: ObjectStore, kind: CollectionKind, id: string, sha: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await store.getBytes(layout.image(kind, id, sha));
  } catch (err) {
    if (err instanceof ObjectNotFoundError) {
      throw dataLoss(`image ${sha} is listed in the manifest of ${id} but missing from storage`);
    }
    throw err;
  }
  if (sha256Hex(bytes) !== sha) throw dataLoss(`stored image ${sha} of ${id} failed its integrity check (sha256 mismatch)`);
  return bytes;
}
