// Every kernel the project registers for wasm (and the faster forms of wasm kernels it replaces) against the
// pure-JS `cpu` backend: values and gradients over many shapes, strides, paddings, dilations and channel
// counts, to the tolerance stated in shared/tf/testing/parity.ts. This file: wasm single-threaded (SIMD build);
// tf-kernels-parity.test.ts runs the same cases on 2 threads.
import { wasmKernelParitySuite } from '../support/kernel-parity.js';

wasmKernelParitySuite(1);
