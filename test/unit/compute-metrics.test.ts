// GPU and TensorFlow.js gauges. No GPU here: the nvidia-smi path is exercised with a script that prints
// exactly what `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` prints on a two-GPU node.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerComputeMetrics } from '../../services/compute-metrics.js';
import { gpuReader, parseNvidiaSmi } from '../../shared/prom/gpu.js';
import { createRegistry } from '../../shared/prom/index.js';
import { initTf, tf } from '../../shared/tf/index.js';

const SAMPLE = '0, NVIDIA H200, 87, 70000, 143771\n1, NVIDIA H200, 3, 512, 143771\n';

describe('compute metrics', () => {
  it('parses nvidia-smi CSV into ratios and bytes, skipping malformed lines', () => {
    const r = parseNvidiaSmi(SAMPLE + 'garbage line\n');
    expect(r).toHaveLength(2);
    expect(r[0]).toEqual({ index: '0', name: 'NVIDIA H200', utilizationRatio: 0.87, memoryUsedBytes: 70000 * 1048576, memoryTotalBytes: 143771 * 1048576 });
  });

  it('exports GPU gauges per GPU from nvidia-smi, and none at all without it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-smi-'));
    const smi = join(dir, 'nvidia-smi');
    writeFileSync(smi, `#!/bin/sh\nprintf '${SAMPLE.replace(/\n/g, '\\n')}'\n`);
    chmodSync(smi, 0o755);
    const withGpu = createRegistry({ service: 'test', processMetrics: false });
    registerComputeMetrics(withGpu, gpuReader(0, smi));
    const text = await withGpu.metrics();
    expect(text).toContain('cxr_synth_gpu_utilization_ratio{gpu="0",name="NVIDIA H200"} 0.87');
    expect(text).toContain(`cxr_synth_gpu_memory_used_bytes{gpu="1",name="NVIDIA H200"} ${512 * 1048576}`);
    const promtool = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(promtool).toBe('');

    const noGpu = createRegistry({ service: 'test', processMetrics: false });
    registerComputeMetrics(noGpu, gpuReader(0, join(dir, 'absent')));
    expect(await noGpu.metrics()).not.toMatch(/cxr_synth_gpu_utilization_ratio\{/);
  });

  it('reports live TensorFlow.js tensors and bytes with the backend label', async () => {
    await initTf();
    const registry = createRegistry({ service: 'test', processMetrics: false });
    registerComputeMetrics(registry, async () => []);
    const before = tf.memory().numTensors;
    const held = tf.zeros([256, 256]);
    const text = await registry.metrics();
    const m = /cxr_synth_tf_tensors\{backend="(\w+)"\} (\d+)/.exec(text);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBe(before + 1);
    expect(text).toMatch(/cxr_synth_tf_memory_bytes\{backend="\w+"\} \d+/);
    held.dispose();
  });
});
