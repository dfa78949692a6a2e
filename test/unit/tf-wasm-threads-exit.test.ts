// A process that ran work on the threaded wasm backend must exit by itself once its work is done. Emscripten refs
// every running pthread's Worker, and XNNPACK's pool threads run for the life of the backend, so without
// shared/tf/wasm.ts's releaseEventLoop the process finishes its work and then sits in epoll_wait for ever. The
// project's SIMD kernels keep helper workers of their own (kernels/wasm-simd/runner.ts), unref'd for the same reason.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('../fixtures/wasm-threads-child.ts', import.meta.url));

describe('threaded wasm backend', () => {
  it('lets a finished process exit on its own', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, CXR_SYNTH_LOG_LEVEL: 'error' },
    });
    expect(r.signal, `still running after 90 s (stdout: ${r.stdout})`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { variant: string; threads: number; sum: number; filterGradSum: number };
    expect(out.variant).toBe('wasm-simd-threads');
    expect(out.threads).toBe(2);
    // each output: 3×3 window of ones over 8 channels, minus the zero padding at the borders
    expect(out.sum).toBe(2 * 16 * 8 * (14 * 14 * 9 + 4 * 14 * 6 + 4 * 4));
    // each tap of the filter gradient counts the positions where it falls inside the image: 31, 32 or 31 a side
    expect(out.filterGradSum).toBe(4 * 16 * 24 * (31 + 32 + 31) ** 2);
  });
});
