// Runs the project's WebAssembly SIMD kernels (built from the .c files here) on tfjs-backend-wasm's own memory,
// on this thread and on helper worker threads, synchronously: a tfjs kernel must return its output.
//
// A kernel instance made on tfjs-backend-wasm's memory reads tensors where tfjs put them and writes its output into
// a tensor tfjs allocated: no copies. The threaded build of tfjs keeps that heap in a shared WebAssembly.Memory,
// so each helper worker instantiates the same module on the same memory and waits on a futex (Atomics.wait) for a
// call; the caller runs its own share, then waits for the helpers' shares to be done. Helpers are unref'd, so they
// never keep a process alive.
import { Worker } from 'node:worker_threads';

/** Arguments of one kernel call: numbers (pointers into the shared memory and sizes), passed as int32. */
export type KernelArgs = readonly number[];

/** The WebAssembly API this module uses (Node has it; @types/node does not declare these parts). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The futex words of one helper: [0] call sequence, [1] last call done, [2] failure flag, [3] argument count, then the arguments. */
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const ARGS = 3;
const MAX_ARGS = 32;

// CommonJS, evaluated as the worker's source: independent of tsx or a compiled dist/. A helper whose module would
// not instantiate still answers every call, as failed, so the caller never waits for ever.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, module, exportName, control } = workerData;
const ctrl = new Int32Array(control);
let kernel;
try {
  kernel = new WebAssembly.Instance(module, { env: { memory } }).exports[exportName];
} catch {}
for (let seen = 0; ; ) {
  Atomics.wait(ctrl, ${SEQ}, seen);
  seen = Atomics.load(ctrl, ${SEQ});
  const argc = ctrl[${ARGS}];
  let failed = 0;
  try {
    kernel(...ctrl.subarray(${ARGS + 1}, ${ARGS + 1} + argc));
  } catch {
    failed = 1;
  }
  Atomics.store(ctrl, ${FAILED}, failed);
  Atomics.store(ctrl, ${DONE}, seen);
  Atomics.notify(ctrl, ${DONE});
}`;

/** How long a call waits for a helper before it fails instead (a helper that died never answers). */
const HELPER_TIMEOUT_MS = 120_000;

interface Helper {
  worker: Worker;
  control: Int32Array;
}

/** One kernel of one module, callable on this thread and on `threads - 1` helpers. */
export class SimdKernel {
  private readonly local: (...args: number[]) => void;
  private readonly helpers: Helper[];

  /**
   * `builds`: the module built for a shared memory and for a plain one (a .wasm.ts module of this folder). On a
   * plain memory (tfjs's single-threaded build) there are no helpers, whatever `threads` says.
   */
  constructor(
    readonly memory: WasmMemory,
    builds: { shared: string; plain: string },
    exportName: string,
    threads: number,
  ) {
    const shared = memory.buffer instanceof SharedArrayBuffer;
    const module = new wasmApi.Module(Buffer.from(shared ? builds.shared : builds.plain, 'base64'));
    const local = new wasmApi.Instance(module, { env: { memory } }).exports[exportName];
    if (typeof local !== 'function') throw new Error(`wasm kernel module exports no function ${exportName}`);
    this.local = local as (...args: number[]) => void;
    this.helpers = Array.from({ length: shared ? Math.max(0, threads - 1) : 0 }, () => {
      const control = new Int32Array(new SharedArrayBuffer((ARGS + 1 + MAX_ARGS) * 4));
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, module, exportName, control: control.buffer } });
      worker.unref();
      return { worker, control };
    });
  }

  /** Threads a call can be split over. */
  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Runs shares[0] here and shares[i] on helper i - 1, and returns once all are done. */
  run(shares: readonly KernelArgs[]): void {
    if (shares.length > this.threads) throw new Error(`${shares.length} shares for ${this.threads} threads`);
    const started = shares.slice(1).map((args, i) => {
      const { control } = this.helpers[i]!;
      if (args.length > MAX_ARGS) throw new Error(`wasm kernel: ${args.length} arguments, at most ${MAX_ARGS}`);
      control[ARGS] = args.length;
      control.set(args, ARGS + 1);
      const seq = Atomics.add(control, SEQ, 1) + 1;
      Atomics.notify(control, SEQ);
      return { control, seq };
    });
    try {
      this.local(...shares[0]!);
    } finally {
      // Even when this share failed: never return while a helper still writes into the memory.
      for (const { control, seq } of started) {
        for (let done = Atomics.load(control, DONE); done !== seq; done = Atomics.load(control, DONE)) {
          if (Atomics.wait(control, DONE, done, HELPER_TIMEOUT_MS) === 'timed-out') {
            throw new Error(`wasm kernel: a helper thread gave no answer in ${HELPER_TIMEOUT_MS / 1000} s`);
          }
        }
      }
    }
    if (started.some(({ control }) => control[FAILED] !== 0)) throw new Error('wasm kernel failed on a helper thread');
  }
}
