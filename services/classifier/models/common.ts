// Pieces every classifier family shares: the seeded initialisers, the input (S×S×1 grey in [0, 1], normalised
// inside the network so the stored model takes the same pixels the metrics service's domain network feeds it),
// and the head the study put on every timm backbone: global pooling ("features"), dropout, Dense softmax.
import { tf } from '../../../shared/tf/index.js';

type Initializer = ReturnType<typeof tf.initializers.heNormal>;
import { Finding } from '../../../shared/proto/cxrsynth/v1/common.js';

/** Output k is CLASS_FINDINGS[k]: Finding order 1..5, as Prediction.probabilities (common.proto). */
export const CLASS_FINDINGS: readonly Finding[] = [Finding.HEALTHY, Finding.BACTERIAL, Finding.VIRAL, Finding.FUNGAL, Finding.COVID19];
export const NUM_CLASSES = CLASS_FINDINGS.length;

/** The grey mean / std the study's ImageNet normalisation reduces to on one channel (as normalize.standardize). */
export const INPUT_MEAN = 0.449;
export const INPUT_STD = 0.226;

export const MIN_IMAGE_SIZE = 16;
export const MAX_IMAGE_SIZE = 256;

export interface BuildOptions {
  /** Input side S (square, one channel). */
  imageSize: number;
  /** Dropout before the head; the study: 0.5. */
  dropout: number;
  /** Seeds every initialiser (and the dropout layer) so the same seed builds the same network. */
  seed: number;
  /** Width multiplier on every family's channel counts (tests use < 1); default 1. */
  width?: number;
}

/** Hands out one seed per initialiser, in layer-creation order: same options → same initial weights. */
export class Seeds {
  private n = 0;
  constructor(private readonly base: number) {}
  next(): number {
    // Keep within 32 bits: tfjs hashes seeds as numbers and large values lose precision.
    return (Math.abs(Math.trunc(this.base)) * 7919 + ++this.n * 104729) % 2147483647;
  }
  he(): Initializer {
    return tf.initializers.heNormal({ seed: this.next() });
  }
  glorot(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.next() });
  }
  truncated(stddev = 0.02): Initializer {
    return tf.initializers.truncatedNormal({ stddev, seed: this.next() });
  }
}

/** Scaled channel count, kept a multiple of 4 and at least 4. */
export function channels(base: number, width = 1): number {
  return Math.max(4, Math.round((base * width) / 4) * 4);
}

export function checkBuildOptions(o: BuildOptions): void {
  if (!Number.isInteger(o.imageSize) || o.imageSize < MIN_IMAGE_SIZE || o.imageSize > MAX_IMAGE_SIZE) {
    throw new RangeError(`image size must be an integer from ${MIN_IMAGE_SIZE} to ${MAX_IMAGE_SIZE}, got ${o.imageSize}`);
  }
  if (!(o.dropout >= 0 && o.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${o.dropout}`);
  if (o.width !== undefined && !(o.width > 0 && o.width <= 4)) throw new RangeError(`width multiplier must be in (0, 4], got ${o.width}`);
}

/** The input and its normalisation: the network takes [0, 1] grey, like every decoded image in the project. */
export function inputLayer(size: number): { input: tf.SymbolicTensor; x: tf.SymbolicTensor } {
  const input = tf.input({ shape: [size, size, 1], name: 'image' });
  const x = tf.layers.rescaling({ scale: 1 / INPUT_STD, offset: -INPUT_MEAN / INPUT_STD, name: 'normalize' }).apply(input) as tf.SymbolicTensor;
  return { input, x };
}

/**
 * The study's head: dropout then a new Dense softmax over the five findings. `pooled` is the layer named
 * "features" (what the metrics service's domain network reads).
 */
export function head(input: tf.SymbolicTensor, pooled: tf.SymbolicTensor, o: BuildOptions, seeds: Seeds, name: string): tf.LayersModel {
  const dropped = tf.layers.dropout({ rate: o.dropout, seed: seeds.next(), name: 'head_dropout' }).apply(pooled) as tf.SymbolicTensor;
  const probs = tf.layers
    .dense({ units: NUM_CLASSES, activation: 'softmax', kernelInitializer: seeds.glorot(), name: 'head' })
    .apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: probs, name });
}

/** How many stride-2 steps the input affords from `spatial` without going below 1×1 (keeps tiny inputs valid). */
export function canHalve(spatial: number): boolean {
  return spatial >= 2;
}

export function half(spatial: number): number {
  return Math.ceil(spatial / 2);
}
