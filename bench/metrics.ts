// `npm run bench -- metrics`: the metrics maths at study scale, and the feature-extraction overhead.
//  - FID (Gram route, what ImageQuality uses when n < d) and KID (100 subsets of 1000) for
//    1000 vs 1000 feature vectors at 2048-d (Inception) and at a domain-classifier size (512-d);
//  - FID on the covariance route at 2048-d (the path for cached mean/covariance statistics: two
//    2048 × 2048 symmetric eigenproblems), so its cost is on record too;
//  - feature extraction rate (images/s through extractFeatures: resize, channel replication, scaling,
//    model, copy-out) against the raw model forward rate on already-prepared batches, same network,
//    same batch size, measured side by side. ratio = extraction / forward (1 = no overhead).
import { cpus, loadavg } from 'node:os';
import { createImage, type GrayImage } from '../shared/images/image.js';
import { domainNetwork } from '../services/metrics/features/domain.js';
import { extractFeatures, prepareBatch } from '../services/metrics/features/network.js';
import { backendName, tf } from '../services/metrics/features/tf.js';
import { matrix, type Matrix } from '../services/metrics/linalg/matrix.js';
import { fid } from '../services/metrics/quality/fid.js';
import { kid } from '../services/metrics/quality/kid.js';
import { createRng } from '../services/metrics/stats/rng.js';
import { initTf } from '../shared/tf/index.js';

function features(n: number, d: number, seed: number, shift: number): Matrix {
  const rng = createRng(seed);
  const m = matrix(n, d);
  // correlated, non-negative-ish like pooled ReLU features: a shared low-rank part plus noise
  const basis = Array.from({ length: 8 }, () => Float64Array.from({ length: d }, () => rng.normal()));
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: 8 }, () => rng.normal());
    for (let j = 0; j < d; j++) {
      let v = shift + 0.3 * rng.normal();
      for (let k = 0; k < 8; k++) v += 0.2 * z[k]! * basis[k]![j]!;
      m.data[i * d + j] = Math.abs(v);
    }
  }
  return m;
}

function time<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

function classifier(size: number): tf.LayersModel {
  // a domain classifier of the kind the classifier service trains: conv stages, pooled 512-d penultimate
  const input = tf.input({ shape: [size, size, 1] });
  let x: tf.SymbolicTensor = input;
  for (const [i, filters] of [32, 64, 128, 256].entries()) {
    x = tf.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: i }) }).apply(x) as tf.SymbolicTensor;
  }
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const pen = tf.layers.dense({ name: 'penultimate', units: 512, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(pen) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

export async function run(): Promise<void> {
  const figures: Record<string, string> = {};
  for (const d of [2048, 512]) {
    const a = features(1000, d, 1, 0.5);
    const b = features(1000, d, 2, 0.55);
    const f = time(() => fid(a, b));
    const k = time(() => kid(a, b, { subsetSize: 1000, subsets: 100, seed: 0 }));
    console.log(`fid d=${d} n=1000/1000 route=${f.value.route}: ${f.value.fid.toFixed(4)} in ${f.ms.toFixed(0)} ms; kid ${k.value.mean.toExponential(4)} ± ${k.value.std.toExponential(2)} in ${k.ms.toFixed(0)} ms`);
    figures[`fid${d}_ms`] = f.ms.toFixed(0);
    figures[`kid${d}_ms`] = k.ms.toFixed(0);
    if (d === 2048) {
      const c = time(() => fid(a, b, 'covariance'));
      const rel = Math.abs(c.value.fid - f.value.fid) / f.value.fid;
      console.log(`fid d=2048 route=covariance (cached-statistics path): ${c.value.fid.toFixed(4)} in ${c.ms.toFixed(0)} ms; |Δ| vs gram route ${rel.toExponential(2)} relative`);
      figures.fid2048_cov_ms = c.ms.toFixed(0);
      figures.route_agreement = rel.toExponential(1);
    }
  }

  await initTf();
  const size = 128;
  const batchSize = 32;
  const count = 128;
  const rng = createRng(3);
  const images: GrayImage[] = Array.from({ length: count }, () => createImage(256, 256, 8, Float32Array.from({ length: 256 * 256 }, () => rng.next())));
  const net = domainNetwork(classifier(size), 'bench');
  const batches = Array.from({ length: count / batchSize }, (_, i) => prepareBatch(images.slice(i * batchSize, (i + 1) * batchSize), net.input));
  const forwardOnce = async (): Promise<number> => {
    const t0 = performance.now();
    for (const batch of batches) {
      const y = net.forward(batch);
      await y.data();
      y.dispose();
    }
    return count / ((performance.now() - t0) / 1000);
  };
  const extractOnce = async (): Promise<number> => {
    const t0 = performance.now();
    await extractFeatures(net, images, { batchSize });
    return count / ((performance.now() - t0) / 1000);
  };
  // interleaved rounds after a warm-up of both paths, best of each: order and warm-up effects cancel
  await forwardOnce();
  await extractOnce();
  let forwardIps = 0;
  let extractIps = 0;
  for (let round = 0; round < 3; round++) {
    forwardIps = Math.max(forwardIps, await forwardOnce());
    extractIps = Math.max(extractIps, await extractOnce());
  }
  batches.forEach((b) => b.dispose());
  net.dispose();
  const ratio = extractIps / forwardIps;
  console.log(`domain features (256² → ${size}², 512-d, batch ${batchSize}, backend ${backendName()}): extraction ${extractIps.toFixed(1)} img/s, raw forward ${forwardIps.toFixed(1)} img/s`);
  const extra = Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`RESULT metrics ratio=${ratio.toFixed(3)} extract_ips=${extractIps.toFixed(1)} forward_ips=${forwardIps.toFixed(1)} backend=${backendName()} ${extra} load1=${loadavg()[0]!.toFixed(1)} cores=${cpus().length}`);
}
