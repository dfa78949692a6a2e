// The ONE place that picks the TensorFlow.js backend. Model code imports `tf` from shared/tf and calls
// `await initTf()` once at start-up; the choice is logged and `backendName()` labels every compute metric.
//
// Order, best first: `tensorflow` from @tensorflow/tfjs-node-gpu (CUDA), `tensorflow` from @tensorflow/tfjs-node
// (CPU), `wasm` (XNNPACK, SIMD, threads where they start, plus the project's training kernels), `cpu` (pure JS:
// correct but too slow to train). The native packages are optional: absent or broken, they are skipped.
// CXR_SYNTH_TF_BACKEND=tensorflow|wasm|cpu forces one and fails loudly when it cannot start.
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createLogger } from '../log/logger.js';
import { registerBatchNormTrainingKernels, registerTensorflowKernels, registerWasmKernels } from './kernels/index.js';
import { registerFastGradients } from './gradients.js';
import { startWasm } from './wasm.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];
export const TF_BACKEND_ENV = 'CXR_SYNTH_TF_BACKEND';
export const TF_THREADS_ENV = 'CXR_SYNTH_TF_THREADS';

export interface TfBackendInfo {
  /** The tfjs backend name: what metrics and reports label. */
  name: BackendName;
  /** Which build: tfjs-node-gpu, tfjs-node, wasm-simd-threads, wasm-simd, wasm, cpu. */
  variant: string;
  /** Compute threads the backend uses (1 for cpu). */
  threads: number;
  /** Candidates tried before this one, and why each was skipped. */
  skipped: { variant: string; reason: string }[];
}

export interface InitTfOptions {
  /** Overrides CXR_SYNTH_TF_BACKEND. */
  backend?: BackendName;
  /** wasm threads; overrides CXR_SYNTH_TF_THREADS; default: the machine's cores (at most 8). */
  threads?: number;
}

const log = createLogger({ component: 'tf' });
let current: Promise<TfBackendInfo> | null = null;
let info: TfBackendInfo | null = null;

interface Candidate {
  name: BackendName;
  variant: string;
  start: (threads: number) => Promise<{ variant: string; threads: number }>;
}

async function startNative(pkg: string): Promise<{ variant: string; threads: number }> {
  // A variable specifier: the packages are optional and may not be installed at all.
  const spec: string = pkg;
  // Without its native binding the package fails only after registering ~170 kernels, which the next package's
  // registration then warns about one by one: check for the binding (lib/napi-v*/tfjs_binding.node) first.
  const lib = join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'lib');
  const hasBinding = existsSync(lib) && readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')));
  if (!hasBinding) throw new Error(`${pkg} has no native binding (run scripts/tfjs-native.sh)`);
  // tfjs-node locates its binding with node-pre-gyp, which parses process.argv as its own options (with
  // abbreviations: our `--dir X` became its `--directory X` and sent it looking under X). Hide our arguments.
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  // tfjs-node runs one eager op at a time, so TensorFlow's inter-op pool has nothing to overlap: its extra
  // threads only contend with the intra-op pool (ResNet step 540–880 ms with the default, 410–560 ms with 1).
  // Read when TensorFlow's eager context is created, during the import below; an operator's value wins.
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  // TensorFlow runs its oneDNN kernels for every op where it turns them on itself (CPUs with AVX-512 VNNI/BF16,
  // AVX-VNNI or AMX) or TF_ENABLE_ONEDNN_OPTS=1 says so; elsewhere (this AMD EPYC, AVX2) its eager ops run Eigen's.
  // Everywhere-oneDNN was faster here but not reproducible (2–3 of 10 identical training runs ended with other
  // weights), so CPU builds run Eigen's kernels and call oneDNN's only for the ops where they are faster and
  // reproducible (kernels/native.ts). TF_ENABLE_ONEDNN_OPTS=1 from the operator still turns on oneDNN everywhere.
  const cpuBuild = pkg === '@tensorflow/tfjs-node';
  if (cpuBuild) process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';
  try {
    await import(spec);
  } finally {
    process.argv = argv;
  }
  if (tf.findBackend('tensorflow') === null && tf.findBackendFactory('tensorflow') === null) {
    throw new Error(`${pkg} loaded but registered no 'tensorflow' backend (a second copy of tfjs-core?)`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg}: the 'tensorflow' backend failed to start`);
  registerTensorflowKernels('tensorflow', { eigenCpu: cpuBuild && process.env.TF_ENABLE_ONEDNN_OPTS !== '1' });
  return { variant: pkg.replace('@tensorflow/', ''), threads: 0 };
}

const CANDIDATES: Candidate[] = [
  { name: 'tensorflow', variant: 'tfjs-node-gpu', start: () => startNative('@tensorflow/tfjs-node-gpu') },
  { name: 'tensorflow', variant: 'tfjs-node', start: () => startNative('@tensorflow/tfjs-node') },
  {
    name: 'wasm',
    variant: 'wasm',
    start: async (threads) => {
      const started = await startWasm(threads);
      registerWasmKernels('wasm', started.threads);
      return started;
    },
  },
  {
    name: 'cpu',
    variant: 'cpu',
    start: async () => {
      if (!(await tf.setBackend('cpu'))) throw new Error("the 'cpu' backend failed to start");
      registerBatchNormTrainingKernels('cpu');
      return { variant: 'cpu', threads: 1 };
    },
  },
];

function parseBackend(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${TF_BACKEND_ENV}=${value} is not a backend; use one of ${BACKEND_NAMES.join(', ')}`);
}

function parseThreads(value: number | string | undefined): number {
  // XNNPACK's pool gains little past 8 threads on these models, and a service shares its node with others.
  if (value === undefined || value === '') return Math.min(8, availableParallelism());
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${TF_THREADS_ENV}=${value}: use an integer in 1..64`);
  return n;
}

async function choose(options: InitTfOptions): Promise<TfBackendInfo> {
  const forced = options.backend ?? parseBackend(process.env[TF_BACKEND_ENV]);
  const threads = parseThreads(options.threads ?? process.env[TF_THREADS_ENV]);
  const skipped: TfBackendInfo['skipped'] = [];
  for (const c of CANDIDATES) {
    if (forced !== undefined && c.name !== forced) continue;
    try {
      const started = await c.start(threads);
      registerFastGradients();
      const chosen: TfBackendInfo = { name: c.name, variant: started.variant, threads: started.threads, skipped };
      if (tf.getBackend() !== c.name) throw new Error(`tf.getBackend() is ${tf.getBackend()} after starting ${c.name}`);
      log.info('tf backend selected', { backend: chosen.name, variant: chosen.variant, threads: chosen.threads, skipped, forced: forced ?? null });
      if (chosen.name === 'cpu') {
        log.warn('tf backend is pure-JS cpu: fine for inference and tiny tests, far too slow to train real models', {});
      }
      return chosen;
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
      skipped.push({ variant: c.variant, reason });
    }
  }
  const why = skipped.map((s) => `${s.variant}: ${s.reason}`).join('; ');
  throw new Error(
    forced !== undefined
      ? `${TF_BACKEND_ENV}=${forced} but that backend is not available (${why})`
      : `no TensorFlow.js backend could start (${why})`,
  );
}

/**
 * Picks and starts the backend once; later calls return the same result (options after the first are ignored
 * unless they ask for a different backend, which is an error: one process, one backend).
 */
export function initTf(options: InitTfOptions = {}): Promise<TfBackendInfo> {
  if (current !== null) {
    return current.then((got) => {
      const want = options.backend;
      if (want !== undefined && want !== got.name) {
        throw new Error(`initTf: backend ${got.name} is already in use; cannot switch to ${want} in this process`);
      }
      return got;
    });
  }
  current = choose(options).then(
    (got) => (info = got),
    (err: unknown) => {
      current = null;
      throw err;
    },
  );
  return current;
}

/** The active backend's name, for metric labels and reports. Throws before `initTf()` has resolved. */
export function backendName(): BackendName {
  if (info === null) throw new Error('backendName(): call and await initTf() first');
  return info.name;
}

/** Everything `initTf()` decided, or null before it resolved. */
export function backendInfo(): TfBackendInfo | null {
  return info;
}
