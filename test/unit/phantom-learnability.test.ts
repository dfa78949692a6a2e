// The phantom data must be learnable (a small CNN beats chance by far) but not trivial (it stays below 100%),
// like the study's data. Tiny on purpose: 32 px, balanced classes, a few epochs. TensorFlow.js comes from the
// project's shared/tf (best available backend); if that module can't load, tfjs's own cpu backend is used.
import * as tfjs from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { planPhantomDataset, renderPhantomRecord, type PhantomRecord } from '../../shared/data/phantom/index.js';
import { splitDataset } from '../../shared/data/splits.js';
import { FINDINGS } from '../../shared/data/findings.js';
import { standardize } from '../../shared/images/normalize.js';

const SIZE = 32;
let tf: typeof tfjs = tfjs;

async function loadTf(): Promise<void> {
  try {
    const mod = (await import('../../shared/tf/index.js')) as { tf: typeof tfjs; initTf: () => Promise<unknown> };
    await mod.initTf();
    tf = mod.tf;
  } catch {
    await tfjs.setBackend('cpu');
    tf = tfjs;
  }
}

function tensors(recs: PhantomRecord[]) {
  const x = new Float32Array(recs.length * SIZE * SIZE);
  recs.forEach((r, i) => x.set(standardize(renderPhantomRecord(r, SIZE)), i * SIZE * SIZE));
  const y = recs.map((r) => FINDINGS.indexOf(r.finding));
  return { x: tf.tensor4d(x, [recs.length, SIZE, SIZE, 1]), y: tf.oneHot(tf.tensor1d(y, 'int32'), FINDINGS.length), labels: y };
}

describe('phantom learnability', () => {
  it('a small CNN separates the five classes far above chance and below 100%', async () => {
    await loadTf();
    const recs = planPhantomDataset({ seed: 'learnability', counts: { healthy: 80, bacterial: 80, viral: 80, fungal: 80, covid19: 80 } });
    const split = splitDataset(recs, { val: 0, test: 0.25, seed: 3 });
    const train = tensors(recs.filter((r) => split.get(r.id) === 'train'));
    const test = tensors(recs.filter((r) => split.get(r.id) === 'test'));
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [SIZE, SIZE, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }));
    model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }));
    model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 3 }) }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: FINDINGS.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
    model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy' });
    await model.fit(train.x, train.y, { epochs: 30, batchSize: 16, shuffle: false, verbose: 0 });
    const pred = (model.predict(test.x) as tfjs.Tensor).argMax(1).dataSync();
    const correct = test.labels.filter((y, i) => pred[i] === y).length;
    const acc = correct / test.labels.length;
    // Chance is 0.2 with balanced classes; with ~100 test images, 0.4 is five standard deviations above it.
    // (At 64 px on the study's 865/217 split a slightly bigger CNN reaches about 0.82; 32 px hides the fine findings.)
    expect(acc).toBeGreaterThan(0.4);
    expect(acc).toBeLessThan(1);
    tf.dispose([train.x, train.y, test.x, test.y]);
    model.dispose();
  }, 600_000);
});
