// Backend choice: forced by option or CXR_SYNTH_TF_BACKEND, invalid names rejected with the valid ones listed,
// one backend per process, the choice exposed for metric labels.
import { describe, expect, it } from 'vitest';
import { tf, initTf, backendName, backendInfo, TF_BACKEND_ENV } from '../../shared/tf/index.js';

describe('initTf', () => {
  it('has no backend name before it resolves', () => {
    expect(() => backendName()).toThrow(/initTf/);
    expect(backendInfo()).toBeNull();
  });

  it('rejects an unknown CXR_SYNTH_TF_BACKEND, naming the valid ones, and can be retried', async () => {
    process.env[TF_BACKEND_ENV] = 'gpu-please';
    await expect(initTf()).rejects.toThrow(/gpu-please is not a backend; use one of tensorflow, wasm, cpu/);
    delete process.env[TF_BACKEND_ENV];
  });

  it('honours CXR_SYNTH_TF_BACKEND, once per process', async () => {
    process.env[TF_BACKEND_ENV] = 'wasm';
    const info = await initTf({ threads: 1 });
    delete process.env[TF_BACKEND_ENV];
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(backendName()).toBe('wasm');
    expect(info.variant).toMatch(/^wasm/);
    // Idempotent: the same decision again.
    expect(await initTf()).toBe(info);
    // A different backend in the same process is refused.
    await expect(initTf({ backend: 'cpu' })).rejects.toThrow(/already in use/);
  });

  it('trains on wasm: conv, transposed conv and batch norm gradients exist', () => {
    const g = tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.variable(tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D);
      const wt = tf.variable(tf.randomNormal([4, 4, 2, 4], 0, 1, 'float32', 3) as tf.Tensor4D);
      const { grads } = tf.variableGrads(() => {
        const y = tf.conv2d(x, w, 2, 'same');
        const m = tf.moments(y, [0, 1, 2]);
        const z = tf.conv2dTranspose(tf.batchNorm(y, m.mean, m.variance, tf.zeros([4]), tf.ones([4]), 1e-5) as tf.Tensor4D, wt, [2, 8, 8, 2], 2, 'same');
        return tf.sum(tf.square(z)) as tf.Scalar;
      }, [w, wt]);
      return Object.values(grads).map((t) => tf.sum(tf.abs(t)).dataSync()[0]!);
    });
    for (const v of g) expect(v).toBeGreaterThan(0);
  });
});
