// shared/tf's Conv2D layer against tfjs-layers' own, on the backend initTf picks: the same outputs and gradients,
// the same saved form, and (the reason it exists) no gradient computed that the step does not need.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initTf } from '../../shared/tf/index.js';
import { Conv2D, conv2d } from '../../shared/tf/layers/conv2d.js';
import { relativeError } from '../../shared/tf/testing/parity.js';
import { buildWithWeights, freeWeights } from '../support/layers.js';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const TOL = 1e-4;

type Args = Parameters<typeof conv2d>[0];

/** Ours and tfjs-layers', built for `shape` with the same random weights. */
function pair(shape: number[], args: Args): [tf.layers.Layer, tf.layers.Layer] {
  return buildWithWeights(shape, [conv2d(args), tf.layers.conv2d(args)], (shapes) => shapes.map((s, i) => tf.randomNormal(s, 0, 0.5, 'float32', 10 + i)));
}

/** Output, then the gradients of Σ y·up w.r.t. x and every weight. */
function outputAndGrads(layer: tf.layers.Layer, x: tf.Tensor, up: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const f = (xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx) as tf.Tensor, up)) as tf.Scalar;
    const y = layer.apply(x) as tf.Tensor;
    const dx = tf.grad(f)(x);
    const vars = layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const { grads } = tf.variableGrads(() => f(x), vars);
    return [y, dx, ...vars.map((v) => grads[v.name]!)].map((t) => t.dataSync() as Float32Array);
  });
}

/** Names of the kernels `fn` runs. */
async function kernelsOf(fn: () => void): Promise<string[]> {
  return (await tf.profile(fn)).kernels.map((k) => k.name);
}

describe('Conv2D layer (lazily differentiated convolutions)', () => {
  beforeAll(async () => {
    await initTf({ threads: 1 });
  });

  const cases: [string, number[], Args][] = [
    ['3×3/2 same, no bias', [2, 9, 9, 3], { filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false }],
    ['4×4/1 valid, no bias', [2, 8, 8, 5], { filters: 3, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }],
    ['with bias and relu (the fused path)', [2, 6, 6, 3], { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }],
  ];
  it.each(cases)('%s: the same output and gradients as tfjs-layers', (_name, shape, args) => {
    const [ours, theirs] = pair(shape, args);
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const outShape = ours.computeOutputShape(shape) as number[];
    const up = tf.randomNormal(outShape, 0, 1, 'float32', 2);
    const a = outputAndGrads(ours, x, up);
    const b = outputAndGrads(theirs, x, up);
    expect(a.length).toBe(args.useBias === false ? 3 : 4); // y, dx, kernel (, bias)
    expect(relativeError(b, a)).toBeLessThan(TOL);
    tf.dispose([x, up]);
    freeWeights(ours, theirs);
  });

  it("computes a frozen layer's input gradient without its filter gradient, and a first layer's filter gradient without the image gradient", async () => {
    const shape = [2, 8, 8, 3];
    const [ours, theirs] = pair(shape, { filters: 4, kernelSize: 3, padding: 'same', useBias: false });
    const x = tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 3));
    const loss = (layer: tf.layers.Layer) => () => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar;
    const kernel = (layer: tf.layers.Layer) => (layer.trainableWeights[0] as unknown as { val: tf.Variable }).val;
    // Only x trained: the layer is frozen.
    const grads = (layer: tf.layers.Layer, of: tf.Variable) => () => tf.tidy(() => void tf.variableGrads(loss(layer), [of]));
    const frozen = await kernelsOf(grads(ours, x));
    expect(frozen).toContain('Conv2DBackpropInput');
    expect(frozen).not.toContain('Conv2DBackpropFilter');
    // Only the kernel trained: x is data.
    const first = await kernelsOf(grads(ours, kernel(ours)));
    expect(first).toContain('Conv2DBackpropFilter');
    expect(first).not.toContain('Conv2DBackpropInput');
    // tfjs-layers' own computes both either way (what this layer is for).
    const theirsFrozen = await kernelsOf(grads(theirs, x));
    expect(theirsFrozen).toContain('Conv2DBackpropFilter');
    x.dispose();
    freeWeights(ours, theirs);
  });

  it('saves as a plain Keras Conv2D and loads back into this class; leaks no tensors', async () => {
    const model = tf.sequential({ layers: [conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, useBias: false })] });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      tf.tidy(() => {
        tf.variableGrads(() => tf.sum(model.apply(tf.ones([1, 6, 6, 1])) as tf.Tensor) as tf.Scalar);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    const json = model.toJSON(undefined, false) as { config: { layers: { class_name: string }[] } };
    expect(json.config.layers.map((l) => l.class_name)).toContain('Conv2D');
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.layers[0]).toBeInstanceOf(Conv2D);
    const input = tf.randomNormal([1, 6, 6, 1], 0, 1, 'float32', 5);
    const [y0, y1] = [model.predict(input) as tf.Tensor, loaded.predict(input) as tf.Tensor];
    expect(relativeError([y0.dataSync() as Float32Array], [y1.dataSync() as Float32Array])).toBeLessThan(1e-6);
    tf.dispose([input, y0, y1]);
    model.dispose();
    loaded.dispose();
  });
});
