// Training through shared/tf on wasm with tiny configs of the reference networks (16 px DCGAN, 16 px ResNet):
// determinism (same seed + backend → identical weights; another seed → different), no tensor leaks (after
// training steps and 1000 inference calls), and checkpoint resume (2N steps == N + save + restore + N, exactly).
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tf, initTf } from '../../shared/tf/index.js';
import { buildDcgan, buildResnet, dcganIteration, disposeNets, resnetStep, type DcganConfig, type ResnetConfig } from '../../shared/tf/reference-nets.js';
import { seededPermutation, seededShuffle, SeededRandom } from '../../shared/tf/random.js';
import { MemoryBlobIO, readManifest, restoreCheckpoint, saveCheckpoint, loadModel, type BlobIO } from '../../shared/tf/checkpoint.js';

const GAN: DcganConfig = { imageSize: 16, nz: 8, ngf: 4, ndf: 4, channels: 1, seed: 42 };
const NET: ResnetConfig = { inputSize: 16, channels: 1, widths: [4, 4, 8, 8, 8], classes: 3, seed: 7 };
const STEPS = 3;

function realBatch(): tf.Tensor4D {
  return tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
}

async function weightsOf(models: tf.LayersModel[]): Promise<Float32Array[]> {
  return Promise.all(models.flatMap((m) => m.getWeights()).map(async (w) => Float32Array.from(await w.data())));
}

function identical(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => x.length === b[i]!.length && x.every((v, k) => Object.is(v, b[i]![k])));
}

/** A filesystem BlobIO: keys are paths under a root directory. */
class DirBlobIO implements BlobIO {
  constructor(readonly root: string) {}
  async put(key: string, bytes: Uint8Array): Promise<void> {
    mkdirSync(dirname(join(this.root, key)), { recursive: true });
    writeFileSync(join(this.root, key), bytes);
  }
  async getBytes(key: string): Promise<Uint8Array | undefined> {
    const file = join(this.root, key);
    return existsSync(file) ? new Uint8Array(readFileSync(file)) : undefined;
  }
}

beforeAll(async () => {
  const info = await initTf({ backend: 'wasm' });
  expect(info.name).toBe('wasm');
});

describe('determinism', () => {
  async function trainGan(seed: number): Promise<Float32Array[]> {
    const gan = buildDcgan({ ...GAN, seed });
    const real = realBatch();
    for (let s = 0; s < STEPS; s++) dcganIteration(gan, real, 1000 + 2 * s);
    const w = await weightsOf([gan.generator, gan.discriminator]);
    real.dispose();
    disposeNets(gan);
    return w;
  }

  it('same seed and backend give identical DCGAN weights after N steps; another seed does not', async () => {
    const a = await trainGan(42);
    const b = await trainGan(42);
    const c = await trainGan(43);
    expect(identical(a, b)).toBe(true);
    expect(identical(a, c)).toBe(false);
  });

  it('seeded shuffles are reproducible permutations', () => {
    const p = seededPermutation(50, 9);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(seededPermutation(50, 9)).toEqual(p);
    expect(seededPermutation(50, 10)).not.toEqual(p);
    expect(seededShuffle(['a', 'b', 'c', 'd', 'e'], 3)).toEqual(seededShuffle(['a', 'b', 'c', 'd', 'e'], 3));
    const r = new SeededRandom(1);
    const xs = Array.from({ length: 1000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.05);
  });
});

describe('no leaks', () => {
  it('leaves tf.memory().numTensors where it was after DCGAN and ResNet training steps', () => {
    const gan = buildDcgan(GAN);
    const net = buildResnet(NET);
    const real = realBatch();
    const x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 0], 'int32');
    // First steps create the optimizers' moments (state that lives as long as the optimizer).
    dcganIteration(gan, real, 1);
    resnetStep(net, x, y);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 3; s++) {
      dcganIteration(gan, real, 10 + 2 * s);
      resnetStep(net, x, y);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([real, x, y]);
    disposeNets(gan, net);
  });

  it('leaves tf.memory().numTensors where it was after 1000 inference calls', async () => {
    const net = buildResnet(NET);
    const x = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      const p = tf.tidy(() => tf.softmax(net.model.predict(x) as tf.Tensor));
      if (i % 250 === 0) expect((await p.data()).length).toBe(3);
      p.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    disposeNets(net);
  });
});

describe('checkpoints', () => {
  it('resumes exactly: 2N steps == N + save + restore into fresh models + N (DCGAN, two optimizers)', async () => {
    const real = realBatch();
    const noise = (s: number) => 5000 + 2 * s;
    const straight = buildDcgan(GAN);
    for (let s = 0; s < 2 * STEPS; s++) dcganIteration(straight, real, noise(s));
    const want = await weightsOf([straight.generator, straight.discriminator]);

    const io = new MemoryBlobIO();
    const first = buildDcgan(GAN);
    for (let s = 0; s < STEPS; s++) dcganIteration(first, real, noise(s));
    await saveCheckpoint(io, 'models/gan/test/3', { models: { generator: first.generator, discriminator: first.discriminator }, optimizers: { g: first.optG, d: first.optD } }, STEPS, { note: 'unit test' });
    disposeNets(first);

    // Fresh models from ANOTHER seed: everything that matters must come from the checkpoint.
    const resumed = buildDcgan({ ...GAN, seed: 999 });
    // Restored before any step: Adam's moments (created lazily on a first step) come from the checkpoint.
    const manifest = await restoreCheckpoint(io, 'models/gan/test/3', { models: { generator: resumed.generator, discriminator: resumed.discriminator }, optimizers: { g: resumed.optG, d: resumed.optD } });
    expect(manifest.step).toBe(STEPS);
    expect(manifest.backend).toBe('wasm');
    expect(manifest.meta).toEqual({ note: 'unit test' });
    for (let s = manifest.step; s < 2 * STEPS; s++) dcganIteration(resumed, real, noise(s));
    const got = await weightsOf([resumed.generator, resumed.discriminator]);
    expect(identical(want, got)).toBe(true);

    // Without the optimizer state the same resume is NOT exact (the test above would catch a lost moment).
    const naive = buildDcgan({ ...GAN, seed: 999 });
    const nio = new MemoryBlobIO();
    const again = buildDcgan(GAN);
    for (let s = 0; s < STEPS; s++) dcganIteration(again, real, noise(s));
    await saveCheckpoint(nio, 'p', { models: { generator: again.generator, discriminator: again.discriminator }, optimizers: {} }, STEPS);
    await restoreCheckpoint(nio, 'p', { models: { generator: naive.generator, discriminator: naive.discriminator }, optimizers: {} });
    for (let s = STEPS; s < 2 * STEPS; s++) dcganIteration(naive, real, noise(s));
    expect(identical(want, await weightsOf([naive.generator, naive.discriminator]))).toBe(false);
    real.dispose();
    disposeNets(straight, resumed, naive, again);
  });

  it('writes the tfjs layout on a filesystem store, checkpoint.json last, and models load on their own', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cxr-tf-ckpt-'));
    try {
      const writes: string[] = [];
      const dir = new DirBlobIO(root);
      const io: BlobIO = { put: async (k, b) => { writes.push(k); await dir.put(k, b); }, getBytes: (k) => dir.getBytes(k) };
      const net = buildResnet(NET);
      const x = tf.randomNormal([4, 16, 16, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
      const y = tf.tensor1d([0, 1, 2, 1], 'int32');
      resnetStep(net, x, y);
      await saveCheckpoint(io, 'models/classifier/r1/1', { models: { classifier: net.model }, optimizers: { adam: net.opt } }, 1);
      expect(writes[writes.length - 1]).toBe('models/classifier/r1/1/checkpoint.json');
      expect(writes).toContain('models/classifier/r1/1/classifier/model.json');
      expect(writes).toContain('models/classifier/r1/1/classifier/weights.bin');
      const m = await readManifest(io, 'models/classifier/r1/1');
      expect(m.optimizers.map((o) => o.className)).toEqual(['Adam']);
      const loaded = await loadModel(io, 'models/classifier/r1/1/classifier');
      const [a, b] = tf.tidy(() => [net.model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor]);
      expect(Array.from(await b!.data())).toEqual(Array.from(await a!.data()));
      tf.dispose([a!, b!, x, y]);
      loaded.dispose();
      disposeNets(net);
      await expect(readManifest(io, 'models/classifier/none')).rejects.toThrow();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses to restore into models of another shape', async () => {
    const io = new MemoryBlobIO();
    const a = buildResnet(NET);
    await saveCheckpoint(io, 'c', { models: { m: a.model }, optimizers: {} }, 0);
    const b = buildResnet({ ...NET, widths: [4, 4, 8, 8, 16] });
    await expect(restoreCheckpoint(io, 'c', { models: { m: b.model }, optimizers: {} })).rejects.toThrow(/shape/);
    disposeNets(a, b);
  });
});
