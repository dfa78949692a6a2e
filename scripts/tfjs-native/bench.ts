// Rough speed check of the native backend against the PyTorch CPU peer, for docs/native-tensorflow.md:
//   node --import tsx scripts/tfjs-native/bench.ts [gan|resnet] [iterations] [threads] [torch-script]
// Builds the two models of ../shared/peer/README.md with tf.layers (NHWC), times one training iteration on the
// `tensorflow` backend, between two runs of the PyTorch script (same machine, same minute).
// The project's benchmark is `npm run bench -- compute` (bench/compute.ts, compute engineer); this is the install-time
// figure only.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type * as tfjs from '@tensorflow/tfjs';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const which = process.argv[2] ?? 'gan';
const iters = Number(process.argv[3] ?? 5);
const threads = Number(process.argv[4] ?? 2);
const torchScript = process.argv[5] ?? new URL('../../../shared/peer/bench_torch.py', import.meta.url).pathname;
// TensorFlow reads its pool sizes when the eager context is created, i.e. during the import below.
process.env.TF_NUM_INTRAOP_THREADS = String(threads);
process.env.TF_NUM_INTEROP_THREADS = String(threads);
const mod = await import('@tensorflow/tfjs-node');
const tf = (mod.default ?? mod) as unknown as typeof tfjs; // CJS package: the namespace or its default, depending on the loader
if (tf.getBackend() !== 'tensorflow') throw new Error(`backend is ${tf.getBackend()}, not tensorflow`);
const L = tf.layers;

function generator(nz = 100, ngf = 64): tfjs.Sequential {
  const m = tf.sequential();
  m.add(L.conv2dTranspose({ inputShape: [1, 1, nz], filters: ngf * 8, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }));
  m.add(L.batchNormalization());
  m.add(L.reLU());
  for (const f of [ngf * 4, ngf * 2, ngf]) {
    m.add(L.conv2dTranspose({ filters: f, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
    m.add(L.batchNormalization());
    m.add(L.reLU());
  }
  m.add(L.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }));
  return m;
}

function discriminator(ndf = 64): tfjs.Sequential {
  const m = tf.sequential();
  m.add(L.conv2d({ inputShape: [64, 64, 1], filters: ndf, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
  m.add(L.leakyReLU({ alpha: 0.2 }));
  for (const f of [ndf * 2, ndf * 4, ndf * 8]) {
    m.add(L.conv2d({ filters: f, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
    m.add(L.batchNormalization());
    m.add(L.leakyReLU({ alpha: 0.2 }));
  }
  m.add(L.conv2d({ filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }));
  m.add(L.flatten());
  return m;
}

function resnet(classes = 10): tfjs.LayersModel {
  const input = tf.input({ shape: [128, 128, 3] });
  const bn = () => L.batchNormalization();
  let x = L.reLU().apply(bn().apply(L.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(input))) as tfjs.SymbolicTensor;
  let c = 32;
  for (const [o, s] of [[32, 1], [64, 2], [128, 2], [256, 2]] as const) {
    let h = L.conv2d({ filters: o, kernelSize: 3, strides: s, padding: 'same', useBias: false }).apply(x);
    h = L.reLU().apply(bn().apply(h));
    h = bn().apply(L.conv2d({ filters: o, kernelSize: 3, strides: 1, padding: 'same', useBias: false }).apply(h));
    const sc = s !== 1 || c !== o ? bn().apply(L.conv2d({ filters: o, kernelSize: 1, strides: s, useBias: false }).apply(x)) : x;
    x = L.reLU().apply(L.add().apply([h as tfjs.SymbolicTensor, sc as tfjs.SymbolicTensor])) as tfjs.SymbolicTensor;
    c = o;
  }
  const out = L.dense({ units: classes }).apply(L.globalAveragePooling2d({}).apply(x)) as tfjs.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function ganStep(): () => void {
  const g = generator();
  const d = discriminator();
  const oG = tf.train.adam(2e-4, 0.5, 0.999);
  const oD = tf.train.adam(2e-4, 0.5, 0.999);
  const B = 32;
  const real = tf.randomUniform([B, 64, 64, 1], -1, 1, 'float32', 1);
  const ones = tf.ones([B, 1]);
  const zeros = tf.zeros([B, 1]);
  const bce = (labels: tfjs.Tensor, logits: tfjs.Tensor) => tf.losses.sigmoidCrossEntropy(labels, logits) as tfjs.Scalar;
  const dVars = d.trainableWeights.map((w) => w.read() as tfjs.Variable);
  const gVars = g.trainableWeights.map((w) => w.read() as tfjs.Variable);
  return () => {
    const fake = tf.tidy(() => g.apply(tf.randomNormal([B, 1, 1, 100]), { training: true }) as tfjs.Tensor);
    oD.minimize(() => tf.add(bce(ones, d.apply(real, { training: true }) as tfjs.Tensor), bce(zeros, d.apply(fake, { training: true }) as tfjs.Tensor)), false, dVars);
    fake.dispose();
    oG.minimize(() => bce(ones, d.apply(g.apply(tf.randomNormal([B, 1, 1, 100]), { training: true }) as tfjs.Tensor, { training: true }) as tfjs.Tensor), false, gVars);
  };
}

function resnetStep(): () => void {
  const m = resnet();
  const o = tf.train.adam(1e-3);
  const B = 16;
  const x = tf.randomNormal([B, 128, 128, 3], 0, 1, 'float32', 2);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, i) => i % 10), 'int32'), 10);
  const vars = m.trainableWeights.map((w) => w.read() as tfjs.Variable);
  return () => {
    o.minimize(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tfjs.Tensor) as tfjs.Scalar, false, vars);
  };
}

const step = which === 'gan' ? ganStep() : resnetStep();
function measure(): { median: number; times: number[]; cpuMs: number } {
  for (let i = 0; i < 2; i++) step(); // warm-up: first calls allocate and pick oneDNN primitives
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    step(); // tfjs-node executes eagerly and synchronously (TFE_Execute): the step is done when it returns
    times.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, times, cpuMs: (cpu.user + cpu.system) / 1000 / iters };
}

// The machine is shared, so wall time swings with the neighbours' load: PyTorch runs before and after ours, and both
// sides also report CPU time per iteration (all threads), which contention inflates far less. PyTorch's CPU time per
// iteration is the difference between a run of 2n and a run of n iterations (same start-up and warm-up in both).
const python = '/usr/bin/python3';
const RUSAGE = 'import resource, subprocess, sys; out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout; ' +
  'r = resource.getrusage(resource.RUSAGE_CHILDREN); print(out.strip()); print(r.ru_utime + r.ru_stime)';
function torchRun(n: number): { median: number; cpuS: number } | null {
  if (!existsSync(torchScript) || !existsSync(python)) return null;
  const out = execFileSync(python, ['-c', RUSAGE, python, torchScript, which, String(threads), String(n)], { encoding: 'utf8' }).trim().split('\n');
  console.log(out[0]);
  const m = /'median_ms': ([\d.]+)/.exec(out[0] ?? '');
  return m ? { median: Number(m[1]), cpuS: Number(out[1]) } : null;
}
const before = torchRun(iters);
const ours = measure();
const after = torchRun(2 * iters);
console.log(JSON.stringify({ engine: 'tfjs-node', tensorflow: (tf.backend() as unknown as { binding: { TF_Version: string } }).binding.TF_Version, model: which, threads, median_ms: Math.round(ours.median), cpu_ms_per_iter: Math.round(ours.cpuMs), times: ours.times.map(Math.round), numTensors: tf.memory().numTensors }));
if (before && after) {
  const torch = (before.median + after.median) / 2;
  const torchCpuMs = ((after.cpuS - before.cpuS) * 1000) / iters;
  console.log(
    `RESULT native-${which} threads=${threads} ratio=${(ours.median / torch).toFixed(2)} cpu_ratio=${(ours.cpuMs / torchCpuMs).toFixed(2)} ` +
      `tensorflow_ms=${Math.round(ours.median)} torch_ms=${Math.round(torch)} (torch before ${before.median}, after ${after.median}) ` +
      `tensorflow_cpu_ms=${Math.round(ours.cpuMs)} torch_cpu_ms=${Math.round(torchCpuMs)}`,
  );
} else {
  console.log(`(PyTorch peer not run: ${torchScript} or ${python} missing)`);
}
