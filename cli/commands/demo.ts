// cxr-synth demo: the embedded end-to-end run. All four services start in this process on loopback
// over filesystem storage, and everything below goes through their gRPC contracts, as in a deployment:
//   1. the phantom dataset (the study's class counts) is stored and split by patient;
//   2. a classifier is trained on the training split and scored on the held-out test split;
//   3. its penultimate layer becomes the "domain" feature network, and three reference sets of known
//      quality (fresh draws, degraded draws, copies of training images) are measured against the real
//      training images: FID, KID, precision/recall, density/coverage, MS-SSIM diversity, memorization.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findingLabel } from '../../shared/clients/findings.js';
import { StorageClient } from '../../shared/clients/storage.js';
import { DEFAULT_PHANTOM_SEED, storePhantomDataset } from '../../shared/data/phantom/index.js';
import { callUnary } from '../../shared/grpc/index.js';
import { ClassifierArchitecture, ClassifierServiceClient, type Evaluation } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { CollectionKind, Split, type JobEvent } from '../../shared/proto/cxrsynth/v1/common.js';
import { MetricsServiceClient, type ImageQualityResponse, type ImageQualityResult } from '../../shared/proto/cxrsynth/v1/metrics.js';
import { StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { intOpt, parse, stringOpt } from '../args.js';
import type { Command } from '../command.js';
import { createDataset, everyN, splitStoredDataset } from '../datasets.js';
import { renderDataset, datasetView } from './dataset.js';
import { openMesh } from '../mesh.js';
import { table, type Output } from '../output.js';
import { createReferenceSet, REFERENCE_KINDS, type ReferenceKind } from '../demo/reference-sets.js';

const USAGE = `usage: cxr-synth demo [--size 64] [--epochs 8] [--per-class 40] [--seed 1] [--dir DIR] [--json]

Runs the whole embedded pipeline on the phantom dataset (1082 images, the study's class counts) in
this process. --dir keeps the storage directory (default: a new temporary one).`;

const fmt = (v: number | undefined, digits = 3) => (v === undefined ? '-' : v.toFixed(digits));

async function trainClassifier(classifier: ClassifierServiceClient, datasetId: string, o: { size: number; epochs: number; seed: number }, out: Output): Promise<string> {
  const modelId = `${datasetId}-domain`;
  const events = classifier.train({
    modelId, architecture: ClassifierArchitecture.RESNET50, datasetId, syntheticSetIds: [], syntheticPerClass: 0, mix: 0,
    epochs: o.epochs, batchSize: 16, learningRate: 3e-3, seed: o.seed, imageSize: o.size, augment: false, fold: 0, dropout: 0.5,
  });
  let last: JobEvent | undefined;
  for await (const e of events as AsyncIterable<JobEvent>) {
    last = e;
    if (e.message) out.progress(`  classifier ${e.step}/${e.totalSteps} ${e.message}`.trimEnd());
  }
  return last?.resultId || modelId;
}

async function measure(metrics: MetricsServiceClient, datasetId: string, setId: string, modelId: string, seed: number): Promise<ImageQualityResult> {
  const stream = metrics.imageQuality({
    real: { collection: { kind: CollectionKind.DATASET, id: datasetId }, split: Split.TRAIN, findings: [] },
    synthetic: { collection: { kind: CollectionKind.SYNTHETIC_SET, id: setId }, split: Split.UNSPECIFIED, findings: [] },
    metrics: [], featureNetwork: 'domain', featureModelId: modelId, kidSubsetSize: 0, kidSubsets: 0, seed,
    maxImages: 0, memorizationThreshold: 0, perClass: false,
  });
  for await (const msg of stream as AsyncIterable<ImageQualityResponse>) {
    if (msg.event?.$case === 'result') return msg.event.result;
  }
  throw new Error(`metrics sent no result for ${setId}`);
}

function renderEvaluation(e: Evaluation): string {
  const s = e.scores!;
  return [
    `classifier ${e.modelId} on the test split: accuracy ${fmt(s.accuracy)}, balanced accuracy ${fmt(s.balancedAccuracy)}, macro-F1 ${fmt(s.macroF1)}`,
    table(['finding', 'precision', 'recall', 'f1', 'support', 'auc'], s.perClass.map((c) => [findingLabel(c.finding), fmt(c.precision), fmt(c.recall), fmt(c.f1), c.support, fmt(c.rocAuc)])),
  ].join('\n');
}

function renderQuality(rows: { kind: ReferenceKind; result: ImageQualityResult }[]): string {
  const header = ['reference set', 'n', 'FID', 'KID', 'precision', 'recall', 'density', 'coverage', 'MS-SSIM', 'memorized'];
  const body = rows.map(({ kind, result }) => {
    const s = result.scores[0]!;
    return [kind, `${s.nSynthetic}/${s.nReal}`, fmt(s.fid, 2), `${fmt(s.kidMean, 4)}±${fmt(s.kidSd, 4)}`, fmt(s.precision), fmt(s.recall), fmt(s.density), fmt(s.coverage), fmt(s.msSsimMean), fmt(s.memorization?.shareBelowFeature)];
  });
  const net = rows[0]?.result;
  return [`image quality against the real training split (feature network: ${net?.featureNetwork}, ${net?.featureDim}-d, backend ${net?.backend})`, table(header, body)].join('\n');
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the embedded end-to-end demo on the phantom dataset',
  usage: USAGE,
  async run(argv, out) {
    const p = parse(argv, { size: { type: 'string' }, epochs: { type: 'string' }, 'per-class': { type: 'string' }, seed: { type: 'string' }, dir: { type: 'string' } });
    const size = intOpt(p, 'size', { min: 16, max: 256 }) ?? 64;
    const epochs = intOpt(p, 'epochs', { min: 1, max: 200 }) ?? 8;
    const perClass = intOpt(p, 'per-class', { min: 2, max: 1000 }) ?? 40;
    const seed = intOpt(p, 'seed', { min: 0, max: 2 ** 31 }) ?? 1;
    const dir = stringOpt(p, 'dir') ?? mkdtempSync(join(tmpdir(), 'cxr-synth-demo-'));
    const env: NodeJS.ProcessEnv = { ...process.env, CXR_SYNTH_STORAGE_URL: `file://${dir}` };
    for (const s of ['STORAGE', 'GENERATOR', 'CLASSIFIER', 'METRICS']) delete env[`CXR_SYNTH_${s}_ADDR`];

    const started = Date.now();
    const mesh = await openMesh(['storage', 'generator', 'classifier', 'metrics'], env);
    try {
      const storage = new StorageClient(mesh.connect('storage', StorageServiceClient));
      const classifier = mesh.connect('classifier', ClassifierServiceClient);
      const metrics = mesh.connect('metrics', MetricsServiceClient);
      const datasetId = 'phantom-demo';

      out.progress(`1/3 phantom dataset (${size} px) into ${dir}`);
      await createDataset(storage, datasetId, `phantom seed=${DEFAULT_PHANTOM_SEED} size=${size}`, (sink) =>
        storePhantomDataset(sink, { size, onProgress: everyN(200, (n) => out.progress(`  stored ${n} images`)) }),
      );
      const dataset = await splitStoredDataset(storage, datasetId, { val: 0.1, test: 0.2, seed });
      out.progress(renderDataset(dataset));

      out.progress(`2/3 classifier (${epochs} epochs) on the training split, scored on the test split`);
      const modelId = await trainClassifier(classifier, datasetId, { size, epochs, seed }, out);
      const evaluation = await callUnary(classifier, 'evaluate', {
        modelId, selection: { collection: { kind: CollectionKind.DATASET, id: datasetId }, split: Split.TEST, findings: [] },
      });
      out.progress(renderEvaluation(evaluation));

      out.progress(`3/3 image quality of three reference sets (${perClass} per class) with the classifier's features`);
      const quality: { kind: ReferenceKind; result: ImageQualityResult }[] = [];
      for (const kind of REFERENCE_KINDS) {
        const set = await createReferenceSet(storage, kind, { datasetId, perClass, size, seed });
        quality.push({ kind, result: await measure(metrics, datasetId, set.setId, modelId, seed) });
      }
      const seconds = (Date.now() - started) / 1000;
      out.result(
        { storage: dir, dataset: datasetView(dataset), evaluation, quality, seconds },
        () => [renderEvaluation(evaluation), '', renderQuality(quality), '', `demo finished in ${seconds.toFixed(0)} s; storage kept in ${dir}`].join('\n'),
      );
      return 0;
    } finally {
      await mesh.close();
    }
  },
};
