// Kernels the project adds are written in terms of other kernels of the same backend, called directly
// (kernelFunc) rather than through tf ops: no tape, no engine bookkeeping, and every intermediate is
// freed by the scope, so a kernel never leaks backend memory however it exits.
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type Attrs = Record<string, unknown>;

/** What every backend offers (tf.KernelBackend): enough for kernels composed of other kernels. */
export interface AnyBackend {
  write(values: Float32Array, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The parts of the wasm backend (BackendWasm) that JS-loop kernels use. */
export interface HeapBackend extends AnyBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: Attrs;
}

export type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(
    readonly backend: HeapBackend,
    readonly backendName: string,
  ) {}

  /** Runs the kernel registered as `name` for this backend; the result is freed at `dispose()` unless kept. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}, impl?: KernelFn): TensorInfo {
    const fn = impl ?? (tf.getKernel(name, this.backendName)?.kernelFunc as KernelFn | undefined);
    if (fn === undefined) throw new Error(`kernel ${name} is not registered for backend ${this.backendName}`);
    const out = fn({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`kernel ${name} returned several outputs; KernelScope.run expects one`);
    this.owned.push(out);
    return out;
  }

  /** Runs a kernel whose inputs are a list (Concat, AddN); the result is freed at `dispose()` unless kept. */
  runMany(name: string, inputs: TensorInfo[], attrs: Attrs = {}): TensorInfo {
    return this.run(name, inputs as unknown as Record<string, TensorInfo>, attrs);
  }

  /** Allocates an output of the backend; freed at `dispose()` unless kept. */
  alloc(shape: number[], dtype: tf.DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.push(out);
    return out;
  }

  /**
   * The same data seen with another shape: the backend's Reshape (wasm and cpu share the data and count a
   * reference; tensorflow makes a new handle, since its tensors carry their shape). Freed at `dispose()`.
   */
  view(t: TensorInfo, shape: number[]): TensorInfo {
    if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(t.shape)) {
      throw new Error(`view: cannot see shape [${t.shape}] as [${shape}]`);
    }
    return this.run('Reshape', { x: t }, { shape });
  }

  /** A float32 scalar on the backend. */
  scalar(value: number): TensorInfo {
    const t = { dataId: this.backend.write(Float32Array.of(value), [], 'float32'), shape: [], dtype: 'float32' as const };
    this.owned.push(t);
    return t;
  }

  /** Hands `t` (or a view of a tensor of this scope) to the caller: `dispose()` will not free its data. */
  keep(t: TensorInfo): TensorInfo {
    let i = this.owned.indexOf(t);
    if (i < 0) i = this.owned.findIndex((o) => o.dataId === t.dataId);
    if (i < 0) throw new Error('keep: tensor was not created in this scope');
    this.owned.splice(i, 1);
    return t;
  }

  dispose(): void {
    // tfjs-node's kernels return engine Tensors: dispose them through the engine, which owns their bookkeeping.
    for (const t of this.owned.splice(0)) {
      if (isEngineTensor(t)) t.dispose();
      else this.backend.disposeData(t.dataId);
    }
  }
}

function isEngineTensor(t: TensorInfo): t is TensorInfo & { dispose(): void } {
  return typeof (t as { dispose?: unknown }).dispose === 'function';
}

/** Runs `body` in a fresh scope and returns the tensor it keeps; everything else it made is freed. */
export function withScope(backend: unknown, backendName: string, body: (s: KernelScope) => TensorInfo): TensorInfo {
  return withScopeAll(backend, backendName, (s) => [body(s)])[0]!;
}

/** `withScope` for kernels with several outputs: returns every tensor `body` keeps, in order. */
export function withScopeAll(backend: unknown, backendName: string, body: (s: KernelScope) => TensorInfo[]): TensorInfo[] {
  const scope = new KernelScope(backend as HeapBackend, backendName);
  try {
    return body(scope).map((t) => scope.keep(t));
  } finally {
    scope.dispose();
  }
}

/** Registers `fn` as the `name` kernel of `backendName`, replacing any registered before (so: idempotent). */
export function putKernel(name: string, backendName: string, fn: (args: KernelArgs) => TensorInfo | TensorInfo[]): void {
  if (tf.getKernel(name, backendName) !== undefined) tf.unregisterKernel(name, backendName);
  tf.registerKernel({ kernelName: name, backendName, kernelFunc: fn as unknown as tf.KernelFunc });
}

/** NHWC only: the layout the wasm backend's convolutions support. */
export function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel}: only NHWC is supported on this backend, got ${String(dataFormat)}`);
  }
}
