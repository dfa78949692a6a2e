// `npm run bench -- compute`: one DCGAN 64×64 batch-32 iteration (D on real + fake, then G) and one ResNet-ish
// 128×128 batch-16 step, built in shared/tf/reference-nets.ts exactly as ../shared/peer/bench_torch.py builds
// them, timed on every backend that starts here and side by side with PyTorch on the CPU in the same run.
// Each backend, and the peer, is a process of its own (one process, one tfjs backend) that does one iteration per
// request (bench/_lockstep.ts): they step in lockstep, round by round, so every round's times were taken under
// the same load. The ratio is the median over rounds of (ours / PyTorch) in that round.
// Prints ms/iteration per backend and `RESULT compute-gan ratio=…`, `RESULT compute-resnet ratio=…`
// (our best backend / PyTorch's best of our thread count and all cores; lower is better).
//
// Env: CXR_SYNTH_BENCH_ITERS (timed rounds, default 12), CXR_SYNTH_BENCH_WARMUP (untimed rounds first, default 3:
// the ResNet step still speeds up over its first iterations), CXR_SYNTH_TF_THREADS (wasm threads, default: the
// cores, at most 8), CXR_SYNTH_PEER_THREADS (default: all cores), CXR_SYNTH_BENCH_BACKENDS (comma list; default
// tensorflow,wasm; `cpu` only on request: it needs minutes per iteration), CXR_SYNTH_PEER_DIR (where
// bench_torch.py lives; default ../shared/peer).
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as tfTypes from '@tensorflow/tfjs';
import { serveSteps, startSubject, type Subject, type SubjectSpec } from './_lockstep.js';
import { peerSubject, peerUnavailable, type PeerInfo } from './_peer-torch.js';

type Model = 'gan' | 'resnet';
interface OursInfo {
  backend: string;
  variant: string;
  threads: number;
}

const WARMUP = Math.max(0, Number(process.env.CXR_SYNTH_BENCH_WARMUP ?? 3));
const ROUNDS = Math.max(1, Number(process.env.CXR_SYNTH_BENCH_ITERS ?? 12));
// Ours: the threads shared/tf uses (CXR_SYNTH_TF_THREADS, default: the cores, at most 8). The peer: every core, as a
// user would run it.
const threads = (): number => Number(process.env.CXR_SYNTH_TF_THREADS ?? Math.min(8, availableParallelism()));
const peerThreads = (): number => Number(process.env.CXR_SYNTH_PEER_THREADS ?? Math.min(8, availableParallelism()));
// A pause between two subjects' steps, so one's step never overlaps the tail of the previous one's (its output
// reaching us, a GC). Idle subjects were measured to use no CPU between their steps.
const SETTLE_MS = 20;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** In a subject process: builds `model` on the backend CXR_SYNTH_TF_BACKEND names and serves lockstep steps. */
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
  // Each step ends in dataSync() of its losses: the work is done when it returns.
  const ready: OursInfo = { backend: info.name, variant: info.variant, threads: info.threads };
  await serveSteps(ready, step, cleanup);
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

/** A subject and the times of its timed rounds. */
interface Series<Info> {
  subject: Subject<Info>;
  times: number[];
}

async function start<Info>(label: string, spec: SubjectSpec, skipped: string[]): Promise<Series<Info> | undefined> {
  try {
    return { subject: await startSubject<Info>(spec), times: [] };
  } catch (err) {
    skipped.push(`${label}: skipped (${(err as Error).message})`);
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** WARMUP + ROUNDS rounds; in each, every series steps once, in an order that alternates from round to round. */
async function lockstep(all: Series<unknown>[]): Promise<void> {
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const order = round % 2 === 0 ? all : [...all].reverse();
    for (const s of order) {
      const ms = await s.subject.step();
      if (round >= WARMUP) s.times.push(ms);
      await sleep(SETTLE_MS);
    }
  }
}

const summary = (s: Series<unknown>) => `${fmt(median(s.times))} ms/iter median, ${fmt(Math.min(...s.times))} min [${s.times.map(fmt).join(' ')}]`;

/** Median over rounds of ours / peer in the same round. */
const pairedRatio = (ours: Series<unknown>, peer: Series<unknown>) => median(ours.times.map((t, i) => t / peer.times[i]!));

export async function run(): Promise<void> {
  const backends = (process.env.CXR_SYNTH_BENCH_BACKENDS ?? 'tensorflow,wasm').split(',').map((b) => b.trim()).filter(Boolean);
  const n = threads();
  // PyTorch at our thread count AND at all cores; the faster is the reference a user would pick (on a loaded
  // machine, 2 OpenMP threads can be far slower than 1).
  const counts = [...new Set([n, peerThreads()])];
  console.log(
    `compute: ${ROUNDS} lockstep rounds after ${WARMUP} warm-up; ours ${n} thread(s), pytorch ${counts.join(' and ')}; backends ${backends.join(', ')}`,
  );
  const self = fileURLToPath(import.meta.url);
  const peerMissing = peerUnavailable();
  for (const [model, label] of [['gan', 'DCGAN 64x64 b32 D+G iteration'], ['resnet', 'ResNet-ish 128x128 b16 step']] as const) {
    const skipped: string[] = [];
    const ours: Series<OursInfo>[] = [];
    const peers: Series<PeerInfo>[] = [];
    for (const b of backends) {
      const spec = {
        command: process.execPath,
        args: ['--import', 'tsx', self, '--child', model],
        env: { ...process.env, CXR_SYNTH_TF_BACKEND: b, CXR_SYNTH_LOG_LEVEL: 'warn' },
        startTimeoutMs: 600_000,
      };
      const s = await start<OursInfo>(b, spec, skipped);
      if (s) ours.push(s);
    }
    if (peerMissing !== null) skipped.push(`pytorch: skipped (${peerMissing})`);
    else {
      for (const c of counts) {
        const s = await start<PeerInfo>(`pytorch (${c} threads)`, peerSubject(model, c), skipped);
        if (s) peers.push(s);
      }
    }
    try {
      await lockstep([...ours, ...peers] as Series<unknown>[]);
    } finally {
      await Promise.all([...ours, ...peers].map((s) => s.subject.close()));
    }
    for (const line of skipped) console.log(`  ${model} ${line}`);
    for (const s of ours) {
      const { variant, threads: t } = s.subject.info;
      console.log(`  ${model} ${variant} (${t > 0 ? `${t} threads` : 'native threads'}): ${summary(s)}`);
    }
    for (const s of peers) console.log(`  ${model} pytorch ${s.subject.info.torch} (${s.subject.info.threads} threads): ${summary(s)}`);
    const best = [...ours].sort((a, b) => median(a.times) - median(b.times))[0];
    const peer = [...peers].sort((a, b) => median(a.times) - median(b.times))[0];
    const name = `compute-${model}`;
    if (best === undefined) {
      console.log(`RESULT ${name} ratio=NaN reason="no backend ran" model="${label}"`);
    } else if (peer === undefined) {
      console.log(`RESULT ${name} ratio=NaN ours_ms=${fmt(median(best.times))} backend=${best.subject.info.variant} reason="peer skipped" model="${label}"`);
    } else {
      const each = ours.map((s) => `${s.subject.info.variant}_ratio=${pairedRatio(s, peer).toFixed(2)}`).join(' ');
      console.log(
        `RESULT ${name} ratio=${pairedRatio(best, peer).toFixed(2)} ratio_of_medians=${(median(best.times) / median(peer.times)).toFixed(2)} ` +
          `ours_ms=${fmt(median(best.times))} pytorch_ms=${fmt(median(peer.times))} ` +
          `pytorch_threads=${peer.subject.info.threads} backend=${best.subject.info.variant} threads=${best.subject.info.threads} ${each} rounds=${ROUNDS} model="${label}"`,
      );
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--child') {
  const model = process.argv[3];
  if (model !== 'gan' && model !== 'resnet') throw new Error(`--child gan|resnet, got ${model}`);
  await child(model);
}
