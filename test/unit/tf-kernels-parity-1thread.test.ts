// Every kernel the project registers for wasm (and the faster forms of wasm kernels it replaces) against the
// pure-JS `cpu` backend: values and gradients over many shapes, strides, paddings, dilations and channel
// counts, to the tolerance stated in shared/tf/testing/parity.ts. This file: wasm single-threaded (SIMD build);
// tf-kernels-parity.test.ts runs the same cases on 2 threads.
import { expect } from 'vitest';
import { initTf } from '../../shared/tf/index.js';
import { ADDED_KERNELS, REPLACED_KERNELS } from '../../shared/tf/kernels/index.js';
import { kernelParitySuite } from '../support/kernel-parity.js';

const THREADS = 1;

kernelParitySuite({
  title: `wasm kernels vs cpu (${THREADS} threads)`,
  backend: 'wasm',
  kernels: [...ADDED_KERNELS, ...REPLACED_KERNELS],
  skip: null,
  start: async () => {
    const info = await initTf({ backend: 'wasm', threads: THREADS });
    expect(info.name).toBe('wasm');
    // One thread: the single-threaded SIMD build tfjs loads itself.
    expect(info.variant).toBe('wasm-simd');
    expect(info.threads).toBe(THREADS);
  },
});
