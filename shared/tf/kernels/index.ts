// Registers the project's kernels for the wasm backend: the training kernels it lacks, and faster forms of
// kernels it has. Each one is checked against the `cpu` backend in test/unit/tf-kernels-parity.test.ts.
import * as tf from '@tensorflow/tfjs';
import type { KernelArgs, KernelFn, TensorInfo } from './kernel-scope.js';
import { conv2dBackpropFilterViaConv } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputViaConv } from './conv2d-backprop-input.js';
import { depthwiseConv2dBackpropFilter } from './depthwise-backprop-filter.js';
import { depthwiseConv2dBackpropInput } from './depthwise-backprop-input.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';
import { meanLeadingFast, sumLeadingFast } from './reduce-leading.js';

/** Kernels added where the backend has none. */
export const ADDED_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
] as const;
/** Kernels of the backend replaced by a faster form (the original stays as the fallback for cases it doesn't cover). */
export const REPLACED_KERNELS = ['Conv2DBackpropInput', 'Sum', 'Mean'] as const;

const originals = new Map<string, KernelFn>();

function put(name: string, backendName: string, fn: (args: KernelArgs) => TensorInfo): void {
  if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
  tf.registerKernel({ kernelName: name, backendName, kernelFunc: fn as unknown as tf.KernelFunc });
}

/** The backend's own kernel that `name` replaced (for parity tests and benchmarks). */
export function originalKernel(name: (typeof REPLACED_KERNELS)[number], backendName = 'wasm'): KernelFn | undefined {
  return originals.get(`${backendName}/${name}`);
}

let registered = new Set<string>();

/** Idempotent. `backendName` is the name the wasm backend is registered under (normally 'wasm'). */
export function registerWasmKernels(backendName = 'wasm'): void {
  if (registered.has(backendName)) return;
  for (const name of REPLACED_KERNELS) {
    const k = tf.getKernel(name, backendName);
    if (k === undefined) throw new Error(`backend ${backendName} has no ${name} kernel to replace`);
    originals.set(`${backendName}/${name}`, k.kernelFunc as unknown as KernelFn);
  }
  const orig = (name: string): KernelFn => originals.get(`${backendName}/${name}`)!;
  put('Conv2DBackpropFilter', backendName, (a) => conv2dBackpropFilterViaConv(a, backendName));
  put('DepthwiseConv2dNativeBackpropFilter', backendName, depthwiseConv2dBackpropFilter);
  put('DepthwiseConv2dNativeBackpropInput', backendName, depthwiseConv2dBackpropInput);
  put('UnsortedSegmentSum', backendName, unsortedSegmentSum);
  put('Conv2DBackpropInput', backendName, (a) => conv2dBackpropInputViaConv(a, backendName, orig('Conv2DBackpropInput')));
  put('Sum', backendName, (a) => sumLeadingFast(a, backendName, orig('Sum')));
  put('Mean', backendName, (a) => meanLeadingFast(a, backendName, orig('Mean')));
  registered = new Set([...registered, backendName]);
}
