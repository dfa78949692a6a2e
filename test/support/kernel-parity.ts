// One parity suite for every backend the project registers kernels for: the kernels are registered, every one
// is covered by a case, and every case matches the pure-JS `cpu` backend to TOLERANCE (values and gradients).
import { beforeAll, describe, expect, it } from 'vitest';
import { initTf, tf } from '../../shared/tf/index.js';
import { ADDED_KERNELS, NATIVE_KERNELS, REPLACED_KERNELS, TENSORFLOW_REPLACED_KERNELS, originalKernel } from '../../shared/tf/kernels/index.js';
import { type ParityCase, TOLERANCE, parityCases, relativeError, runOn } from '../../shared/tf/testing/parity.js';

export interface KernelParitySuite {
  title: string;
  /** The tfjs backend name under test. */
  backend: string;
  /** Starts the backend (and checks the variant under test started). */
  start: () => Promise<void>;
  /** Kernels the project registers for this backend; each must be registered and covered by a case. */
  kernels: readonly string[];
  /** A reason to skip the whole suite, or null to run it. */
  skip: string | null;
  /** Why this backend cannot run a case at all (it is then skipped, the reason in its name), or undefined. */
  unsupported?: (c: ParityCase) => string | undefined;
}

export function kernelParitySuite(suite: KernelParitySuite): void {
  const cases = parityCases();
  if (suite.skip !== null) console.warn(`[kernel parity ${suite.backend}] SKIPPED: ${suite.skip}`);
  const title = suite.skip === null ? suite.title : `${suite.title} — SKIPPED: ${suite.skip}`;
  describe.skipIf(suite.skip !== null)(title, () => {
    beforeAll(suite.start);

    it(`registers every project kernel for ${suite.backend}`, () => {
      const names = new Set(tf.getKernelsForBackend(suite.backend).map((k) => k.kernelName));
      for (const k of suite.kernels) expect(names.has(k), k).toBe(true);
    });

    it('covers every project kernel with parity cases', () => {
      const covered = new Set(cases.flatMap((c) => c.kernels));
      for (const k of suite.kernels) expect(covered.has(k), k).toBe(true);
    });

    for (const c of cases) {
      const why = suite.unsupported?.(c);
      if (why !== undefined) it.skip(`${c.name} — not on ${suite.backend}: ${why}`, () => {});
    }
    const runnable = cases.filter((c) => suite.unsupported?.(c) === undefined);
    it.each(runnable.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const ref = await runOn('cpu', c);
      const got = await runOn(suite.backend, c);
      expect(relativeError(ref, got)).toBeLessThanOrEqual(TOLERANCE);
      await tf.setBackend(suite.backend);
    });
  });
}

/** The suite on wasm with `threads` threads: 1 is the single-threaded SIMD build, more the threaded-SIMD build. */
export function wasmKernelParitySuite(threads: number): void {
  kernelParitySuite({
    title: `wasm kernels vs cpu (${threads} thread${threads === 1 ? '' : 's'})`,
    backend: 'wasm',
    kernels: [...ADDED_KERNELS, ...REPLACED_KERNELS],
    skip: null,
    start: async () => {
      const info = await initTf({ backend: 'wasm', threads });
      expect(info.name).toBe('wasm');
      // The build is part of what is under test: the one asked for must have started.
      expect(info.variant).toBe(threads === 1 ? 'wasm-simd' : 'wasm-simd-threads');
      expect(info.threads).toBe(threads);
    },
  });
}

/**
 * The suite on the native `tensorflow` backend (tfjs-node), as it runs by default (Eigen's kernels, the project's
 * conv-gradient rewrites, oneDNN's kernels for batch norm and the other input gradients) or with oneDNN's kernels
 * for every op (TF_ENABLE_ONEDNN_OPTS=1), where the rewrites are not registered. TensorFlow reads the variable once,
 * when it loads, so each mode needs a test file (a process) of its own.
 * Runs where the native binding is installed (scripts/tfjs-native.sh); skipped with the reason otherwise, except
 * under CXR_SYNTH_TF_BACKEND=tensorflow, where a missing backend fails.
 */
export async function nativeKernelParitySuite(mode: 'default' | 'onednn-everywhere'): Promise<void> {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  process.env.TF_ENABLE_ONEDNN_OPTS = mode === 'default' ? '0' : '1';
  const required = process.env.CXR_SYNTH_TF_BACKEND === 'tensorflow';
  const started = await initTf({ backend: 'tensorflow' }).then(
    () => null,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  const rewrites = mode === 'default';
  kernelParitySuite({
    title: `native tensorflow kernels (${rewrites ? 'Eigen, the rewrites, oneDNN batch norm and input gradients' : 'oneDNN everywhere'}) vs cpu`,
    backend: 'tensorflow',
    kernels: rewrites ? [...NATIVE_KERNELS, ...TENSORFLOW_REPLACED_KERNELS] : NATIVE_KERNELS,
    skip: required ? null : started,
    unsupported: (c) => c.nativeUnsupported ?? (rewrites ? undefined : c.oneDnnUnsupported),
    start: async () => {
      expect(started).toBeNull();
      for (const k of TENSORFLOW_REPLACED_KERNELS) expect(originalKernel(k, 'tensorflow') !== undefined, k).toBe(rewrites);
    },
  });
}
