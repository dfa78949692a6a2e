// Feature networks: what turns images into the vectors FID, KID, precision/recall and memorization
// compare. Pluggable, and the name (plus a hash of the weights) goes into every result, because a
// number computed with one network is not comparable with one computed with another.
//   inception-v3  the standard FID network (2048-d), weights supplied by the operator
//   domain        penultimate features of a classifier trained on the real training split (the default;
//                 it needs no external weights and knows what chest X-rays look like)
// Preprocessing, shared by both: our images are single-channel [0, 1]; they are resized to the
// network's input with BILINEAR interpolation, half-pixel centres, no antialiasing — what pytorch-fid
// does (F.interpolate(mode='bilinear', align_corners=False)) — then replicated to 3 channels when the
// network wants RGB, then mapped to the network's input range.
import type { GrayImage } from '../../../shared/images/image.js';
import type { Matrix } from '../linalg/matrix.js';
import { tf } from './tf.js';

export const FEATURE_NETWORKS = ['domain', 'inception-v3'] as const;
export type FeatureNetworkName = (typeof FEATURE_NETWORKS)[number];

export class UnknownFeatureNetworkError extends Error {
  constructor(readonly requested: string) {
    super(`unknown feature network "${requested}"; use one of: ${FEATURE_NETWORKS.join(', ')}`);
    this.name = 'UnknownFeatureNetworkError';
  }
}

/** The weights a network needs are not in storage (maps to FAILED_PRECONDITION). */
export class MissingWeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingWeightsError';
  }
}

/** '' means the default, 'domain'. */
export function parseFeatureNetworkName(name: string): FeatureNetworkName {
  const n = name.trim().toLowerCase();
  if (n === '') return 'domain';
  if ((FEATURE_NETWORKS as readonly string[]).includes(n)) return n as FeatureNetworkName;
  throw new UnknownFeatureNetworkError(name);
}

export interface InputSpec {
  readonly size: number;
  readonly channels: 1 | 3;
  /** x ↦ x · scale + offset after resizing, e.g. [0,1] → [−1,1] is scale 2, offset −1 */
  readonly scale: number;
  readonly offset: number;
}

export interface FeatureNetwork {
  readonly name: FeatureNetworkName;
  readonly dim: number;
  /** sha256 of the weights; part of every cache key */
  readonly weightsHash: string;
  readonly input: InputSpec;
  /** the model on an already-prepared batch (N × size × size × channels) */
  forward(batch: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** Images → a network-ready batch (see the preprocessing note at the top). */
export function prepareBatch(images: readonly GrayImage[], input: InputSpec): tf.Tensor4D {
  return tf.tidy(() => {
    const resized = images.map((img) => {
      const t = tf.tensor3d(img.data, [img.height, img.width, 1], 'float32');
      return img.width === input.size && img.height === input.size
        ? t
        : tf.image.resizeBilinear(t, [input.size, input.size], false, true);
    });
    let batch = tf.stack(resized) as tf.Tensor4D;
    if (input.channels === 3) batch = tf.concat([batch, batch, batch], 3);
    return batch.mul(input.scale).add(input.offset) as tf.Tensor4D;
  });
}

export interface ExtractOptions {
  batchSize?: number;
  /** called after each batch with the number of images done */
  onProgress?: (done: number, total: number) => void | Promise<void>;
}

/** Features of every image, n × dim, float64 rows in input order. */
export async function extractFeatures(net: FeatureNetwork, images: readonly GrayImage[], options: ExtractOptions = {}): Promise<Matrix> {
  const batchSize = options.batchSize ?? 16;
  const out = new Float64Array(images.length * net.dim);
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const feats = tf.tidy(() => net.forward(prepareBatch(chunk, net.input)));
    const values = await feats.data();
    feats.dispose();
    if (values.length !== chunk.length * net.dim) {
      throw new Error(`feature network ${net.name} returned ${values.length} values for ${chunk.length} images of dim ${net.dim}`);
    }
    out.set(values, start * net.dim);
    await options.onProgress?.(start + chunk.length, images.length);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let gRPC I/O through between batches
  }
  return { rows: images.length, cols: net.dim, data: out };
}
