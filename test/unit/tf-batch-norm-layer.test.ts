// shared/tf's BatchNormalization layer against tfjs-layers' own, on the backend initTf picks (and the composite
// kernels on `cpu`): the same outputs, gradients and moving averages in training, the same inference, the same
// saved form, and no leaked tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initTf } from '../../shared/tf/index.js';
import { BatchNormalization, batchNormalization } from '../../shared/tf/layers/batch-normalization.js';
import { registerBatchNormTrainingKernels } from '../../shared/tf/kernels/index.js';
import { BATCH_NORM_TRAINING } from '../../shared/tf/kernels/names.js';
import { parityCases, relativeError } from '../../shared/tf/testing/parity.js';
import { buildWithWeights, freeWeights } from '../support/layers.js';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const TOL = 1e-4;

/** Ours and tfjs-layers', built for `shape` with the same random weights. */
function pair(shape: number[], args: Parameters<typeof batchNormalization>[0] = {}): [tf.layers.Layer, tf.layers.Layer] {
  const layers: [tf.layers.Layer, tf.layers.Layer] = [
    batchNormalization({ momentum: 0.9, epsilon: 1e-3, ...args }),
    tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3, ...args }),
  ];
  return buildWithWeights(shape, layers, ([c]) => [tf.randomNormal(c!, 1, 0.3, 'float32', 1), tf.randomNormal(c!, 0, 1, 'float32', 2),
    tf.randomNormal(c!, 0, 1, 'float32', 3), tf.randomUniform(c!, 0.5, 2, 'float32', 4)]);
}

/** Training-mode output, gradients of Σ y·up w.r.t. x, gamma, beta, then the moving mean and variance. */
async function trainStep(layer: tf.layers.Layer, x: tf.Tensor, up: tf.Tensor): Promise<Float32Array[]> {
  const [gamma, beta] = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const outs = tf.tidy(() => {
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const f = () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, up)) as tf.Scalar;
    const { grads } = tf.variableGrads(f, [gamma!, beta!]);
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, up)))(x);
    return [y, dx, grads[gamma!.name]!, grads[beta!.name]!];
  });
  const arrays = await Promise.all([...outs, ...layer.getWeights().slice(2)].map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(outs);
  return arrays;
}

describe('BatchNormalization layer (fused training step)', () => {
  beforeAll(async () => {
    await initTf();
  });

  it.each([[[4, 6, 6, 5]], [[3, 8, 8, 16]], [[10, 7]]])('trains like tfjs-layers on x%j', async (shape) => {
    expect(tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend())).toBeDefined(); // the fused path is what runs
    const [ours, theirs] = pair(shape);
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 5), 3), 1);
    const up = tf.randomNormal(shape, 0, 1, 'float32', 6);
    const movingMeanBefore = Float32Array.from(await ours.getWeights()[2]!.data());
    const got = await trainStep(ours, x, up);
    const ref = await trainStep(theirs, x, up);
    expect(got).toHaveLength(6);
    expect(relativeError(ref, got)).toBeLessThanOrEqual(TOL);
    // The training applies moved the moving mean (so the comparison above covers the update, not two no-ops).
    expect(relativeError([movingMeanBefore], [got[4]!])).toBeGreaterThan(0.01);
    tf.dispose([x, up]);
    freeWeights(ours, theirs);
  });

  it('infers like tfjs-layers, and falls back to its path for a non-last axis', async () => {
    for (const [shape, axis, training] of [[[2, 5, 5, 4], -1, false], [[2, 4, 5, 5], 1, true]] as const) {
      const [ours, theirs] = pair([...shape], { axis });
      const x = tf.randomNormal([...shape], 0, 2, 'float32', 7);
      const a = tf.tidy(() => ours.apply(x, { training }) as tf.Tensor);
      const b = tf.tidy(() => theirs.apply(x, { training }) as tf.Tensor);
      expect(relativeError([await b.data() as Float32Array], [await a.data() as Float32Array])).toBeLessThanOrEqual(TOL);
      tf.dispose([x, a, b]);
      freeWeights(ours, theirs);
    }
  });

  it('saves as a plain Keras BatchNormalization and loads back into this class, weights included', async () => {
    const model = tf.sequential({ layers: [batchNormalization({ inputShape: [4, 4, 3], momentum: 0.8 })] });
    model.setWeights(model.getWeights().map((w, i) => tf.fill(w.shape, i + 2)));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const topology = saved!.modelTopology as { config: { layers: { class_name: string }[] } };
    expect(topology.config.layers[0]!.class_name).toBe('BatchNormalization');
    const back = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(back.layers[0]).toBeInstanceOf(BatchNormalization);
    expect((back.layers[0] as unknown as { momentum: number }).momentum).toBe(0.8);
    expect(await Promise.all(back.getWeights().map(async (w) => (await w.data())[0]))).toEqual([2, 3, 4, 5]);
    model.dispose();
    back.dispose();
  });

  it('leaks no tensors over a training step', async () => {
    const [ours, theirs] = pair([4, 6, 6, 5]);
    const x = tf.randomNormal([4, 6, 6, 5]);
    const up = tf.randomNormal([4, 6, 6, 5]);
    await trainStep(ours, x, up);
    const before = tf.memory().numTensors;
    await trainStep(ours, x, up);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, up]);
    freeWeights(ours, theirs);
  });

  it('the composite kernels match tf.moments + tf.batchNorm on the cpu backend too', async () => {
    registerBatchNormTrainingKernels('cpu');
    const backend = tf.getBackend();
    for (const c of parityCases().filter((p) => p.kernels.includes(BATCH_NORM_TRAINING))) {
      await tf.setBackend('cpu');
      const got = tf.tidy(c.run);
      const ref = tf.tidy(c.reference!);
      const arrays = async (ts: tf.Tensor[]) => Promise.all(ts.map(async (t) => Float32Array.from(await t.data())));
      expect(relativeError(await arrays(ref), await arrays(got))).toBeLessThanOrEqual(TOL);
      tf.dispose([...got, ...ref]);
    }
    await tf.setBackend(backend);
  });
});
