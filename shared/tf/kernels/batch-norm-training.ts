// Training-mode batch norm and its gradient for backends without a fused TensorFlow kernel (wasm, cpu), composed
// of the backend's own kernels (see names.ts for the contract; kernels/native.ts is the TensorFlow form).
// Forward: the statistics as tfjs-layers computes them (mean, squared difference, mean), then y = x·a + b.
// Backward: the closed form of the full gradient, which tfjs-core instead reaches through tf.moments' graph in
// about sixteen full-size passes (ones-filled broadcasts, an AddN of three partial dx):
//   dx = k1·dy + k2·(x - μ) + k3,  k1 = γ/σ,  k2 = -γ·Σ[dy·(x - μ)]/(N·σ³),  k3 = -γ·Σdy/(N·σ),  σ = √(var + ε)
//   dγ = Σ[dy·(x - μ)]/σ,  dβ = Σdy
// Sums run over every axis but the last (the wasm backend's leading-axis Sum is the fast one of reduce-leading.ts).
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from './names.js';
import { type KernelArgs, type KernelScope, type TensorInfo, putKernel, withScopeAll } from './kernel-scope.js';

/** x as [rows, C]: every axis but the last folded into one, so reductions are over axis 0. */
function rowsOf(s: KernelScope, x: TensorInfo): { x2: TensorInfo; rows: number } {
  const c = x.shape[x.shape.length - 1]!;
  const rows = tf.util.sizeFromShape(x.shape) / c;
  return { x2: s.view(x, [rows, c]), rows };
}

function forward(args: KernelArgs, backendName: string): TensorInfo[] {
  const { x, scale, offset } = args.inputs as Record<string, TensorInfo>;
  const epsilon = args.attrs!.epsilon as number;
  return withScopeAll(args.backend, backendName, (s) => {
    const { x2 } = rowsOf(s, x!);
    const mul = (a: TensorInfo, b: TensorInfo) => s.run('Multiply', { a, b });
    const mean = s.run('Mean', { x: x2 }, { axis: [0], keepDims: false });
    const variance = s.run('Mean', { x: s.run('SquaredDifference', { a: x2, b: mean }) }, { axis: [0], keepDims: false });
    // y = x·a + b with a = γ/σ, b = β - μ·a: two broadcast kernels (wasm's FusedBatchNorm is a slow scalar loop).
    const a = mul(scale!, s.run('Rsqrt', { x: s.run('Add', { a: variance, b: s.scalar(epsilon) }) }));
    const b = s.run('Sub', { a: offset!, b: mul(mean, a) });
    const y = s.run('Add', { a: mul(x2, a), b });
    return [s.view(y, x!.shape), mean, variance];
  });
}

function backward(args: KernelArgs, backendName: string): TensorInfo[] {
  const { dy, x, scale, mean, variance } = args.inputs as Record<string, TensorInfo>;
  const epsilon = args.attrs!.epsilon as number;
  return withScopeAll(args.backend, backendName, (s) => {
    const { x2, rows } = rowsOf(s, x!);
    const dy2 = s.view(dy!, x2.shape);
    const mul = (a: TensorInfo, b: TensorInfo) => s.run('Multiply', { a, b });
    const add = (a: TensorInfo, b: TensorInfo) => s.run('Add', { a, b });
    const sumRows = (t: TensorInfo) => s.run('Sum', { x: t }, { axis: [0], keepDims: false });
    const invSigma = s.run('Rsqrt', { x: add(variance!, s.scalar(epsilon)) });
    const minusInvN = s.scalar(-1 / rows);
    const sumDy = sumRows(dy2);
    const xc = s.run('Sub', { a: x2, b: mean! });
    const sumDyXc = sumRows(mul(dy2, xc));
    const k1 = mul(scale!, invSigma);
    const k2 = mul(mul(k1, mul(invSigma, invSigma)), mul(sumDyXc, minusInvN));
    const k3 = mul(k1, mul(sumDy, minusInvN));
    const dx = add(add(mul(dy2, k1), mul(xc, k2)), k3);
    return [s.view(dx, x!.shape), mul(sumDyXc, invSigma), sumDy];
  });
}

/** Registers both kernels for `backendName` (wasm or cpu). Idempotent. */
export function registerBatchNormTrainingKernels(backendName: string): void {
  putKernel(BATCH_NORM_TRAINING, backendName, (a) => forward(a, backendName));
  putKernel(BATCH_NORM_TRAINING_GRAD, backendName, (a) => backward(a, backendName));
}
