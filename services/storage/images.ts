// Images in, images out: the checks an uploaded PNG passes before it is stored (size, structure, decompression-bomb
// limits, 8/16-bit grayscale, optional caller checksum), and the integrity check on the way back out.
import { createHash } from 'node:crypto';
import { invalidArgument } from '../../shared/grpc/errors.js';
import { InvalidImageError, validatePng, type PngLimits } from '../../shared/images/png.js';
import { ObjectNotFoundError, type ObjectStore } from './backends/object-store.js';
import { dataLoss } from './errors.js';
import { layout, type CollectionKind } from './layout.js';
import type { ImageEntry, ImageFacts } from './manifest.js';
import type { StorageMetrics } from './metrics.js';
import type { PackRead } from './packs.js';

export interface ImageMeta {
  finding: ImageFacts['finding'];
  patientId: string;
  split: ImageFacts['split'];
  view: string;
  source: string;
  /** Caller's sha256 of the bytes, '' when not given. */
  expectedSha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Validates one uploaded PNG and describes it. Throws INVALID_ARGUMENT with the reason. */
export function checkImage(png: Buffer, meta: ImageMeta, limits: PngLimits, label: string): ImageFacts {
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

/** Reads images back out of their packs, verifying each, and counts what that costs. */
export class PackReader {
  constructor(
    private readonly store: ObjectStore,
    private readonly metrics: StorageMetrics,
  ) {}

  /** The images one planned read (packs.planReads) covers, in its order, each verified; DATA_LOSS otherwise. */
  async read(kind: CollectionKind, id: string, read: PackRead): Promise<Buffer[]> {
    let bytes: Buffer;
    try {
      bytes = await this.store.getRange(layout.pack(kind, id, read.pack), read.start, read.end - read.start);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        throw dataLoss(`image ${read.entries[0]!.sha256} is listed in the manifest of ${id} but its pack ${read.pack} is missing from storage`);
      }
      throw err;
    }
    this.metrics.packRead(bytes.byteLength);
    return read.entries.map((e) => {
      const png = verifiedImage(bytes.subarray(e.offset - read.start, e.offset - read.start + e.sizeBytes), id, e);
      this.metrics.imageServed(png.byteLength);
      return png;
    });
  }

  /** One stored image, verified. */
  async image(kind: CollectionKind, id: string, entry: ImageEntry): Promise<Buffer> {
    const [png] = await this.read(kind, id, { pack: entry.pack, start: entry.offset, end: entry.offset + entry.sizeBytes, entries: [entry] });
    return png!;
  }
}

/** The image's bytes if they are all there and hash to its name; DATA_LOSS otherwise. */
function verifiedImage(bytes: Buffer, id: string, entry: ImageEntry): Buffer {
  if (bytes.byteLength !== entry.sizeBytes || sha256Hex(bytes) !== entry.sha256) {
    throw dataLoss(`stored image ${entry.sha256} of ${id} failed its integrity check (${bytes.byteLength === entry.sizeBytes ? 'sha256 mismatch' : `pack ${entry.pack} holds ${bytes.byteLength} of its ${entry.sizeBytes} bytes`})`);
  }
  return bytes;
}
