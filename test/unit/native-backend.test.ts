// The native `tensorflow` backend (@tensorflow/tfjs-node with the binding scripts/tfjs-native.sh builds against the
// tensorflow-cpu wheel) must compute what the pure-JS `cpu` backend computes: values and gradients of the ops the
// project's models use, and an optimizer step.
//
// Runs when the binding is installed. Otherwise every test here is skipped with the reason in its name and on stderr
// — except under CXR_SYNTH_TF_BACKEND=tensorflow, where the suite is meant to run natively and a missing backend fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfjs from '@tensorflow/tfjs';
import { DEFAULT_TOLERANCE, PARITY_CASES, runParity } from '../../scripts/tfjs-native/parity.js';

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

async function loadNative(): Promise<{ tf: typeof tfjs } | { reason: string }> {
  try {
    const mod = await import('@tensorflow/tfjs-node');
    // A CommonJS package: NodeNext gives the namespace with module.exports as `default`.
    return { tf: (mod.default ?? mod) as unknown as typeof tfjs };
  } catch (err) {
    const first = ((err as Error).message.split('\n')[0] ?? String(err)).trim().replace(/\.$/, '');
    return { reason: `@tensorflow/tfjs-node does not load (${first}); run scripts/tfjs-native.sh` };
  }
}

const loaded = await loadNative();
const required = process.env.CXR_SYNTH_TF_BACKEND === 'tensorflow';
const skipReason = 'reason' in loaded && !required ? loaded.reason : null;
if (skipReason !== null) console.warn(`[native-backend] SKIPPED: ${skipReason}`);
const title = skipReason === null ? 'native tensorflow backend' : `native tensorflow backend — SKIPPED: ${skipReason}`;

describe.skipIf(skipReason !== null)(title, () => {
  let tf: typeof tfjs;
  let tensorsAtStart = 0;

  beforeAll(async () => {
    if ('reason' in loaded) throw new Error(`CXR_SYNTH_TF_BACKEND=tensorflow but ${loaded.reason}`);
    tf = loaded.tf;
    await tf.ready();
    tensorsAtStart = tf.memory().numTensors;
  });

  it('is the active backend after a plain import, backed by a TensorFlow 2.x C library', () => {
    expect(tf.getBackend()).toBe('tensorflow');
    const binding = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
    expect(binding.TF_Version).toMatch(/^2\.\d+\.\d+/);
  });

  it('shares one engine with @tensorflow/tfjs, which shared/tf and the models import', async () => {
    const plain = await import('@tensorflow/tfjs');
    const core = (plain.default ?? plain) as unknown as typeof tfjs;
    expect(core.getBackend()).toBe('tensorflow');
    const y = core.tidy(() => core.matMul(core.tensor2d([[1, 2], [3, 4]]), core.tensor2d([[5], [6]])));
    expect(Array.from(await y.data())).toEqual([17, 39]);
    y.dispose();
  });

  it.each(PARITY_CASES)('matches the cpu backend: %s', async (name) => {
    const [result] = await runParity(tf, DEFAULT_TOLERANCE, name);
    expect(result?.name).toBe(name);
    expect(result!.relErr).toBeLessThanOrEqual(DEFAULT_TOLERANCE);
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('catches a wrong kernel: a perturbed result fails the same comparison', async () => {
    // Guards the comparison itself: conv2d with a filter off by 1e-3 must exceed the tolerance.
    const [a, b] = tf.tidy(() => {
      const x = tf.tensor4d(Array.from({ length: 2 * 5 * 5 * 2 }, (_, i) => Math.sin(i)), [2, 5, 5, 2]);
      const w = tf.tensor4d(Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => Math.cos(i)), [3, 3, 2, 4]);
      return [tf.conv2d(x, w, 1, 'same').dataSync(), tf.conv2d(x, tf.add(w, 1e-3) as tfjs.Tensor4D, 1, 'same').dataSync()];
    });
    const rel = Math.max(...a!.map((v, i) => Math.abs(v - b![i]!))) / Math.max(1, ...a!.map(Math.abs));
    expect(rel).toBeGreaterThan(DEFAULT_TOLERANCE);
  });

  afterAll(() => {
    if (tf) expect(tf.memory().numTensors).toBe(tensorsAtStart);
  });
});
