// The five classifier families: the shape contract the service and the metrics service's domain network
// rely on (S×S×1 in, five softmax outputs in Finding order, a flat "features" layer feeding dropout 0.5 and the
// head), each family's own building block present, one training step lowering the loss on a fixed batch,
// and determinism (same seed → same initial weights and the same weights after a step).
import { beforeAll, describe, expect, it } from 'vitest';
import { ClassifierArchitecture } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { initTf, tf } from '../../shared/tf/index.js';
import { buildClassifier, FAMILIES, familyOf } from '../../services/classifier/models/index.js';
import { buildResNet } from '../../services/classifier/models/resnet.js';

const S = 16;

beforeAll(async () => {
  await initTf();
});

describe('fast Tile gradient (LayerNorm backprop), registered by initTf', () => {
  it('equals the sum of dy over repetitions, as tfjs-core computes it', () => {
    const cases: Array<[number[], number[]]> = [[[2, 3], [2, 2]], [[1, 2, 2, 3], [2, 1, 3, 1]], [[3], [4]]];
    for (const [shape, reps] of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(Array.from({ length: size }, (_, i) => i / 7), shape);
      const outShape = shape.map((n, i) => n * reps[i]!);
      const outSize = outShape.reduce((a, b) => a * b, 1);
      const wv = Array.from({ length: outSize }, (_, i) => Math.sin(i + 1));
      const w = tf.tensor(wv, outShape);
      const got = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tile(v, reps), w)))(x).dataSync();
      // Expected: every output position adds its weight to the input position it copies.
      const expected = new Array<number>(size).fill(0);
      for (let o = 0; o < outSize; o++) {
        let rem = o;
        let src = 0;
        let stride = 1;
        const idx = outShape.map(() => 0);
        for (let d = outShape.length - 1; d >= 0; d--) {
          idx[d] = rem % outShape[d]!;
          rem = Math.floor(rem / outShape[d]!);
        }
        for (let d = shape.length - 1; d >= 0; d--) {
          src += (idx[d]! % shape[d]!) * stride;
          stride *= shape[d]!;
        }
        expected[src]! += wv[o]!;
      }
      Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
      tf.dispose([x, w]);
    }
  });
});

function fixedBatch(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([10, S, S, 1], 0, 1, 'float32', 11) as tf.Tensor4D,
    y: tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2, 3, 4], 'int32'), 5).toFloat() as tf.Tensor2D,
  }));
}

/** Cross-entropy in training mode (batch statistics in BN), what the optimizer step minimises. */
function loss(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => {
    const p = tf.clipByValue(model.apply(x, { training: true }) as tf.Tensor, 1e-7, 1);
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(p)), 1))).dataSync()[0]!;
  });
}

const BLOCKS: Record<string, string[]> = {
  resnet50: ['Conv2D', 'BatchNormalization', 'Add'],
  'efficientnet-b0': ['DepthwiseConv2D', 'Multiply', 'BatchNormalization'],
  'efficientnet-b1': ['DepthwiseConv2D', 'Multiply', 'BatchNormalization'],
  'convnext-tiny': ['DepthwiseConv2D', 'LayerNormalization', 'Dense', 'Add'],
  'convnext-small': ['DepthwiseConv2D', 'LayerNormalization', 'Dense', 'Add'],
};

describe.each(FAMILIES.map((f) => [f.kind, f] as const))('classifier family %s', (kind, family) => {
  it('maps S×S×1 to five probabilities through a flat "features" layer, dropout and the head', () => {
    const model = family.build({ imageSize: S, dropout: 0.5, seed: 1 });
    expect(model.inputs[0]!.shape).toEqual([null, S, S, 1]);
    expect(model.outputs[0]!.shape).toEqual([null, 5]);
    const features = model.getLayer('features');
    expect(features.outputShape.length).toBe(2);
    const dropout = model.getLayer('head_dropout');
    expect(dropout.getConfig().rate).toBe(0.5);
    const headLayer = model.getLayer('head');
    expect(headLayer.getClassName()).toBe('Dense');
    expect(headLayer.getConfig().activation).toBe('softmax');
    const classes = new Set(model.layers.map((l) => l.getClassName()));
    for (const c of BLOCKS[kind]!) expect(classes, c).toContain(c);
    const p = tf.tidy(() => (model.predict(tf.ones([3, S, S, 1])) as tf.Tensor).sum(1).dataSync());
    for (const v of p) expect(v).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('lowers the loss on a fixed batch with one Adam step, and the same seed gives the same weights', async () => {
    const { x, y } = fixedBatch();
    const run = async (seed: number, dropout: number) => {
        const model = family.build({ imageSize: S, dropout, seed });
      const initial = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
      const before = loss(model, x, y);
      await model.trainOnBatch(x, y);
      const after = loss(model, x, y);
      const trained = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return { before, after, initial, trained };
    };
    // Without dropout "the loss went down" is about the gradient alone; with it, the seeded mask must repeat too.
    const plain = await run(5, 0);
    expect(plain.after).toBeLessThan(plain.before);
    const a = await run(5, 0.5);
    const b = await run(5, 0.5);
    const c = await run(6, 0.5);
    expect(b.initial).toEqual(a.initial);
    expect(b.trained).toEqual(a.trained);
    expect(c.initial).not.toEqual(a.initial);
    tf.dispose([x, y]);
  });
});

describe('family registry', () => {
  it('covers every architecture of the proto enum and nothing else', () => {
    const all = Object.values(ClassifierArchitecture).filter((v): v is number => typeof v === 'number' && v > 0);
    expect(FAMILIES.map((f) => f.architecture).sort()).toEqual(all.sort());
    expect(familyOf(ClassifierArchitecture.UNSPECIFIED)).toBeUndefined();
    expect(() => buildClassifier(ClassifierArchitecture.UNSPECIFIED, { imageSize: S, dropout: 0.5, seed: 1 })).toThrow(/unknown/);
  });

  it('refuses sizes outside 16..256 and scales depth: B1 deeper than B0, ConvNeXt-S deeper than -T', () => {
    expect(() => buildResNet({ imageSize: 8, dropout: 0.5, seed: 1 })).toThrow(/16 to 256/);
    const count = (a: ClassifierArchitecture) => {
      const m = buildClassifier(a, { imageSize: S, dropout: 0.5, seed: 1 });
      const n = m.layers.length;
      m.dispose();
      return n;
    };
    expect(count(ClassifierArchitecture.EFFICIENTNET_B1)).toBeGreaterThan(count(ClassifierArchitecture.EFFICIENTNET_B0));
    expect(count(ClassifierArchitecture.CONVNEXT_SMALL)).toBeGreaterThan(count(ClassifierArchitecture.CONVNEXT_TINY));
  });
});
