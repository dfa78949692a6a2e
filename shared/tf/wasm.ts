// Starting the wasm backend under Node, with threads.
//
// tfjs-backend-wasm turns threads off under Node (its feature probe returns false for IS_NODE) because its loader
// hands Emscripten a Blob URL for the pthread worker, which worker_threads cannot load. The threaded-SIMD build
// itself runs under Node, so we build that module ourselves: the worker script (shipped in the package as a
// string) is written once to a cache file, the main script is given by path, and `BackendWasm` is constructed on
// it. XNNPACK's C++ side caps threads at emscripten_num_logical_cores()/2 (it assumes hyper-threading), which on
// a 2-core machine means 1: we answer that import with 2×threads so the count asked for is the count used.
// Any failure falls back to the single-threaded SIMD build that tfjs loads itself.
//
// Threads are on by default (CXR_SYNTH_TF_THREADS=1 turns them off). Emscripten refs each running pthread's
// Worker, so the pool threads would keep Node's event loop alive after the work is done: releaseEventLoop
// unrefs them. (That is what looked like an intermittent deadlock earlier: a finished process that never exited,
// main thread in epoll_wait, pool threads in futex waits.)
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
const THREADED = 'tfjs-backend-wasm-threaded-simd';
const WASM_PRIORITY = 2;

/** A pthread's worker_threads Worker, as Emscripten holds it. */
interface PthreadWorker {
  ref(): void;
  unref(): void;
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => unknown;
  PThread?: { terminateAllThreads(): void; unusedWorkers: PthreadWorker[]; runningWorkers: PthreadWorker[] };
}
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
type WasmImports = { env: Record<string, unknown> };
// lib has no DOM/WebAssembly typings here: the little we use, typed locally.
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: WasmImports): Promise<{ instance: unknown; module: unknown }>;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

function wasmOutDir(): string {
  return dirname(require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${THREADED}.js`));
}

function distDir(): string {
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

/** The pthread worker script, materialised once per tfjs version (worker_threads needs a real CommonJS file). */
function workerScriptPath(): string {
  const { wasmWorkerContents } = require(join(wasmOutDir(), `${THREADED}.worker.js`)) as { wasmWorkerContents: string };
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const version = tfwasm.version_wasm;
  for (const root of [join(base, 'cxr-synth'), join(tmpdir(), 'cxr-synth')]) {
    try {
      const dir = join(root, `tfjs-wasm-${version}`);
      const file = join(dir, `${THREADED}.worker.cjs`);
      // The package escapes newlines itself before making its Blob; do the same.
      const text = wasmWorkerContents.replace(/\n/g, '\\n');
      if (existsSync(file) && readFileSync(file, 'utf8') === text) return file;
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, file);
      return file;
    } catch {
      // read-only home: try the next root
    }
  }
  throw new Error('cannot write the wasm pthread worker script to a cache directory');
}

async function threadedBackend(threads: number): Promise<tf.KernelBackend> {
  const out = wasmOutDir();
  const factory = require(join(out, `${THREADED}.js`)) as Factory;
  const worker = workerScriptPath();
  const binary = readFileSync(join(out, `${THREADED}.wasm`));
  const module = await factory({
    locateFile: (p: string) => (p.endsWith('.worker.js') ? worker : join(out, p)),
    mainScriptUrlOrBlob: join(out, `${THREADED}.js`),
    instantiateWasm: (imports: WasmImports, receive: (instance: unknown, module: unknown) => void) => {
      imports.env.emscripten_num_logical_cores = () => 2 * threads;
      void WebAssemblyApi.instantiate(binary, imports).then((r) => receive(r.instance, r.module));
      return {};
    },
  });
  // The same bridge tfjs-backend-wasm's own init() builds.
  (module as unknown as { tfjs: Record<string, unknown> }).tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  tfwasm.setThreadsCount(threads);
  const backend = new tfwasm.BackendWasm(module as unknown as ConstructorParameters<typeof tfwasm.BackendWasm>[0]);
  releaseEventLoop(module);
  return backend;
}

/**
 * Emscripten refs a pthread's Worker while the thread runs, and XNNPACK's pool threads run for the life of the
 * backend: left alone they keep Node's event loop alive, so a process that has finished its work never exits
 * (it sits in epoll_wait, its pool threads in futex waits). The pool is created with the backend, so every
 * worker exists now; they are unreffed and kept so (a worker whose thread starts only once it has loaded is
 * reffed again by Emscripten then).
 */
function releaseEventLoop(module: EmscriptenModule): void {
  const pthreads = module.PThread;
  if (pthreads === undefined) return;
  for (const worker of [...pthreads.unusedWorkers, ...pthreads.runningWorkers]) {
    worker.ref = () => undefined;
    worker.unref();
  }
}

// The factory tfjs-backend-wasm registered on import (its own loader: single-threaded SIMD under Node).
const defaultFactory = tf.findBackendFactory('wasm');

function useFactory(factory: () => tf.KernelBackend | Promise<tf.KernelBackend>): void {
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
}

/** Starts `wasm` with `threads` threads when the threaded build starts, else single-threaded SIMD. */
export async function startWasm(threads: number): Promise<{ variant: string; threads: number }> {
  if (defaultFactory === null) throw new Error('@tensorflow/tfjs-backend-wasm registered no wasm backend');
  if (threads > 1) {
    useFactory(() => threadedBackend(threads));
    if (await tf.setBackend('wasm')) return { variant: 'wasm-simd-threads', threads: tfwasm.getThreadsCount() };
  }
  tfwasm.setWasmPaths(distDir() + '/');
  useFactory(defaultFactory);
  if (!(await tf.setBackend('wasm'))) throw new Error("the 'wasm' backend failed to start");
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return { variant: simd ? 'wasm-simd' : 'wasm', threads: tfwasm.getThreadsCount() };
}
