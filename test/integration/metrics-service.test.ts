// MetricsService over real gRPC on loopback, backed by a real StorageService (filesystem backend) on
// loopback too: phantom images uploaded as a dataset and as synthetic sets, a small domain classifier
// trained here on the real images and stored as a model blob, and the feature cache in storage's
// FEATURES namespace — every byte the metrics service reads goes through storage's RPCs.
import { status, type ServiceError as GrpcError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planPhantomDataset, renderPhantomRecord } from '../../shared/data/phantom/index.js';
import { StorageClient } from '../../shared/clients/storage.js';
import { callUnary, createClient, startServer, type RunningServer } from '../../shared/grpc/index.js';
import { encodeGrayPng } from '../../shared/images/codec.js';
import { createImage, type GrayImage } from '../../shared/images/image.js';
import { CollectionKind, Finding, Split, type ImageSelection, type Prediction } from '../../shared/proto/cxrsynth/v1/common.js';
import {
  MetricsServiceClient,
  MetricsServiceService,
  QualityMetric,
  type ImageQualityRequest,
  type ImageQualityResponse,
  type ImageQualityResult,
} from '../../shared/proto/cxrsynth/v1/metrics.js';
import { blobIOHandler } from '../../shared/tf/index.js';
import { FeatureCache } from '../../services/metrics/features/feature-cache.js';
import { storageNetworks } from '../../services/metrics/features/provider.js';
import { tf } from '../../services/metrics/features/tf.js';
import { backendName, initTf } from '../../shared/tf/index.js';
import { createMetricsService, METRICS_POLICY } from '../../services/metrics/service.js';
import type { EvaluationSource } from '../../services/metrics/sources.js';
import { storageImageSource } from '../../services/metrics/storage-client.js';
import { storageBlobStore } from '../../shared/clients/storage.js';
import { startStorage, type StorageHarness } from '../support/minio-storage.js';

const SIZE = 32;
const FINDING_OF: Record<string, Finding> = { healthy: Finding.HEALTHY, bacterial: Finding.BACTERIAL, viral: Finding.VIRAL, fungal: Finding.FUNGAL, covid19: Finding.COVID19 };

function phantoms(seed: string, perClass: number): Array<{ image: GrayImage; finding: Finding }> {
  const recs = planPhantomDataset({ seed, counts: { healthy: perClass, bacterial: perClass, viral: perClass, fungal: perClass, covid19: perClass } });
  return recs.map((r) => ({ image: renderPhantomRecord(r, SIZE), finding: FINDING_OF[r.finding]! }));
}

/** the same anatomy moved 6 px down and 0.2 brighter: a plainly different distribution */
function shifted(img: GrayImage): GrayImage {
  const out = new Float32Array(img.data.length);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) out[y * SIZE + x] = Math.min(1, (y >= 6 ? img.data[(y - 6) * SIZE + x]! : 0) + 0.2);
  return createImage(SIZE, SIZE, 8, out);
}

const dataset = (id: string): ImageSelection => ({ collection: { kind: CollectionKind.DATASET, id }, split: Split.UNSPECIFIED, findings: [] });
const synthetic = (id: string): ImageSelection => ({ collection: { kind: CollectionKind.SYNTHETIC_SET, id }, split: Split.UNSPECIFIED, findings: [] });

function request(over: Partial<ImageQualityRequest>): ImageQualityRequest {
  return {
    real: dataset('phantom'),
    synthetic: synthetic('same'),
    metrics: [],
    featureNetwork: 'domain',
    featureModelId: 'phantom-cls/1',
    kidSubsetSize: 0,
    kidSubsets: 20,
    seed: 7,
    maxImages: 0,
    memorizationThreshold: 0,
    perClass: false,
    ...over,
  };
}

let storage: StorageHarness;
let server: RunningServer;
let client: MetricsServiceClient;

async function upload(store: StorageClient, kind: CollectionKind, id: string, images: Array<{ image: GrayImage; finding: Finding }>): Promise<void> {
  const uploads = images.map(({ image, finding }, i) => ({ header: { finding, patientId: `p${i}`, split: Split.UNSPECIFIED, view: 'PA' }, png: encodeGrayPng(image) }));
  if (kind === CollectionKind.DATASET) await callUnary(store.raw, 'createDataset', { datasetId: id, description: '', source: 'phantom' });
  else await callUnary(store.raw, 'createSyntheticSet', { setId: id, description: '', provenance: { modelKind: 'phantom', modelId: id, checkpointStep: 1, seed: 1, finding: Finding.UNSPECIFIED, backend: 'cpu', params: {} } });
  await store.putImages({ kind, id }, uploads);
  if (kind === CollectionKind.DATASET) await callUnary(store.raw, 'commitDataset', { datasetId: id });
  else await callUnary(store.raw, 'commitSyntheticSet', { setId: id });
}
const evaluations = new Map<string, Prediction[]>();

async function imageQuality(req: ImageQualityRequest): Promise<{ events: ImageQualityResponse[]; result: ImageQualityResult }> {
  const events: ImageQualityResponse[] = [];
  for await (const e of client.imageQuality(req) as AsyncIterable<ImageQualityResponse>) events.push(e);
  const last = events.at(-1)?.event;
  if (last?.$case !== 'result') throw new Error('stream ended without a result');
  return { events, result: last.result };
}

async function failure(req: ImageQualityRequest): Promise<GrpcError> {
  try {
    await imageQuality(req);
  } catch (err) {
    return err as GrpcError;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  storage = await startStorage({ backend: 'fs', probeIntervalMs: 500 });
  const store = new StorageClient(storage.client);
  const blobs = storageBlobStore(store);

  const real = phantoms('metrics-real', 8);
  const heldOut = phantoms('metrics-heldout', 8);
  await upload(store, CollectionKind.DATASET, 'phantom', real);
  await upload(store, CollectionKind.SYNTHETIC_SET, 'same', heldOut);
  await upload(store, CollectionKind.SYNTHETIC_SET, 'shifted', heldOut.map((p) => ({ image: shifted(p.image), finding: p.finding })));
  await upload(store, CollectionKind.SYNTHETIC_SET, 'copies', real.slice(0, 12));
  await upload(store, CollectionKind.SYNTHETIC_SET, 'single', heldOut.slice(0, 1));

  // the domain network: a small CNN trained for a few epochs on the real training images
  await initTf();
  const input = tf.input({ shape: [SIZE, SIZE, 1] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const pen = tf.layers.dense({ name: 'penultimate', units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(pen) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.stack(real.map((r) => tf.tensor3d(r.image.data, [SIZE, SIZE, 1])));
  const ys = tf.tensor1d(real.map((r) => r.finding - 1), 'float32');
  await model.fit(xs, ys, { epochs: 4, batchSize: 8, shuffle: false, verbose: 0 });
  xs.dispose();
  ys.dispose();
  await model.save(blobIOHandler(blobs, 'models/classifier/phantom-cls/1'));
  model.dispose();

  const source: EvaluationSource = { predictions: async (id) => evaluations.get(id) };
  server = await startServer({
    services: [{ definition: MetricsServiceService, implementation: createMetricsService({ images: storageImageSource(store), networks: storageNetworks(blobs), cache: new FeatureCache(blobs), evaluations: source }), policy: METRICS_POLICY }],
    port: 0,
  });
  client = createClient(MetricsServiceClient, { addresses: [`127.0.0.1:${server.port}`], deadlineMs: 120_000, retry: { maxAttempts: 1, initialBackoffMs: 50, maxBackoffMs: 50 } });
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(1000);
  await storage?.close();
});

describe('ImageQuality over gRPC', () => {
  it('ranks held-out phantoms above a shifted copy, streams progress, names the network and caches real features', async () => {
    const same = await imageQuality(request({ synthetic: synthetic('same') }));
    const moved = await imageQuality(request({ synthetic: synthetic('shifted') }));
    expect(same.result.featureNetwork).toBe('domain');
    expect(same.result.featureDim).toBe(16);
    expect(same.result.backend).toBe(backendName());
    const a = same.result.scores[0]!;
    const b = moved.result.scores[0]!;
    expect(a).toMatchObject({ finding: Finding.UNSPECIFIED, nReal: 40, nSynthetic: 40, msSsimPairs: 780 });
    expect(a.fid!).toBeLessThan(b.fid!);
    expect(a.kidMean!).toBeLessThan(b.kidMean!);
    expect(a.precision!).toBeGreaterThan(b.precision!);
    expect(a.coverage!).toBeGreaterThan(b.coverage!);
    expect(a.kidSd!).toBeGreaterThan(0); // default subsets are half the set, so they differ
    expect(a.msSsimMean!).toBeGreaterThan(0);
    expect(a.msSsimMean!).toBeLessThan(1);

    const phases = same.events.filter((e) => e.event?.$case === 'progress').map((e) => (e.event as { progress: { phase: string } }).progress.phase);
    expect(phases).toContain('listing');
    expect(phases).toContain('features:synthetic');
    const cacheHit = (r: typeof same) =>
      r.events.flatMap((e) => (e.event?.$case === 'progress' && e.event.progress.phase === 'features:real' && 'cache_hit' in e.event.progress.scalars ? [e.event.progress.scalars.cache_hit] : []));
    expect(cacheHit(same)).toEqual([0]);
    expect(cacheHit(moved)).toEqual([1]);
  });

  it('scores per class and flags copies of training images as memorized', async () => {
    const { result } = await imageQuality(request({ synthetic: synthetic('copies'), perClass: true, metrics: [QualityMetric.MEMORIZATION, QualityMetric.FID] }));
    const overall = result.scores[0]!;
    expect(overall.memorization!.shareBelowFeature).toBe(1);
    expect(overall.memorization!.shareBelowPixel).toBe(1);
    const pair = overall.memorization!.closest[0]!;
    expect(pair.featureDistance).toBe(0);
    expect(pair.pixelDistance).toBe(0);
    expect(pair.syntheticSha256).toBe(pair.realSha256);
    expect(overall.kidMean).toBeUndefined();
    // per class: every finding of the synthetic set appears; a class with a single synthetic image
    // reports its n and no metric values rather than failing the whole request
    const perClass = result.scores.slice(1);
    expect(perClass.length).toBeGreaterThan(1);
    for (const s of perClass) {
      expect(s.finding).not.toBe(Finding.UNSPECIFIED);
      if (s.nSynthetic < 2) expect(s.fid).toBeUndefined();
      else expect(s.fid).toBeGreaterThanOrEqual(0);
    }
    expect(perClass.some((s) => s.nSynthetic < 2)).toBe(true);
  });

  it('answers bad requests with INVALID_ARGUMENT or FAILED_PRECONDITION and a message', async () => {
    const tooFew = await failure(request({ synthetic: synthetic('single') }));
    expect(tooFew.code).toBe(status.INVALID_ARGUMENT);
    expect(tooFew.details).toMatch(/at least 2 images per side.*1 synthetic/);
    const unknown = await failure(request({ featureNetwork: 'clip' }));
    expect(unknown.code).toBe(status.INVALID_ARGUMENT);
    expect(unknown.details).toMatch(/unknown feature network "clip"/);
    const noWeights = await failure(request({ featureNetwork: 'inception-v3' }));
    expect(noWeights.code).toBe(status.FAILED_PRECONDITION);
    expect(noWeights.details).toMatch(/inception-v3 needs the FID Inception weights/);
    const bigSubset = await failure(request({ kidSubsetSize: 41 }));
    expect(bigSubset.code).toBe(status.INVALID_ARGUMENT);
    expect(bigSubset.details).toMatch(/kid_subset_size 41 exceeds.*40/);
    const noModel = await failure(request({ featureModelId: '' }));
    expect(noModel.code).toBe(status.FAILED_PRECONDITION);
    expect(noModel.details).toMatch(/needs feature_model_id/);
    const noCollection = await failure(request({ real: undefined }));
    expect(noCollection.code).toBe(status.INVALID_ARGUMENT);
  });

  it('falls back to the domain network when none is named and no Inception weights are installed', async () => {
    const { result } = await imageQuality(request({ featureNetwork: '', metrics: [QualityMetric.FID] }));
    expect(result.featureNetwork).toBe('domain');
    expect(result.scores[0]!.fid).toBeGreaterThanOrEqual(0);
  });
});

describe('ScoreClassification over gRPC', () => {
  const probs = (c: number) => [0, 1, 2, 3, 4].map((i) => (i === c ? 0.6 : 0.1));
  const preds = (pairs: Array<[number, number]>): Prediction[] => pairs.map(([label, guess], i) => ({ sha256: `s${i}`, label: label + 1, probabilities: probs(guess) }));
  const call = (req: Parameters<MetricsServiceClient['scoreClassification']>[0]) =>
    new Promise<Awaited<ReturnType<typeof import('../../services/metrics/score.js').scoreRequest>>>((resolve, reject) =>
      client.scoreClassification(req, (err, res) => (err ? reject(err) : resolve(res))),
    );

  it('scores predictions: accuracy, balanced accuracy, per-class F1, confusion', async () => {
    const r = await call({ predictions: preds([[0, 0], [0, 0], [0, 1], [1, 1], [2, 2], [2, 0]]), evaluationIds: [], baselineEvaluationIds: [] });
    expect(r.n).toBe(6);
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    expect(r.balancedAccuracy).toBeCloseTo((2 / 3 + 1 + 0.5) / 3, 12);
    expect(r.confusion!.counts.slice(0, 5)).toEqual([2, 1, 0, 0, 0]);
    expect(r.perClass[0]).toMatchObject({ finding: Finding.HEALTHY, support: 3 });
    expect(r.perClass[3]!.rocAuc).toBeUndefined(); // fungal: no positives
  });

  it('aggregates repetitions and compares with a baseline (Welch CI, p-value)', async () => {
    const good = (k: number) => preds([[0, 0], [1, 1], [2, 2], [3, 3], [4, k % 2 === 0 ? 4 : 0], [0, 0]]);
    const bad = (k: number) => preds([[0, 0], [1, 0], [2, 0], [3, 3], [4, k % 2 === 0 ? 4 : 0], [0, 1]]);
    for (let k = 0; k < 4; k++) {
      evaluations.set(`aug-${k}`, good(k));
      evaluations.set(`base-${k}`, bad(k));
    }
    const r = await call({ predictions: [], evaluationIds: ['aug-0', 'aug-1', 'aug-2', 'aug-3'], baselineEvaluationIds: ['base-0', 'base-1', 'base-2', 'base-3'] });
    const acc = r.aggregates.find((a) => a.metric === 'accuracy')!;
    expect(acc.n).toBe(4);
    expect(acc.mean).toBeCloseTo((6 / 6 + 5 / 6) / 2, 12);
    const delta = r.comparisons.find((c) => c.metric === 'accuracy')!;
    expect(delta.delta).toBeCloseTo((1 + 5 / 6) / 2 - (3 / 6 + 2 / 6) / 2, 12);
    expect(delta.test).toBe('welch-t');
    expect(delta.ciLow).toBeLessThan(delta.delta);
    expect(delta.pValue).toBeLessThan(0.01);
  });

  it('rejects malformed requests', async () => {
    await expect(call({ predictions: [], evaluationIds: [], baselineEvaluationIds: [] })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(call({ predictions: [{ sha256: 'x', label: 0, probabilities: probs(0) }], evaluationIds: [], baselineEvaluationIds: [] })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/label 0/),
    });
    await expect(call({ predictions: [], evaluationIds: ['nope'], baselineEvaluationIds: [] })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });
});
