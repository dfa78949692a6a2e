// `npm run bench -- compute`: one DCGAN 64×64 batch-32 iteration (D on real + fake, then G) and one ResNet-ish
// 128×128 batch-16 step, built in shared/tf/reference-nets.ts exactly as ../shared/peer/bench_torch.py builds
// them, timed on every backend that starts here and side by side with PyTorch on the CPU in the same run.
// Each backend runs in its own child process (one process, one tfjs backend). The machine is shared and its load
// drifts over tens of seconds, so ours and the peer run in alternating rounds and each median is over all rounds.
// Prints ms/iteration per backend and `RESULT compute-gan ratio=…`, `RESULT compute-resnet ratio=…`
// (our best backend / PyTorch's best of our thread count and all cores; lower is better).
//
// Env: CXR_SYNTH_BENCH_ROUNDS (alternating rounds, default 3), CXR_SYNTH_BENCH_ITERS (timed iterations per round,
// default 4), CXR_SYNTH_BENCH_WARMUP (per round, default 3: the ResNet step still speeds up over its first
// iterations), CXR_SYNTH_TF_THREADS
// (wasm threads, default: the cores, at most 8), CXR_SYNTH_PEER_THREADS (default: all cores),
// CXR_SYNTH_BENCH_BACKENDS (comma list; default tensorflow,wasm; `cpu` only on request: it needs minutes per
// iteration), CXR_SYNTH_PEER_DIR (where bench_torch.py lives; default ../shared/peer).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as tfTypes from '@tensorflow/tfjs';
import { runPeer, type PeerResult } from './_peer-torch.js';

type Model = 'gan' | 'resnet';
interface Timing {
  backend: string;
  variant: string;
  threads: number;
  model: Model;
  median_ms: number;
  min_ms: number;
  times: number[];
}

const WARMUP = Math.max(0, Number(process.env.CXR_SYNTH_BENCH_WARMUP ?? 3));
const iterations = (): number => Math.max(1, Number(process.env.CXR_SYNTH_BENCH_ITERS ?? 4));
const ROUNDS = Math.max(1, Number(process.env.CXR_SYNTH_BENCH_ROUNDS ?? 3));
// Ours: the threads shared/tf uses (CXR_SYNTH_TF_THREADS, default: the cores, at most 8). The peer: every core, as a
// user would run it.
const threads = (): number => Number(process.env.CXR_SYNTH_TF_THREADS ?? Math.min(8, availableParallelism()));
const peerThreads = (): number => Number(process.env.CXR_SYNTH_PEER_THREADS ?? Math.min(8, availableParallelism()));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** In the child: time `model` on the backend CXR_SYNTH_TF_BACKEND names; prints one JSON line. */
async function child(model: Model): Promise<void> {
  const { tf, initTf } = await import('../shared/tf/index.js');
  const nets = await import('../shared/tf/reference-nets.js');
  const info = await initTf({ threads: threads() });
  let step: () => void;
  let cleanup: () => void;
  if (model === 'gan') {
    const gan = nets.buildDcgan(nets.DCGAN_64);
    const real = tf.sub(tf.mul(tf.randomUniform([32, 64, 64, 1], 0, 1, 'float32', 1), 2), 1) as tfTypes.Tensor4D;
    let seed = 100;
    step = () => void nets.dcganIteration(gan, real, (seed += 2));
    cleanup = () => { real.dispose(); nets.disposeNets(gan); };
  } else {
    const net = nets.buildResnet(nets.RESNET_128);
    const x = tf.randomNormal([16, 128, 128, 3], 0, 1, 'float32', 1) as tfTypes.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32');
    step = () => void nets.resnetStep(net, x, y);
    cleanup = () => { tf.dispose([x, y]); nets.disposeNets(net); };
  }
  for (let i = 0; i < WARMUP; i++) step();
  const times: number[] = [];
  for (let i = 0; i < iterations(); i++) {
    const t = performance.now();
    step(); // each step ends in dataSync() of its losses: the work is done when it returns
    times.push(performance.now() - t);
  }
  cleanup();
  const out: Timing = { backend: info.name, variant: info.variant, threads: info.threads, model, median_ms: median(times), min_ms: Math.min(...times), times };
  process.stdout.write(`TIMING ${JSON.stringify(out)}\n`);
}

function timeBackend(backend: string, model: Model): Timing | { skipped: string } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', model], {
    encoding: 'utf8',
    timeout: 3_600_000,
    env: { ...process.env, CXR_SYNTH_TF_BACKEND: backend, CXR_SYNTH_LOG_LEVEL: 'warn' },
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('TIMING '));
  if (r.status !== 0 || line === undefined) {
    const err = (r.stderr ?? '').trim().split('\n').filter((l) => l.trim() !== '').pop() ?? `exit ${r.status}`;
    return { skipped: err.slice(0, 300) };
  }
  return JSON.parse(line.slice('TIMING '.length)) as Timing;
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/** One series (a backend, or the peer at one thread count) with its times gathered over the rounds. */
type Pooled<T> = T & { median_ms: number; min_ms: number; rounds: number[][] };

function pooled<T extends { times: number[] }>(prev: Pooled<T> | undefined, next: T): Pooled<T> {
  const rounds = [...(prev?.rounds ?? []), next.times];
  const times = rounds.flat();
  return { ...next, times, rounds, median_ms: median(times), min_ms: Math.min(...times) };
}

const series = (rounds: number[][]): string => rounds.map((r) => r.map(fmt).join(' ')).join(' | ');

export async function run(): Promise<void> {
  const backends = (process.env.CXR_SYNTH_BENCH_BACKENDS ?? 'tensorflow,wasm').split(',').map((b) => b.trim()).filter(Boolean);
  const n = threads();
  console.log(
    `compute: ${ROUNDS} alternating rounds of ${iterations()} timed iterations after ${WARMUP} warm-up; ours ${n} thread(s), ` +
      `pytorch ${peerThreads()}; backends ${backends.join(', ')}`,
  );
  for (const [model, label] of [['gan', 'DCGAN 64x64 b32 D+G iteration'], ['resnet', 'ResNet-ish 128x128 b16 step']] as const) {
    const ours = new Map<string, Pooled<Timing>>();
    const skipped = new Map<string, string>();
    // PyTorch at our thread count AND at all cores; the faster is the reference a user would pick (on a loaded
    // machine, 2 OpenMP threads can be far slower than 1).
    const counts = [...new Set([n, peerThreads()])];
    const peers = new Map<number, Pooled<PeerResult>>();
    const peerSkipped = new Map<number, string>();
    const runOurs = () => {
      for (const b of backends.filter((x) => !skipped.has(x))) {
        const t = timeBackend(b, model);
        if ('skipped' in t) skipped.set(b, t.skipped);
        else ours.set(b, pooled(ours.get(b), t));
      }
    };
    const runPeers = () => {
      for (const c of counts.filter((x) => !peerSkipped.has(x))) {
        const p = runPeer(model, c, iterations());
        if (p.ok) peers.set(c, pooled(peers.get(c), p.result));
        else peerSkipped.set(c, p.reason);
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        runOurs();
        runPeers();
      } else {
        runPeers();
        runOurs();
      }
    }
    for (const [b, why] of skipped) console.log(`  ${model} ${b}: skipped (${why})`);
    for (const t of ours.values()) {
      console.log(`  ${model} ${t.variant} (${t.threads > 0 ? `${t.threads} threads` : 'native threads'}): ${fmt(t.median_ms)} ms/iter median, ${fmt(t.min_ms)} min [${series(t.rounds)}]`);
    }
    for (const [c, why] of peerSkipped) console.log(`  ${model} pytorch (${c} threads): skipped (${why})`);
    for (const r of peers.values()) {
      console.log(`  ${model} pytorch ${r.torch} (${r.threads} threads): ${fmt(r.median_ms)} ms/iter median, ${fmt(r.min_ms)} min [${series(r.rounds)}]`);
    }
    const best = [...ours.values()].sort((a, b) => a.median_ms - b.median_ms)[0];
    const peer = [...peers.values()].sort((a, b) => a.median_ms - b.median_ms)[0];
    const name = `compute-${model}`;
    if (best === undefined) {
      console.log(`RESULT ${name} ratio=NaN reason="no backend ran" model="${label}"`);
    } else if (peer === undefined) {
      console.log(`RESULT ${name} ratio=NaN ours_ms=${fmt(best.median_ms)} backend=${best.variant} reason="peer skipped" model="${label}"`);
    } else {
      const ratio = best.median_ms / peer.median_ms;
      const each = [...ours.values()].map((t) => `${t.variant}_ratio=${(t.median_ms / peer.median_ms).toFixed(2)}`).join(' ');
      console.log(`RESULT ${name} ratio=${ratio.toFixed(2)} ours_ms=${fmt(best.median_ms)} pytorch_ms=${fmt(peer.median_ms)} pytorch_threads=${peer.threads} backend=${best.variant} threads=${best.threads} ${each} rounds=${ROUNDS} model="${label}"`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--child') {
  const model = process.argv[3];
  if (model !== 'gan' && model !== 'resnet') throw new Error(`--child gan|resnet, got ${model}`);
  await child(model);
}
