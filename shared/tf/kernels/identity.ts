// Identity (tf.clone, and the engine's copy of every tensor it saves for a gradient) for wasm as a shared
// reference, as tfjs's cpu backend does it: tensors are immutable, so a clone can share the data and count one
// more reference. The wasm backend's own Identity copies the whole tensor (3–5 ms per 2M values, ~30 ms of a
// ResNet step).
import type { KernelArgs, KernelFn, TensorInfo } from './kernel-scope.js';

interface RefCounting {
  incRef(dataId: object): void;
}

export function identityShared(args: KernelArgs, original: KernelFn): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return original(args) as TensorInfo;
  (args.backend as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
