// The parity suite on the native `tensorflow` backend as it runs by default: the fused kernels of
// shared/tf/kernels/native.ts (batch norm on oneDNN's kernels) and the conv-gradient kernels registered for it
// (rewrites, oneDNN's input gradient), against the pure-JS `cpu` backend.
import { nativeKernelParitySuite } from '../support/kernel-parity.js';

await nativeKernelParitySuite('default');
