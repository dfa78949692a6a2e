// The compute gauges every service exports, so ops see GPU and TensorFlow.js memory beside throughput:
// cxr_synth_gpu_* from nvidia-smi where a GPU is present, cxr_synth_tf_* always, labelled by backend.
import { gauge, type Registry } from '../shared/prom/index.js';
import { gpuReader, type GpuReading } from '../shared/prom/gpu.js';
import { backendInfo, tf } from '../shared/tf/index.js';

export function registerComputeMetrics(registry: Registry, readGpus = gpuReader()): void {
  // Each gauge fills itself from the same reading: gpuReader shares one nvidia-smi run between them.
  const gpuGauge = (name: string, help: string, value: (r: GpuReading) => number) => {
    const g = gauge(registry, name, help, ['gpu', 'name'], async () => {
      const readings = await readGpus();
      g.reset();
      for (const r of readings) g.set({ gpu: r.index, name: r.name }, value(r));
    });
  };
  gpuGauge('cxr_synth_gpu_utilization_ratio', 'GPU utilisation, 0..1, from nvidia-smi.', (r) => r.utilizationRatio);
  gpuGauge('cxr_synth_gpu_memory_used_bytes', 'GPU memory in use, from nvidia-smi.', (r) => r.memoryUsedBytes);
  gpuGauge('cxr_synth_gpu_memory_total_bytes', 'GPU memory in all, from nvidia-smi.', (r) => r.memoryTotalBytes);

  const refreshTf = () => {
    tfBytes.reset();
    tfTensors.reset();
    const backend = backendInfo()?.name;
    if (backend === undefined) return; // TensorFlow.js not started in this process: nothing to report
    const m = tf.memory();
    tfBytes.set({ backend }, m.numBytes);
    tfTensors.set({ backend }, m.numTensors);
  };
  const tfBytes = gauge(registry, 'cxr_synth_tf_memory_bytes', 'Bytes held by TensorFlow.js tensors.', ['backend'], refreshTf);
  const tfTensors = gauge(registry, 'cxr_synth_tf_tensors', 'Live TensorFlow.js tensors (a leak shows as steady growth).', ['backend']);
}
