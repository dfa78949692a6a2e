// Kernels the project adds are written in terms of other kernels of the same backend, called directly
// (kernelFunc) rather than through tf ops: no tape, no engine bookkeeping, and every intermediate is
// freed by the scope, so a kernel never leaks backend memory however it exits.
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type Attrs = Record<string, unknown>;

/** The parts of the wasm backend (BackendWasm) that JS-loop kernels use. */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: Attrs;
}

export type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** BackendWasm internals used by `alias` (tfjs-backend-wasm 4.x). */
interface WasmInternals {
  dataIdMap: { get(id: object): { id: number; memoryOffset: number } | undefined; set(id: object, v: unknown): void; delete(id: object): void };
  dataIdNextNumber: number;
  wasm: { tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void } };
}

export class KernelScope {
  private readonly owned: TensorInfo[] = [];
  private readonly aliases: object[] = [];

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

  /** Allocates an output of the backend; freed at `dispose()` unless kept. */
  alloc(shape: number[], dtype: tf.DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.push(out);
    return out;
  }

  /** The same data seen with another shape (no copy, no reference count: the owner frees it). */
  view(t: TensorInfo, shape: number[]): TensorInfo {
    if (tf.util.sizeFromShape(shape) !== tf.util.sizeFromShape(t.shape)) {
      throw new Error(`view: cannot see shape [${t.shape}] as [${shape}]`);
    }
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }

  /**
   * The same memory under a NEW tensor id (wasm only). The wasm backend caches XNNPACK operators by the id of a
   * matmul's `b` / a conv's filter, assuming those are weights with one shape; handing it a fresh id makes every
   * call build its operator from the shape it is given. Unregistered (never freed) at `dispose()`.
   */
  alias(t: TensorInfo, shape: number[] = t.shape): TensorInfo {
    const b = this.backend as unknown as WasmInternals;
    const entry = b.dataIdMap.get(t.dataId);
    if (entry === undefined) throw new Error('alias: tensor is not on this backend');
    const id = b.dataIdNextNumber++;
    const dataId = { id };
    b.dataIdMap.set(dataId, { id, memoryOffset: entry.memoryOffset, shape, dtype: t.dtype, refCount: 1 });
    b.wasm.tfjs.registerTensor(id, tf.util.sizeFromShape(shape), entry.memoryOffset);
    this.aliases.push(dataId);
    return { dataId, shape, dtype: t.dtype };
  }

  /** An int32 tensor on the backend with the given values (index lists for gathers). */
  int32(values: ArrayLike<number>): TensorInfo {
    const t = this.alloc([values.length], 'int32');
    (this.backend.typedArrayFromHeap(t) as Int32Array).set(values);
    return t;
  }

  /** Hands `t` (or a view of a tensor of this scope) to the caller: `dispose()` will not free its data. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.findIndex((o) => o.dataId === t.dataId);
    if (i < 0) throw new Error('keep: tensor was not created in this scope');
    this.owned.splice(i, 1);
    return t;
  }

  dispose(): void {
    for (const t of this.owned.splice(0)) this.backend.disposeData(t.dataId);
    const b = this.backend as unknown as WasmInternals;
    for (const dataId of this.aliases.splice(0)) {
      const entry = b.dataIdMap.get(dataId);
      if (entry === undefined) continue;
      b.wasm.tfjs.disposeData(entry.id); // drops cached operators keyed on it; the memory belongs to the original
      b.dataIdMap.delete(dataId);
    }
  }
}

/** Runs `body` in a fresh scope and returns the tensor it keeps; everything else it made is freed. */
export function withScope(backend: unknown, backendName: string, body: (s: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend as HeapBackend, backendName);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

/** NHWC only: the layout the wasm backend's convolutions support. */
export function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel}: only NHWC is supported on this backend, got ${String(dataFormat)}`);
  }
}
