// The PyTorch peer of `npm run bench -- compute`: runs ../shared/peer/bench_torch.py (or $CXR_SYNTH_PEER_DIR)
// with Debian's python3 in a child process and parses its one result line. Never required: when the peer
// script, python or torch is missing, the caller gets a reason and prints it instead of a ratio.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerResult {
  engine: string;
  torch: string;
  threads: number;
  model: string;
  median_ms: number;
  min_ms: number;
  times: number[];
}

export type PeerOutcome = { ok: true; result: PeerResult } | { ok: false; reason: string };

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function peerDir(): string {
  return resolve(process.env.CXR_SYNTH_PEER_DIR ?? join(repoRoot, '..', 'shared', 'peer'));
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

/** bench_torch.py prints a Python dict literal; this turns the subset it uses (numbers, strings, lists) into JSON. */
export function parsePeerLine(line: string): PeerResult {
  const json = line.trim().replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false');
  const v = JSON.parse(json) as PeerResult;
  if (typeof v.median_ms !== 'number' || typeof v.model !== 'string') throw new Error(`unexpected peer line: ${line}`);
  return v;
}

export function runPeer(model: 'gan' | 'resnet', threads: number, iterations: number): PeerOutcome {
  const why = peerUnavailable();
  if (why !== null) return { ok: false, reason: why };
  const r = spawnSync(python(), [join(peerDir(), 'bench_torch.py'), model, String(threads), String(iterations)], {
    encoding: 'utf8',
    timeout: 1_800_000,
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) return { ok: false, reason: `bench_torch.py ${model} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').pop()}` };
  const line = (r.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (line === undefined) return { ok: false, reason: 'bench_torch.py printed no result line' };
  return { ok: true, result: parsePeerLine(line) };
}
