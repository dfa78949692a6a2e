// Install-time smoke check for the native backend, run by scripts/tfjs-native.sh after it places the binding:
//   node --import tsx scripts/tfjs-native/check.ts [@tensorflow/tfjs-node | @tensorflow/tfjs-node-gpu]
// Loads the package the way shared/tf does (a plain dynamic import), requires the active backend to be `tensorflow`,
// and runs the parity cases against the `cpu` backend. Prints one JSON line; exit 0 only when every case passes.
import type * as tfjs from '@tensorflow/tfjs';
import { runParity } from './parity.js';

// TensorFlow's C++ start-up banner (cpu_feature_guard, absl) goes to stderr; keep it quiet unless asked for.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

const pkg = process.argv[2] ?? '@tensorflow/tfjs-node';
if (pkg !== '@tensorflow/tfjs-node' && pkg !== '@tensorflow/tfjs-node-gpu') {
  console.error(`usage: check.ts [@tensorflow/tfjs-node | @tensorflow/tfjs-node-gpu] (got ${pkg})`);
  process.exit(2);
}

const t0 = performance.now();
let tf: typeof tfjs;
try {
  const mod = (await import(pkg)) as { default?: typeof tfjs } & typeof tfjs;
  tf = mod.default ?? mod;
} catch (err) {
  console.log(JSON.stringify({ ok: false, package: pkg, error: (err as Error).message.split('\n')[0] }));
  process.exit(1);
}
const loadMs = Math.round(performance.now() - t0);

await tf.ready();
const backend = tf.getBackend();
const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
const results = backend === 'tensorflow' ? await runParity(tf) : [];
const ok = backend === 'tensorflow' && results.every((r) => r.ok);
console.log(
  JSON.stringify({
    ok,
    package: pkg,
    backend,
    tensorflow: binding?.TF_Version ?? null,
    loadMs,
    parity: results.map((r) => ({ case: r.name, relErr: Number(r.relErr.toExponential(2)), ok: r.ok })),
  }),
);
process.exit(ok ? 0 : 1);
