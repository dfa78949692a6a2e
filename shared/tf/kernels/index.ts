// Registers the project's kernels: for wasm, the training kernels it lacks and faster forms of kernels it has; for
// the native `tensorflow` backend, the fused kernels of native.ts and faster forms of the two convolution
// gradients. Each one is checked against the `cpu` backend (test/unit/tf-kernels-parity*.test.ts).
import * as tf from '@tensorflow/tfjs';
import { type KernelFn, type TensorInfo, putKernel as put } from './kernel-scope.js';
import { conv2dBackpropFilterViaConv } from './conv2d-backprop-filter.js';
import { conv2dBackpropFilterSimd } from './conv2d-backprop-filter-simd.js';
import { conv2dBackpropInputViaConv } from './conv2d-backprop-input.js';
import { depthwiseConv2dBackpropFilter } from './depthwise-backprop-filter.js';
import { depthwiseConv2dBackpropInput } from './depthwise-backprop-input.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { meanLeadingFast, sumLeadingFast } from './reduce-leading.js';
import { sliceFromHeap } from './slice.js';
import { identityShared } from './identity.js';
import { registerBatchNormTrainingKernels } from './batch-norm-training.js';
import { NATIVE_KERNELS, hasOneDnnKernels, oneDnnConv2dBackpropInput, registerNativeKernels } from './native.js';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from './names.js';

export { NATIVE_KERNELS, registerBatchNormTrainingKernels };

/** Kernels added where the backend has none. */
export const ADDED_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
] as const;
/** Kernels of the backend replaced by a faster form (the original stays as the fallback for cases it doesn't cover). */
export const REPLACED_KERNELS = ['Conv2DBackpropInput', 'Sum', 'Mean', 'Slice', 'Identity'] as const;
/**
 * TensorFlow's Eigen CPU kernels for the two conv gradients are slow at the study's shapes; as forward convs they
 * are faster wherever the rewrite wastes nothing: the filter tiles the stride (stride 1, or DCGAN's 4/2) and both
 * sides have a few channels. Measured (ms, Eigen's → rewrite): input gradient [32,4,4,512]→[32,8,8,256] k4/2
 * 104 → 43; [16,64,64,32] k3/1 14 → 13; filter gradient k4/2 26–41 → 22–32, k3/1 [16,64,64,32] 42 → 21. Eigen's
 * stays where it wins: k3/2 (9 → 11–14), 1×1 (3 → 9), one channel. Where TensorFlow runs oneDNN's kernels for every
 * op (TF_ENABLE_ONEDNN_OPTS=1) those beat the rewrites, which are then not registered.
 */
export const TENSORFLOW_REPLACED_KERNELS = ['Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;

function rewritePays(filterShape: number[], strides: unknown): boolean {
  const [kh, kw, ci, co] = filterShape as [number, number, number, number];
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : (strides as [number, number]);
  const tiles = (k: number, s: number) => k > 1 && (s === 1 || k % s === 0);
  return tiles(kh, sh) && tiles(kw, sw) && ci >= 8 && co >= 8;
}

const originals = new Map<string, KernelFn>();

/** The backend's own kernel that `name` replaced (for parity tests and benchmarks). */
export function originalKernel(
  name: (typeof REPLACED_KERNELS)[number] | (typeof TENSORFLOW_REPLACED_KERNELS)[number],
  backendName = 'wasm',
): KernelFn | undefined {
  return originals.get(`${backendName}/${name}`);
}

let registered = new Set<string>();

/** Saves the backend's own kernels before they are replaced; returns a lookup of them. */
function saveOriginals(names: readonly string[], backendName: string): (name: string) => KernelFn {
  for (const name of names) {
    const k = tf.getKernel(name, backendName);
    if (k === undefined) throw new Error(`backend ${backendName} has no ${name} kernel to replace`);
    originals.set(`${backendName}/${name}`, k.kernelFunc as unknown as KernelFn);
  }
  return (name) => originals.get(`${backendName}/${name}`)!;
}

/**
 * Idempotent. `backendName` is the name the wasm backend is registered under (normally 'wasm'); `threads` the
 * threads it runs (the project's SIMD kernels use as many).
 */
export function registerWasmKernels(backendName = 'wasm', threads = 1): void {
  if (registered.has(backendName)) return;
  const orig = saveOriginals(REPLACED_KERNELS, backendName);
  put('Conv2DBackpropFilter', backendName, (a) => conv2dBackpropFilterSimd(a, backendName, threads) ?? conv2dBackpropFilterViaConv(a, backendName));
  put('DepthwiseConv2dNativeBackpropFilter', backendName, depthwiseConv2dBackpropFilter);
  put('DepthwiseConv2dNativeBackpropInput', backendName, depthwiseConv2dBackpropInput);
  put('UnsortedSegmentSum', backendName, unsortedSegmentSum);
  put('Conv2DBackpropInput', backendName, (a) => conv2dBackpropInputViaConv(a, backendName, orig('Conv2DBackpropInput')));
  put('Sum', backendName, (a) => sumLeadingFast(a, backendName, orig('Sum')));
  put('Mean', backendName, (a) => meanLeadingFast(a, backendName, orig('Mean')));
  put('Slice', backendName, (a) => sliceFromHeap(a, orig('Slice')));
  put('Identity', backendName, (a) => identityShared(a, orig('Identity')));
  registerBatchNormTrainingKernels(backendName);
  registered = new Set([...registered, backendName]);
}

/**
 * Idempotent: the fused kernels of kernels/native.ts and, on a CPU build running Eigen's kernels (`eigenCpu`), faster
 * conv input gradients: the rewrite where it pays, else oneDNN's kernel for filters of 3×3 and up with ≥ 8 channels
 * on both sides (3×3/2: 2–3× Eigen's), else Eigen's; and the filter-gradient rewrite where it pays.
 */
export function registerTensorflowKernels(backendName: string, options: { eigenCpu: boolean }): void {
  if (registered.has(backendName)) return;
  registered = new Set([...registered, backendName]);
  // (A TensorFlow built without oneDNN keeps its own kernels throughout.)
  const oneDnn = options.eigenCpu && hasOneDnnKernels(tf.findBackend(backendName));
  registerNativeKernels(backendName, { oneDnn });
  if (!options.eigenCpu) return; // cuDNN (GPU) or oneDNN everywhere: TensorFlow's own kernels are the fast ones
  const orig = saveOriginals(TENSORFLOW_REPLACED_KERNELS, backendName);
  put('Conv2DBackpropInput', backendName, (a) => {
    const native = orig('Conv2DBackpropInput');
    const filter = a.inputs.filter!.shape;
    if (rewritePays(filter, a.attrs?.strides)) return conv2dBackpropInputViaConv(a, backendName, native);
    const plainPad = a.attrs?.pad === 'same' || a.attrs?.pad === 'valid';
    const nhwc = a.attrs?.dataFormat === undefined || a.attrs.dataFormat === 'NHWC';
    const [kh, kw, ci, co] = filter as [number, number, number, number];
    const oneDnnPays = kh * kw > 1 && ci >= 8 && co >= 8; // a 1-channel side took oneDNN 46 ms where Eigen took < 18
    return oneDnn && oneDnnPays && plainPad && nhwc ? oneDnnConv2dBackpropInput(a) : (native(a) as TensorInfo);
  });
  put('Conv2DBackpropFilter', backendName, (a) => {
    const pays = rewritePays(a.attrs!.filterShape as number[], a.attrs!.strides);
    return pays ? conv2dBackpropFilterViaConv(a, backendName) : (orig('Conv2DBackpropFilter')(a) as TensorInfo);
  });
}
