// The parity suite of tf-kernels-parity-1thread.test.ts on wasm with 2 threads (the threaded-SIMD build, the
// default wherever there are two cores or more).
import { expect } from 'vitest';
import { initTf } from '../../shared/tf/index.js';
import { ADDED_KERNELS, REPLACED_KERNELS } from '../../shared/tf/kernels/index.js';
import { kernelParitySuite } from '../support/kernel-parity.js';

const THREADS = 2;

kernelParitySuite({
  title: `wasm kernels vs cpu (${THREADS} threads)`,
  backend: 'wasm',
  kernels: [...ADDED_KERNELS, ...REPLACED_KERNELS],
  skip: null,
  start: async () => {
    const info = await initTf({ backend: 'wasm', threads: THREADS });
    expect(info.name).toBe('wasm');
    // Threads are part of what is under test here: the threaded build must have started.
    expect(info.variant).toBe('wasm-simd-threads');
    expect(info.threads).toBe(THREADS);
  },
});
