import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage, type GrayImage } from '../../shared/images/image.js';
import { FsObjectStore } from '../../services/storage/backends/fs.js';
import { blobIOHandler, type BlobIO } from '../../shared/tf/index.js';
import { domainNetwork, loadDomainNetwork } from '../../services/metrics/features/domain.js';
import { FeatureCache, featureCacheKey, type FeatureCacheKey } from '../../services/metrics/features/feature-cache.js';
import {
  buildInceptionV3,
  INCEPTION_WEIGHTS_PREFIX,
  inceptionNetwork,
  loadInceptionV3,
} from '../../services/metrics/features/inception-v3.js';
import {
  extractFeatures,
  MissingWeightsError,
  parseFeatureNetworkName,
  prepareBatch,
  UnknownFeatureNetworkError,
} from '../../services/metrics/features/network.js';
import { objectStoreBlobs } from '../../services/metrics/features/object-store-blobs.js';
import { tf } from '../../services/metrics/features/tf.js';
import { initTf } from '../../shared/tf/index.js';
import { createRng } from '../../services/metrics/stats/rng.js';

let dir: string;
let blobs: BlobIO;

beforeAll(async () => {
  await initTf(); // the project's backend choice (native > wasm > cpu), as the service would run
  dir = await mkdtemp(join(tmpdir(), 'metrics-features-'));
  const store = new FsObjectStore(dir);
  await store.init();
  blobs = objectStoreBlobs(store);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function image(size: number, seed: number): GrayImage {
  const rng = createRng(seed);
  return createImage(size, size, 8, Float32Array.from({ length: size * size }, () => rng.next()));
}

describe('preprocessing', () => {
  it('resizes bilinearly with half-pixel centres, replicates gray to RGB and maps [0,1] → [−1,1]', () => {
    const img = createImage(2, 2, 8, Float32Array.from([0, 1, 0, 1]));
    const batch = prepareBatch([img], { size: 4, channels: 3, scale: 2, offset: -1 });
    expect(batch.shape).toEqual([1, 4, 4, 3]);
    const v = batch.arraySync()[0]!;
    // half-pixel: output column centres sample input x = −0.25, 0.25, 0.75, 1.25 (clamped)
    expect(v[0]!.map((px) => px[0]!)).toEqual([-1, -0.5, 0.5, 1]);
    expect(v[2]![1]).toEqual([-0.5, -0.5, -0.5]);
    batch.dispose();
  });

  it('names networks and refuses unknown ones', () => {
    expect(parseFeatureNetworkName('')).toBe('domain');
    expect(parseFeatureNetworkName('Inception-V3')).toBe('inception-v3');
    expect(() => parseFeatureNetworkName('clip')).toThrow(UnknownFeatureNetworkError);
    expect(() => parseFeatureNetworkName('clip')).toThrow(/use one of: domain, inception-v3/);
  });
});

describe('inception-v3 (FID variant)', () => {
  it('has the standard architecture: 94 conv layers, 2048-d pool, Keras InceptionV3 parameter count', () => {
    const model = buildInceptionV3(75);
    try {
      expect(model.outputs[0]!.shape).toEqual([null, 2048]);
      expect(model.layers.filter((l) => l.getClassName() === 'Conv2D')).toHaveLength(94);
      let conv = 0;
      let bn = 0;
      for (const w of model.weights) {
        const size = w.shape.reduce((a, b) => a! * b!, 1)!;
        if (w.originalName.includes('.conv/')) conv += size;
        else bn += size;
      }
      // Keras' InceptionV3(include_top=False) has 21,802,784 parameters with BN scale=False;
      // ours adds gamma (pytorch-fid's weights carry one), i.e. one of every four BN values per channel
      expect(conv + (bn * 3) / 4).toBe(21_802_784);
      // FID-specific: Mixed_7c pools its branch with max, Mixed_7b with an (exclude-padding) average
      expect(model.getLayer('Mixed_7c.max_pool').getClassName()).toBe('MaxPooling2D');
      expect(model.getLayer('Mixed_7b.avg_pool').getClassName()).toBe('AveragePooling2D');
    } finally {
      model.dispose();
    }
  });

  it('saves random weights through storage and loads them back to identical features', async () => {
    const model = buildInceptionV3(75);
    const original = inceptionNetwork(model, 'random');
    const images = [image(40, 1), image(40, 2)];
    const before = await extractFeatures(original, images, { batchSize: 2 });
    await model.save(blobIOHandler(blobs, INCEPTION_WEIGHTS_PREFIX));
    original.dispose();

    const loaded = await loadInceptionV3(blobIOHandler(blobs, INCEPTION_WEIGHTS_PREFIX), 75);
    try {
      expect(loaded.name).toBe('inception-v3');
      expect(loaded.dim).toBe(2048);
      expect(loaded.weightsHash).toMatch(/^[0-9a-f]{64}$/);
      const after = await extractFeatures(loaded, images, { batchSize: 2 });
      expect(after.rows).toBe(2);
      expect(Array.from(after.data)).toEqual(Array.from(before.data)); // same weights, same batch: bit-identical
      // batch composition does not change a row beyond float32 summation order
      const single = await extractFeatures(loaded, images, { batchSize: 1 });
      single.data.forEach((v, i) => expect(Math.abs(v - before.data[i]!)).toBeLessThan(1e-4 * (Math.abs(before.data[i]!) + 1e-3)));
      expect(new Set(after.data).size).toBeGreaterThan(100); // real features, not a constant
    } finally {
      loaded.dispose();
    }
  });

  it('answers missing or partial weights with an actionable MissingWeightsError', async () => {
    await expect(loadInceptionV3(blobIOHandler(blobs, 'models/feature-network/none/0'), 75)).rejects.toThrow(MissingWeightsError);
    await expect(loadInceptionV3(blobIOHandler(blobs, 'models/feature-network/none/0'), 75)).rejects.toThrow(/README\.md.*"domain"/);
    // a file with only one tensor in it
    const tiny = tf.sequential({ layers: [tf.layers.dense({ name: 'Conv2d_1a_3x3.conv', units: 2, inputShape: [2] })] });
    await tiny.save(blobIOHandler(blobs, 'models/feature-network/partial/0'));
    tiny.dispose();
    await expect(loadInceptionV3(blobIOHandler(blobs, 'models/feature-network/partial/0'), 75)).rejects.toThrow(/unusable/);
  });
});

describe('domain network', () => {
  function classifier(): tf.LayersModel {
    const input = tf.input({ shape: [16, 16, 1] });
    const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(input) as tf.SymbolicTensor;
    const f = tf.layers.flatten().apply(c) as tf.SymbolicTensor;
    const pen = tf.layers.dense({ units: 8, activation: 'relu' }).apply(f) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(pen) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('takes the penultimate layer of a stored classifier, resizing inputs to its size', async () => {
    const model = classifier();
    await model.save(blobIOHandler(blobs, 'models/classifier/c1/3'));
    const direct = domainNetwork(model, 'h');
    const net = await loadDomainNetwork(blobIOHandler(blobs, 'models/classifier/c1/3'), 'c1');
    try {
      expect(net.dim).toBe(8);
      expect(net.input).toMatchObject({ size: 16, channels: 1 });
      const images = [image(32, 5), image(32, 6), image(32, 7)];
      const a = await extractFeatures(direct, images);
      const b = await extractFeatures(net, images);
      expect(a.rows).toBe(3);
      expect(Array.from(b.data)).toEqual(Array.from(a.data)); // stored and in-memory classifier agree exactly
      // the same as running the classifier's first layers by hand
      const manual = tf.tidy(() => {
        const x = prepareBatch(images, net.input);
        let y = x as tf.Tensor;
        for (const layer of model.layers.slice(1, 4)) y = layer.apply(y) as tf.Tensor;
        return Array.from(y.dataSync());
      });
      manual.forEach((v, i) => expect(b.data[i]).toBeCloseTo(v, 5));
    } finally {
      net.dispose();
      direct.dispose();
    }
    await expect(loadDomainNetwork(blobIOHandler(blobs, 'models/classifier/none/1'), 'none')).rejects.toThrow(/train one/);
  });
});

describe('real-feature cache', () => {
  const key: FeatureCacheKey = {
    network: 'domain',
    weightsHash: 'ab'.repeat(32),
    collection: 'dataset:phantom/v1',
    split: 'train',
    finding: 'viral',
    imageSha256s: ['03', '01', '02'],
  };

  it('computes once, then hits; any change in network, weights or images misses', async () => {
    const cache = new FeatureCache(blobs);
    let computed = 0;
    const compute = async () => {
      computed++;
      return { rows: 3, cols: 2, data: Float64Array.from([0.5, -1.25, 3, 4, 1e-3, 7]) };
    };
    const first = await cache.getOrCompute(key, compute);
    const second = await cache.getOrCompute({ ...key, imageSha256s: ['01', '02', '03'] }, compute);
    expect([first.hit, second.hit, computed]).toEqual([false, true, 1]);
    expect(Array.from(second.features.data)).toEqual(Array.from(Float32Array.from(first.features.data)));
    expect(featureCacheKey(key)).toMatch(/^features\/domain\/abababababababab-p1\/dataset_phantom_v1\/train\/viral\/[0-9a-f]{32}\.f32$/);
    for (const changed of [{ weightsHash: 'cd'.repeat(32) }, { network: 'inception-v3' }, { imageSha256s: ['01', '02', '04'] }, { split: 'test' }]) {
      expect(featureCacheKey({ ...key, ...changed })).not.toBe(featureCacheKey(key));
    }
    // a damaged entry is a miss, not a crash
    await blobs.put(featureCacheKey(key), new Uint8Array([1, 2, 3]));
    expect(await cache.get(key)).toBeUndefined();
  });
});
