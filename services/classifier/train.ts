// The training loop, the study's recipe (Schaudt et al. 2023, train.py) on our scaled networks: Adam,
// cross-entropy, a cosine learning-rate schedule over all steps, optional "strong" augmentation (never a
// horizontal flip), and the checkpoint with the lowest validation loss kept — validation being the
// validation split or a held-out fold, never the test split. Everything seeded: initial weights (the model
// builders), the data order and augmentation per epoch, and the dropout masks per step.
import { createImage } from '../../shared/images/image.js';
import { strongAugmentation, type Transform } from '../../shared/images/augment/index.js';
import { createRng } from '../../shared/images/rng.js';
import { multiTensorAdam, tf } from '../../shared/tf/index.js';
import type { Sample } from './data.js';
import { NUM_CLASSES } from './models/index.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  augment: boolean;
  imageSize: number;
}

export interface StepProgress {
  epoch: number; // 1-based
  step: number; // 1-based, over all epochs
  totalSteps: number;
  loss: number;
  learningRate: number;
  samples: number; // in this step
}

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
}

export interface TrainResult {
  bestEpoch: number;
  bestValLoss: number;
  history: EpochResult[];
}

export interface TrainHooks {
  onStep?(p: StepProgress): void;
  onEpoch?(r: EpochResult, improved: boolean): void;
}

/** Cosine decay from `lr` to 0 over `total` steps (the study's CosineAnnealingLR over the whole run). */
export function cosineLr(lr: number, step: number, total: number): number {
  return 0.5 * lr * (1 + Math.cos((Math.PI * Math.min(step, total)) / Math.max(1, total)));
}

/** One batch as tensors; augmentation (seeded per epoch and image) applied to the already-resized image. */
export function batchTensors(samples: readonly Sample[], size: number, augment: Transform | null, epochSeed: string): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const px = size * size;
  const x = new Float32Array(samples.length * px);
  samples.forEach((s, i) => {
    const pixels = augment === null ? s.pixels : augment.apply(createImage(size, size, 8, s.pixels), createRng(`${epochSeed}/${s.sha256}/${i}`)).data;
    x.set(pixels, i * px);
  });
  return tf.tidy(() => ({
    x: tf.tensor4d(x, [samples.length, size, size, 1]),
    y: tf.oneHot(tf.tensor1d(samples.map((s) => s.label), 'int32'), NUM_CLASSES).toFloat() as tf.Tensor2D,
  }));
}

/** Class probabilities for samples, in batches (inference mode: no dropout, BN moving statistics). */
export function predictProbabilities(model: tf.LayersModel, pixels: readonly Float32Array[], size: number, batch = 32): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < pixels.length; i += batch) {
    const chunk = pixels.slice(i, i + batch);
    const flat = new Float32Array(chunk.length * size * size);
    chunk.forEach((p, j) => flat.set(p, j * size * size));
    const probs = tf.tidy(() => (model.predict(tf.tensor4d(flat, [chunk.length, size, size, 1])) as tf.Tensor2D).dataSync() as Float32Array);
    for (let j = 0; j < chunk.length; j++) out.push(probs.slice(j * NUM_CLASSES, (j + 1) * NUM_CLASSES));
  }
  return out;
}

/** Mean cross-entropy and accuracy of the model on labelled samples. */
export function evaluateLoss(model: tf.LayersModel, samples: readonly Sample[], size: number): { loss: number; accuracy: number } {
  const probs = predictProbabilities(model, samples.map((s) => s.pixels), size);
  let loss = 0;
  let correct = 0;
  probs.forEach((p, i) => {
    const label = samples[i]!.label;
    loss -= Math.log(Math.max(p[label]!, 1e-7));
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
    if (best === label) correct++;
  });
  return { loss: loss / samples.length, accuracy: correct / samples.length };
}

interface Seeded {
  seed?: number;
}
interface WithLearningRate {
  learningRate: number;
}

/**
 * tfjs's Dropout draws its mask from its `seed` on every call, so a fixed seed would drop the same units at
 * every step; an unseeded one would not be reproducible. We give each step its own seed instead.
 */
function reseedDropout(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) if (layer.getClassName() === 'Dropout') (layer as unknown as Seeded).seed = seed;
}

interface WithMomentum {
  momentum: number;
}

/**
 * "Precise BN": re-estimates every BatchNormalization layer's moving mean and variance as the plain average
 * over training-mode passes on (un-augmented) training images, with the weights as they are now. On short
 * runs the exponential moving averages lag far behind weights that still move fast, and inference — which
 * uses them — then sees shrunken activations (EfficientNet's stacked BN + SE collapsed to uniform outputs).
 */
export function recalibrateBatchNorm(model: tf.LayersModel, samples: readonly Sample[], size: number, batch = 32, maxBatches = 8): void {
  const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as unknown as WithMomentum[];
  if (bns.length === 0 || samples.length === 0) return;
  const saved = bns.map((l) => l.momentum);
  try {
    const n = Math.min(maxBatches, Math.ceil(samples.length / batch));
    for (let i = 0; i < n; i++) {
      // momentum 1 − 1/(i+1): pass i replaces 1/(i+1) of the estimate, i.e. a running plain mean; pass 0 resets.
      for (const l of bns) l.momentum = i / (i + 1);
      const { x, y } = batchTensors(samples.slice(i * batch, (i + 1) * batch), size, null, '');
      tf.dispose([x, y, model.apply(x, { training: true }) as tf.Tensor]);
    }
  } finally {
    bns.forEach((l, i) => (l.momentum = saved[i]!));
  }
}

/** Trains `model` in place; on return it holds the weights of the epoch with the lowest validation loss. */
export async function trainModel(model: tf.LayersModel, train: readonly Sample[], val: readonly Sample[], o: TrainOptions, hooks: TrainHooks = {}, signal?: AbortSignal): Promise<TrainResult> {
  if (train.length === 0 || val.length === 0) throw new RangeError('training needs at least one training and one validation image');
  const optimizer = multiTensorAdam(o.learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const augment = o.augment ? strongAugmentation() : null;
  const stepsPerEpoch = Math.ceil(train.length / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const rng = createRng(`classifier-train/${o.seed}`);
  const history: EpochResult[] = [];
  let best: { epoch: number; loss: number; weights: tf.Tensor[] } | null = null;
  let step = 0;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = rng.fork(`order/${epoch}`).shuffle([...train]);
      let lossSum = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        signal?.throwIfAborted();
        const batch = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
        const lr = cosineLr(o.learningRate, step, totalSteps);
        (optimizer as unknown as WithLearningRate).learningRate = lr;
        reseedDropout(model, (Math.abs(Math.trunc(o.seed)) * 31 + step * 7 + 1) % 2147483647);
        const { x, y } = batchTensors(batch, o.imageSize, augment, `classifier-augment/${o.seed}/${epoch}`);
        let loss: number;
        try {
          const r = await model.trainOnBatch(x, y);
          loss = Array.isArray(r) ? r[0]! : r;
        } finally {
          tf.dispose([x, y]);
        }
        step++;
        lossSum += loss * batch.length;
        hooks.onStep?.({ epoch, step, totalSteps, loss, learningRate: lr, samples: batch.length });
        // Let the event loop breathe between steps: CancelJob and the progress stream run on it.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      signal?.throwIfAborted();
      recalibrateBatchNorm(model, order, o.imageSize);
      const v = evaluateLoss(model, val, o.imageSize);
      const result: EpochResult = { epoch, trainLoss: lossSum / train.length, valLoss: v.loss, valAccuracy: v.accuracy };
      history.push(result);
      const improved = best === null || v.loss < best.loss;
      if (improved) {
        if (best !== null) tf.dispose(best.weights);
        best = { epoch, loss: v.loss, weights: model.getWeights().map((w) => w.clone()) };
      }
      hooks.onEpoch?.(result, improved);
    }
    model.setWeights(best!.weights);
    return { bestEpoch: best!.epoch, bestValLoss: best!.loss, history };
  } finally {
    if (best !== null) tf.dispose(best.weights);
    optimizer.dispose();
  }
}
