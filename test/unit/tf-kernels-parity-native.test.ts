// The parity suite on the native `tensorflow` backend: the fused kernels of shared/tf/kernels/native.ts and the
// conv-gradient rewrites registered for it, against the pure-JS `cpu` backend.
// Runs where the native binding is installed (scripts/tfjs-native.sh); skipped with the reason otherwise, except
// under CXR_SYNTH_TF_BACKEND=tensorflow, where a missing backend fails.
import { expect } from 'vitest';
import { initTf } from '../../shared/tf/index.js';
import { NATIVE_KERNELS, TENSORFLOW_REPLACED_KERNELS } from '../../shared/tf/kernels/index.js';
import { kernelParitySuite } from '../support/kernel-parity.js';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const required = process.env.CXR_SYNTH_TF_BACKEND === 'tensorflow';
const started = await initTf({ backend: 'tensorflow' }).then(
  () => null,
  (err: unknown) => (err instanceof Error ? err.message : String(err)),
);

kernelParitySuite({
  title: 'native tensorflow kernels vs cpu',
  backend: 'tensorflow',
  kernels: [...NATIVE_KERNELS, ...TENSORFLOW_REPLACED_KERNELS],
  skip: required ? null : started,
  unsupported: (c) => c.nativeUnsupported,
  start: async () => {
    expect(started).toBeNull();
  },
});
