// GPU utilisation and memory from NVIDIA's own tool, read when Prometheus scrapes (at most once per
// `maxAgeMs`, so a fast scraper doesn't spawn nvidia-smi per series). No nvidia-smi: no GPU series at all,
// rather than zeros that would look like an idle GPU.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GpuReading {
  index: string;
  name: string;
  utilizationRatio: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
}

const MIB = 1024 * 1024;

/** Parses `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuReading[] {
  return csv.split('\n').map((l) => l.trim()).filter(Boolean).flatMap((line) => {
    const [index, name, util, used, total] = line.split(',').map((s) => s.trim());
    const nums = [util, used, total].map(Number);
    if (index === undefined || name === undefined || nums.some((n) => !Number.isFinite(n))) return [];
    return [{ index, name, utilizationRatio: nums[0]! / 100, memoryUsedBytes: nums[1]! * MIB, memoryTotalBytes: nums[2]! * MIB }];
  });
}

/** A reader that runs nvidia-smi at most once per `maxAgeMs`; concurrent callers share one run. */
export function gpuReader(maxAgeMs = 5000, command = 'nvidia-smi'): () => Promise<GpuReading[]> {
  let last: { at: number; readings: Promise<GpuReading[]> } | undefined;
  let unavailable = false;
  const read = async (): Promise<GpuReading[]> => {
    try {
      const { stdout } = await run(command, ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'], { timeout: 3000 });
      return parseNvidiaSmi(stdout);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') unavailable = true;
      return [];
    }
  };
  return () => {
    if (unavailable) return Promise.resolve([]);
    if (!last || Date.now() - last.at > maxAgeMs) last = { at: Date.now(), readings: read() };
    return last.readings;
  };
}
