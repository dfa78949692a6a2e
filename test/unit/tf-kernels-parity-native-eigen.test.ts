// The parity suite on the native `tensorflow` backend with TensorFlow's Eigen kernels (TF_ENABLE_ONEDNN_OPTS=0),
// where the project's conv-gradient rewrites replace TensorFlow's own, against the pure-JS `cpu` backend.
import { nativeKernelParitySuite } from '../support/kernel-parity.js';

await nativeKernelParitySuite('eigen');
