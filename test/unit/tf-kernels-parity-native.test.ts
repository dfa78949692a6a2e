// The parity suite on the native `tensorflow` backend with TensorFlow's oneDNN kernels (the CPU default): the fused
// kernels of shared/tf/kernels/native.ts and TensorFlow's own conv gradients, against the pure-JS `cpu` backend.
import { nativeKernelParitySuite } from '../support/kernel-parity.js';

await nativeKernelParitySuite('onednn');
