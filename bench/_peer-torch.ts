// The PyTorch peer of `npm run bench -- compute`: ../shared/peer/bench_torch.py (or $CXR_SYNTH_PEER_DIR) with
// Debian's python3, run as a lockstep subject by bench/torch_steps.py, which builds the peer script's own model
// and step(). Never required: when the peer script, python or torch is missing, the caller gets a reason and
// prints it instead of a ratio.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SubjectSpec } from './_lockstep.js';

/** What the peer subject reports when ready. */
export interface PeerInfo {
  torch: string;
  threads: number;
}

const here = dirname(fileURLToPath(import.meta.url));

export function peerDir(): string {
  return resolve(process.env.CXR_SYNTH_PEER_DIR ?? join(here, '..', '..', 'shared', 'peer'));
}

function python(): string {
  return process.env.CXR_SYNTH_PYTHON ?? '/usr/bin/python3';
}

/** Why the peer cannot run here, or null when it can. */
export function peerUnavailable(): string | null {
  const script = join(peerDir(), 'bench_torch.py');
  if (!existsSync(script)) return `peer script not found at ${script} (set CXR_SYNTH_PEER_DIR)`;
  if (!existsSync(python())) return `python not found at ${python()} (set CXR_SYNTH_PYTHON)`;
  const probe = spawnSync(python(), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0) return `torch does not import in ${python()} (apt-get install -y python3-torch libopenblas0-openmp)`;
  return null;
}

/** The peer at `threads` threads (OpenMP's too) for `model`. */
export function peerSubject(model: 'gan' | 'resnet', threads: number): SubjectSpec {
  return {
    command: python(),
    args: [join(here, 'torch_steps.py'), join(peerDir(), 'bench_torch.py'), model, String(threads)],
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    startTimeoutMs: 300_000,
  };
}
