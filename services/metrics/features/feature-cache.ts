// Cache of real-image features (storage namespace FEATURES: keys start with features/), so the real side of every comparison is extracted once.
// We cache the features themselves (float32, exactly what the network produced) rather than only
// mean and covariance: KID, precision/recall and memorization need the vectors, and FID's mean and
// covariance follow from them in milliseconds. 865 images × 2048 dims is 7 MB.
//
// Key: everything that changes the vectors —
//   feature network name + weights hash + preprocessing version  (which function)
//   collection + split + finding                                  (which images, readable)
//   digest of the sorted image sha256 list                        (which images, exactly: a dataset
//                                                                  that gained or lost an image misses)
import { createHash } from 'node:crypto';
import type { Matrix } from '../linalg/matrix.js';
import type { BlobIO } from '../../../shared/tf/index.js';

/** Bump when prepareBatch changes (resize filter, channel handling, scaling). */
export const PREPROCESSING_VERSION = 1;

export interface FeatureCacheKey {
  readonly network: string;
  readonly weightsHash: string;
  /** e.g. "dataset:phantom-v1" */
  readonly collection: string;
  /** e.g. "train" */
  readonly split: string;
  /** e.g. "viral" or "all" */
  readonly finding: string;
  /** sha256 of each image, in any order */
  readonly imageSha256s: readonly string[];
}

const SAFE = /[^A-Za-z0-9._-]+/g;

export function imagesDigest(shas: readonly string[]): string {
  return createHash('sha256').update([...shas].sort().join('\n')).digest('hex');
}

export function featureCacheKey(k: FeatureCacheKey): string {
  const part = (s: string) => (s.replace(SAFE, '_') || '_').slice(0, 80);
  return [
    'features',
    part(k.network),
    `${k.weightsHash.slice(0, 16)}-p${PREPROCESSING_VERSION}`,
    part(k.collection),
    part(k.split),
    part(k.finding),
    `${imagesDigest(k.imageSha256s).slice(0, 32)}.f32`,
  ].join('/');
}

const MAGIC = 'CXRFEAT1\n';

interface Header {
  rows: number;
  cols: number;
  key: string;
}

export function encodeFeatures(m: Matrix, key: string): Uint8Array {
  const header = new TextEncoder().encode(MAGIC + JSON.stringify({ rows: m.rows, cols: m.cols, key } satisfies Header) + '\n');
  const pad = (4 - (header.length % 4)) % 4; // keep the float payload 4-byte aligned
  const out = new Uint8Array(header.length + pad + m.rows * m.cols * 4);
  out.set(header);
  out.fill(0x20, header.length, header.length + pad);
  const payload = new Float32Array(out.buffer, header.length + pad, m.rows * m.cols);
  payload.set(m.data);
  return out;
}

export function decodeFeatures(bytes: Uint8Array, expectedKey: string): Matrix {
  const text = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  if (!text.startsWith(MAGIC)) throw new RangeError('not a cached feature file');
  const end = text.indexOf('\n', MAGIC.length);
  if (end < 0) throw new RangeError('cached feature file has no header');
  const header = JSON.parse(text.slice(MAGIC.length, end)) as Header;
  if (header.key !== expectedKey) throw new RangeError(`cached features are for ${header.key}, not ${expectedKey}`);
  let start = new TextEncoder().encode(text.slice(0, end + 1)).length;
  while (start % 4 !== 0) start++;
  const count = header.rows * header.cols;
  if (bytes.length - start !== count * 4) throw new RangeError('cached feature file is truncated');
  const copy = bytes.slice(start); // aligned copy for the Float32Array view
  return { rows: header.rows, cols: header.cols, data: Float64Array.from(new Float32Array(copy.buffer, 0, count)) };
}

export class FeatureCache {
  constructor(private readonly store: BlobIO) {}

  async get(key: FeatureCacheKey): Promise<Matrix | undefined> {
    const path = featureCacheKey(key);
    const bytes = await this.store.getBytes(path);
    if (bytes === undefined) return undefined;
    try {
      return decodeFeatures(bytes, path);
    } catch {
      return undefined; // a damaged entry is a miss; the recomputed one overwrites it
    }
  }

  async put(key: FeatureCacheKey, features: Matrix): Promise<void> {
    const path = featureCacheKey(key);
    await this.store.put(path, encodeFeatures(features, path));
  }

  /** Cached features, or compute + store them. `hit` says which happened. */
  async getOrCompute(key: FeatureCacheKey, compute: () => Promise<Matrix>): Promise<{ features: Matrix; hit: boolean }> {
    const cached = await this.get(key);
    if (cached !== undefined && cached.rows === key.imageSha256s.length) return { features: cached, hit: true };
    const features = await compute();
    await this.put(key, features);
    return { features, hit: false };
  }
}
