// The parity suite of tf-kernels-parity-1thread.test.ts on wasm with 2 threads (the threaded-SIMD build, the
// default wherever there are two cores or more).
import { wasmKernelParitySuite } from '../support/kernel-parity.js';

wasmKernelParitySuite(2);
