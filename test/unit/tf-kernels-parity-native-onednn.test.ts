// The parity suite on the native `tensorflow` backend with oneDNN's kernels for every op (TF_ENABLE_ONEDNN_OPTS=1,
// where the conv-gradient rewrites are not registered), against the pure-JS `cpu` backend.
import { nativeKernelParitySuite } from '../support/kernel-parity.js';

await nativeKernelParitySuite('onednn-everywhere');
