// Every kernel the project registers for wasm (and the faster forms of wasm kernels it replaces) against the
// pure-JS `cpu` backend: values and gradients over many shapes, strides, paddings, dilations and channel
// counts, to the tolerance stated in shared/tf/testing/parity.ts. This file runs wasm with 2 threads (the
// threaded-SIMD build); tf-kernels-parity-1thread.test.ts runs the same cases single-threaded.
// Opt-in (CXR_SYNTH_TEST_WASM_THREADS=1): the threaded build has hung intermittently under load (see
// shared/tf/wasm.ts), and a hang inside wasm cannot be interrupted by a test timeout.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initTf } from '../../shared/tf/index.js';
import { ADDED_KERNELS, REPLACED_KERNELS } from '../../shared/tf/kernels/index.js';
import { TOLERANCE, parityCases, relativeError, runOn } from '../../shared/tf/testing/parity.js';

const THREADS = 2;
const cases = parityCases();
const enabled = process.env.CXR_SYNTH_TEST_WASM_THREADS === '1';
if (!enabled) console.warn('[tf-kernels-parity] SKIPPED: 2-thread wasm parity is opt-in (CXR_SYNTH_TEST_WASM_THREADS=1)');
const title = enabled ? `wasm kernels vs cpu (${THREADS} threads)` : `wasm kernels vs cpu (${THREADS} threads) — SKIPPED: set CXR_SYNTH_TEST_WASM_THREADS=1`;

describe.skipIf(!enabled)(title, () => {
  beforeAll(async () => {
    const info = await initTf({ backend: 'wasm', threads: THREADS });
    expect(info.name).toBe('wasm');
    // Threads are part of what is under test here: the threaded build must have started.
    expect(info.variant).toBe('wasm-simd-threads');
    expect(info.threads).toBe(THREADS);
  });

  it('registers every training kernel and replaced kernel for wasm', () => {
    const names = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    for (const k of [...ADDED_KERNELS, ...REPLACED_KERNELS]) expect(names.has(k), k).toBe(true);
  });

  it('covers every added and replaced kernel with parity cases', () => {
    const covered = new Set(cases.flatMap((c) => c.kernels));
    for (const k of [...ADDED_KERNELS, ...REPLACED_KERNELS]) expect(covered.has(k), k).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ref = await runOn('cpu', c);
    const got = await runOn('wasm', c);
    expect(relativeError(ref, got)).toBeLessThanOrEqual(TOLERANCE);
    await tf.setBackend('wasm');
  });
});
