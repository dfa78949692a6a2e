// MultiTensorAdam (shared/tf/optimizers/adam.ts) against tfjs's own Adam on the active backend: bit-identical weights
// step for step (the same operations on the same values), the same saved form, optimizer state that moves between the two through a checkpoint, one fixed
// list of variables, and no leaked tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initTf, MultiTensorAdam } from '../../shared/tf/index.js';
import { buildResnet, disposeNets, resnetStep, type Resnet, type ResnetConfig } from '../../shared/tf/reference-nets.js';
import { MemoryBlobIO, restoreCheckpoint, saveCheckpoint } from '../../shared/tf/checkpoint.js';

const NET: ResnetConfig = { inputSize: 16, channels: 1, widths: [4, 4, 8, 8, 8], classes: 3, seed: 7 };
const STEPS = 3;

let x: tf.Tensor4D;
let y: tf.Tensor1D;

beforeAll(async () => {
  await initTf();
  x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
  y = tf.tensor1d([0, 1, 2, 1], 'int32');
});

/** The reference ResNet with the optimizer `make` builds (tfjs's Adam or ours, same hyper-parameters). */
function net(make: () => tf.Optimizer): Resnet {
  const n = buildResnet(NET);
  n.opt.dispose();
  return { ...n, opt: make() };
}
const tfjsAdam = () => tf.train.adam(1e-3, 0.9, 0.999);
const ours = () => new MultiTensorAdam(1e-3, 0.9, 0.999);

function train(n: Resnet, steps: number): void {
  for (let s = 0; s < steps; s++) resnetStep(n, x, y);
}

async function weights(n: Resnet): Promise<Float32Array[]> {
  return Promise.all(n.model.getWeights().map(async (w) => Float32Array.from(await w.data())));
}

function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.map((t) => t.length)).toEqual(b.map((t) => t.length));
  let worst = 0;
  a.forEach((t, i) => t.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[i]![k]!) / Math.max(1e-6, Math.abs(v))))));
  return worst;
}

describe('MultiTensorAdam', () => {
  it("steps the weights as tf.train.adam does (operation for operation) and moves them", async () => {
    const [a, b] = [net(tfjsAdam), net(ours)];
    const start = await weights(b);
    train(a, STEPS);
    train(b, STEPS);
    const [wa, wb] = [await weights(a), await weights(b)];
    expect(maxRelDiff(wa, wb)).toBe(0);
    expect(maxRelDiff(start, wb)).toBeGreaterThan(1e-4);
    disposeNets(a, b);
  });

  it("saves Adam's form: iterations, then every variable's first moment, then every second, equal to tfjs's", async () => {
    const [a, b] = [net(tfjsAdam), net(ours)];
    train(a, STEPS);
    train(b, STEPS);
    const [sa, sb] = [await a.opt.getWeights(), await b.opt.getWeights()];
    const count = b.model.trainableWeights.length;
    expect(sb.length).toBe(1 + 2 * count);
    expect(sb.map((w) => w.name.replace(/.*\//, ''))).toEqual(sa.map((w) => w.name.replace(/.*\//, '')));
    expect(sb[0]!.name).toBe('iter');
    expect(sb.slice(1, 1 + count).map((w) => w.name)).toEqual(b.model.trainableWeights.map((w) => `${w.name}/m`));
    expect(sb.map((w) => w.tensor.shape)).toEqual(sa.map((w) => w.tensor.shape));
    const values = async (ws: { tensor: tf.Tensor }[]) => Promise.all(ws.map(async (w) => Float32Array.from(await w.tensor.data())));
    expect(maxRelDiff(await values(sa), await values(sb))).toBe(0);
    expect(b.opt.getClassName()).toBe(a.opt.getClassName());
    tf.dispose(sb.map((w) => w.tensor)); // ours are snapshots; tfjs's (but 'iter') are its live variables
    sa[0]!.tensor.dispose();
    disposeNets(a, b);
  });

  it('carries state through a checkpoint into and out of tfjs Adam: resumed runs match a straight run', async () => {
    const straight = net(tfjsAdam);
    train(straight, 2 * STEPS);
    const want = await weights(straight);
    for (const [from, to] of [[tfjsAdam, ours], [ours, tfjsAdam]] as const) {
      const first = net(from);
      train(first, STEPS);
      const io = new MemoryBlobIO();
      await saveCheckpoint(io, 'c', { models: { m: first.model }, optimizers: { adam: first.opt } }, STEPS);
      const resumed = net(to); // fresh variables, other names: state is matched by position
      await restoreCheckpoint(io, 'c', { models: { m: resumed.model }, optimizers: { adam: resumed.opt } });
      train(resumed, STEPS);
      expect(maxRelDiff(want, await weights(resumed))).toBe(0);
      disposeNets(first, resumed);
    }
    disposeNets(straight);
  });

  it('refuses a second, different list of variables with a message', () => {
    const opt = ours();
    const [a, b] = [tf.variable(tf.zeros([3])), tf.variable(tf.zeros([2, 2]))];
    opt.applyGradients({ [a.name]: tf.ones([3]) });
    expect(() => opt.applyGradients({ [b.name]: tf.ones([2, 2]) })).toThrow(/one fixed list of variables: shapes \[2,2\] after \[3\]/);
    expect(() => opt.applyGradients({ nope: tf.ones([3]) })).toThrow(/no variable named nope/);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('leaves tf.memory().numTensors where it was after steps and a checkpoint', async () => {
    const n = net(ours);
    train(n, 1); // the first step allocates the moments, which live as long as the optimizer
    const before = tf.memory().numTensors;
    train(n, STEPS);
    await saveCheckpoint(new MemoryBlobIO(), 'c', { models: {}, optimizers: { adam: n.opt } }, STEPS);
    expect(tf.memory().numTensors).toBe(before);
    disposeNets(n);
  });
});
