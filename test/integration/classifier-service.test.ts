// ClassifierService over real gRPC on loopback, with the real storage service on a filesystem backend, both
// started by the service host as `serve all` does. A tiny 32 px phantom dataset is created and split through
// storage like `cxr-synth dataset phantom` / `split`; a small ResNet is trained on it for a few epochs.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status, type ServiceError as GrpcError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataset, createSyntheticSet, splitStoredDataset } from '../../cli/datasets.js';
import { storePhantomDataset } from '../../shared/data/phantom/index.js';
import { storageEvaluations } from '../../services/metrics/storage-client.js';
import { storageBlobStore } from '../../shared/clients/storage.js';
import { storageNetworks } from '../../services/metrics/features/provider.js';
import { startHost, type Host } from '../../services/host.js';
import { StorageClient } from '../../shared/clients/storage.js';
import { loadConfig } from '../../shared/config/index.js';
import { callUnary, createClient } from '../../shared/grpc/index.js';
import { encodeGrayPng } from '../../shared/images/codec.js';
import { createImage } from '../../shared/images/image.js';
import { createLogger } from '../../shared/log/logger.js';
import {
  ClassifierArchitecture, ClassifierServiceClient, type ClassifyRequest, type ClassifyResponse, type TrainClassifierRequest,
} from '../../shared/proto/cxrsynth/v1/classifier.js';
import { CollectionKind, Finding, JobState, Split, SyntheticMix, type JobEvent } from '../../shared/proto/cxrsynth/v1/common.js';
import { BlobNamespace, StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { tf } from '../../shared/tf/index.js';

const SIZE = 32;
const PER_CLASS = 80;
const DATASET = 'phantom-clf';

let dir: string;
let host: Host;
let storage: StorageClient;
let classifier: ClassifierServiceClient;

function trainRequest(over: Partial<TrainClassifierRequest> = {}): TrainClassifierRequest {
  return {
    modelId: '', architecture: ClassifierArchitecture.RESNET50, datasetId: DATASET, syntheticSetIds: [], syntheticPerClass: 0,
    mix: SyntheticMix.UNSPECIFIED, epochs: 8, batchSize: 16, learningRate: 3e-3, seed: 7, imageSize: SIZE, augment: false, fold: 0, dropout: 0,
    ...over,
  };
}

function collect(stream: AsyncIterable<JobEvent>): Promise<JobEvent[]> {
  return (async () => {
    const out: JobEvent[] = [];
    for await (const ev of stream) out.push(ev);
    return out;
  })();
}

async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as GrpcError;
    return { code: e.code, details: e.details };
  }
  throw new Error('expected the call to fail');
}

const train = (req: TrainClassifierRequest) => collect(classifier.train(req) as AsyncIterable<JobEvent>);
const classify = (req: Partial<ClassifyRequest>) =>
  callUnary(classifier, 'classify', { modelId: '', image: Buffer.alloc(0), contentType: '', requestId: '', ...req } as ClassifyRequest);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cxr-classifier-'));
  const config = loadConfig({ CXR_SYNTH_STORAGE_URL: `file://${dir}`, CXR_SYNTH_LOG_LEVEL: 'warn' });
  const logger = createLogger({}, { level: 'warn' });
  host = await startHost({ config, logger, names: ['storage', 'classifier'], ports: { storage: { grpc: 0, metrics: 0 }, classifier: { grpc: 0, metrics: 0 } } });
  storage = new StorageClient(createClient(StorageServiceClient, { addresses: [host.address('storage')!] }));
  classifier = createClient(ClassifierServiceClient, { addresses: [host.address('classifier')!] });
  const counts = { healthy: PER_CLASS, bacterial: PER_CLASS, viral: PER_CLASS, fungal: PER_CLASS, covid19: PER_CLASS };
  await createDataset(storage, DATASET, 'phantom', (sink) => storePhantomDataset(sink, { seed: 'classifier-it', counts, size: SIZE }));
  await splitStoredDataset(storage, DATASET, { val: 0.2, test: 0.2, seed: 1 });
  // A committed dataset without a split, for FAILED_PRECONDITION.
  await createDataset(storage, 'unsplit', 'phantom', (sink) => storePhantomDataset(sink, { seed: 'unsplit', counts: { healthy: 2, bacterial: 2, viral: 2, fungal: 2, covid19: 2 }, size: SIZE }));
  await createSyntheticSet(storage, 'synth-it', 'phantoms standing in for generated images', {
    modelKind: 'phantom', modelId: 'none', checkpointStep: 0, seed: 1, finding: Finding.UNSPECIFIED, backend: '', params: {},
  }, (sink) => storePhantomDataset(sink, { seed: 'synthetic-it', counts: { healthy: 4, bacterial: 4, viral: 4, fungal: 4, covid19: 4 }, size: SIZE }));
});

afterAll(async () => {
  storage?.raw.close();
  classifier?.close();
  await host?.close(0);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('classifier service', () => {
  const modelId = 'resnet-it';

  it('trains a model, streaming progress, and stores it where the metrics service loads it', async () => {
    const events = await train(trainRequest({ modelId }));
    const states = events.map((e) => e.state);
    expect(states[0]).toBe(JobState.QUEUED);
    expect(states).toContain(JobState.RUNNING);
    const last = events[events.length - 1]!;
    expect(last.state).toBe(JobState.SUCCEEDED);
    expect(last.resultId).toBe('resnet-it');
    expect(events.some((e) => e.phase === 'train' && e.scalars.loss! > 0 && e.totalSteps > 0)).toBe(true);
    const epochs = events.filter((e) => e.phase === 'validate');
    expect(epochs).toHaveLength(8);
    expect(new Set(events.map((e) => e.jobId)).size).toBe(1);
    expect(events[0]!.jobId).toMatch(/^train-resnet-it-/);

    const model = await callUnary(classifier, 'getModel', { modelId });
    expect(model.state).toBe(JobState.SUCCEEDED);
    expect(model.architecture).toBe(ClassifierArchitecture.RESNET50);
    expect(model.imageSize).toBe(SIZE);
    expect(model.bestEpoch).toBeGreaterThanOrEqual(1);
    const bestVal = Math.min(...epochs.map((e) => e.scalars.val_loss!));
    expect(model.bestValLoss).toBeCloseTo(bestVal, 5);
    expect(model.config?.dropout).toBe(0.5);

    // The exact files the metrics service's domain network reads: models/classifier/<id>/{model.json,weights.bin}.
    const json = JSON.parse(await readFile(join(dir, 'models', 'classifier', modelId, 'model.json'), 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
    expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
    const domain = await storageNetworks(storageBlobStore(storage)).get('domain', modelId);
    expect(domain.input.size).toBe(SIZE);
    expect(domain.dim).toBe(256);
    const feats = domain.forward(tf.zeros([2, SIZE, SIZE, 1]) as tf.Tensor4D);
    expect(feats.shape).toEqual([2, 256]);
    feats.dispose();
  });

  it('lists stored models, paged', async () => {
    const page = await callUnary(classifier, 'listModels', { pageSize: 10, pageToken: '' });
    expect(page.models.map((m) => m.modelId)).toContain(modelId);
    const bad = await codeOf(callUnary(classifier, 'listModels', { pageSize: 10, pageToken: 'nonsense' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  });

  it('evaluates on the test split above chance and stores the evaluation for ScoreClassification', async () => {
    const ev = await callUnary(classifier, 'evaluate', { modelId, selection: { collection: { kind: CollectionKind.DATASET, id: DATASET }, split: Split.TEST, findings: [] } });
    expect(ev.predictions.length).toBeGreaterThan(20);
    for (const p of ev.predictions) expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(ev.scores!.n).toBe(ev.predictions.length);
    // Five balanced classes: chance is 0.2.
    expect(ev.scores!.accuracy).toBeGreaterThan(0.3);
    expect(ev.scores!.perClass).toHaveLength(5);
    // What the metrics service reads for ScoreClassification(evaluation_ids).
    const stored = await storageEvaluations(storageBlobStore(storage)).predictions(ev.evaluationId);
    expect(stored).toEqual(ev.predictions);
    const json = await storage.getBlob({ namespace: BlobNamespace.EVALUATIONS, path: `${ev.evaluationId}.json` });
    expect(JSON.parse(json.bytes.toString('utf8')).modelId).toBe(modelId);
  });

  it('classifies PNG and DICOM bytes into five probabilities that sum to 1', async () => {
    const png = Buffer.from(encodeGrayPng(createImage(48, 40, 8, new Float32Array(48 * 40).fill(0.4))));
    const a = await classify({ image: png, requestId: 'r1' });
    expect(a.modelId).toBe(modelId); // empty model_id: the most recent model
    expect(a.requestId).toBe('r1');
    expect(a.probabilities.map((p) => p.finding)).toEqual([Finding.HEALTHY, Finding.BACTERIAL, Finding.VIRAL, Finding.FUNGAL, Finding.COVID19]);
    expect(a.probabilities.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 5);
    const top = a.probabilities.reduce((b, p) => (p.probability > b.probability ? p : b));
    expect(a.topFinding).toBe(top.finding);
    expect(a.backend).not.toBe('');

    const dicom = await readFile(new URL('../fixtures/dicom/mono1_cr.dcm', import.meta.url));
    const d = await classify({ image: dicom, contentType: 'application/dicom', modelId });
    expect(d.probabilities.reduce((s, p) => s + p.probability, 0)).toBeCloseTo(1, 5);
  });

  it('answers a ClassifyStream request by request, echoing request ids', async () => {
    const png = Buffer.from(encodeGrayPng(createImage(SIZE, SIZE, 8, new Float32Array(SIZE * SIZE).fill(0.6))));
    const call = classifier.classifyStream();
    const answers: ClassifyResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (r: ClassifyResponse) => answers.push(r));
      call.on('end', resolve);
      call.on('error', reject);
    });
    for (const id of ['a', 'b', 'c']) call.write({ modelId, image: png, contentType: '', requestId: id });
    call.end();
    await done;
    expect(answers.map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    expect(answers[0]!.probabilities).toEqual(answers[2]!.probabilities);
  });

  it('mixes synthetic images into the training split as asked', async () => {
    const loaded = async (over: Partial<TrainClassifierRequest>) => {
      const events = await train(trainRequest({ epochs: 1, syntheticSetIds: ['synth-it'], ...over }));
      expect(events[events.length - 1]!.state).toBe(JobState.SUCCEEDED);
      return events.find((e) => e.phase === 'loaded')!.scalars;
    };
    const add = await loaded({ modelId: 'mix-add', syntheticPerClass: 3, mix: SyntheticMix.ADD_PER_CLASS });
    expect(add.synthetic_images).toBe(15);
    const balance = await loaded({ modelId: 'mix-balance', syntheticPerClass: 2, mix: SyntheticMix.BALANCE_TO_MAJORITY });
    expect(balance.synthetic_images).toBeLessThanOrEqual(10); // a ceiling of 2 per class, 0 for the majority
    expect((await callUnary(classifier, 'getModel', { modelId: 'mix-add' })).syntheticSetIds).toEqual(['synth-it']);
  });

  it('refuses bad requests with actionable statuses', async () => {
    const cases: Array<[Partial<TrainClassifierRequest>, number, RegExp]> = [
      [{ architecture: ClassifierArchitecture.UNSPECIFIED }, status.INVALID_ARGUMENT, /architecture/],
      [{ architecture: 42 as ClassifierArchitecture }, status.INVALID_ARGUMENT, /RESNET50/],
      [{ epochs: 0 }, status.INVALID_ARGUMENT, /epochs/],
      [{ epochs: 100_000 }, status.INVALID_ARGUMENT, /epochs/],
      [{ imageSize: 8 }, status.INVALID_ARGUMENT, /image_size/],
      [{ imageSize: 512 }, status.INVALID_ARGUMENT, /image_size/],
      [{ datasetId: 'no-such-dataset' }, status.NOT_FOUND, /no-such-dataset/],
      [{ datasetId: 'unsplit' }, status.FAILED_PRECONDITION, /training split/],
      [{ modelId: 'resnet-it' }, status.ALREADY_EXISTS, /already exists/],
      [{ syntheticSetIds: ['s1'], syntheticPerClass: 0, mix: SyntheticMix.ADD_PER_CLASS }, status.INVALID_ARGUMENT, /synthetic_per_class/],
      [{ syntheticSetIds: ['no-such-set'], syntheticPerClass: 2 }, status.NOT_FOUND, /no-such-set/],
    ];
    for (const [over, code, pattern] of cases) {
      const got = await codeOf(train(trainRequest(over)));
      expect(got.code, JSON.stringify(over)).toBe(code);
      expect(got.details).toMatch(pattern);
    }
    expect((await codeOf(classify({ image: Buffer.from('not an image at all') }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await codeOf(classify({ image: Buffer.alloc(0) }))).code).toBe(status.INVALID_ARGUMENT);
    const png = Buffer.from(encodeGrayPng(createImage(8, 8)));
    expect((await codeOf(classify({ image: png, contentType: 'application/dicom' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await codeOf(classify({ image: png, modelId: 'missing-model' }))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(callUnary(classifier, 'getModel', { modelId: 'missing-model' }))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(callUnary(classifier, 'cancelJob', { jobId: 'no-such-job' }))).code).toBe(status.NOT_FOUND);
    expect((await codeOf(collect(classifier.watchJob({ jobId: 'no-such-job' }) as AsyncIterable<JobEvent>))).code).toBe(status.NOT_FOUND);
  });

  it('re-attaches with WatchJob (latest event first) and cancels with CancelJob', async () => {
    const call = classifier.train(trainRequest({ modelId: 'to-cancel', epochs: 50 }));
    // Read until training is under way, then drop the stream: the job goes on without its caller.
    let jobId = '';
    for await (const ev of call as AsyncIterable<JobEvent>) {
      jobId = ev.jobId;
      if (ev.phase === 'train') break;
    }
    call.cancel();
    // While it trains, its model id is taken.
    const dup = await codeOf(train(trainRequest({ modelId: 'to-cancel' })));
    expect(dup.code).toBe(status.ALREADY_EXISTS);
    const watch = classifier.watchJob({ jobId });
    const seen: JobEvent[] = [];
    let cancelled: JobEvent | undefined;
    for await (const ev of watch as AsyncIterable<JobEvent>) {
      seen.push(ev);
      if (seen.length === 1) {
        expect(ev.state).toBe(JobState.RUNNING); // the latest event, not the job's first
        cancelled = (await callUnary(classifier, 'cancelJob', { jobId })).status;
      }
    }
    expect(cancelled?.state).toBe(JobState.CANCELLED);
    expect(seen[seen.length - 1]!.state).toBe(JobState.CANCELLED);
    // A cancelled training leaves no model behind, and the job stays answerable.
    expect((await codeOf(callUnary(classifier, 'getModel', { modelId: 'to-cancel' }))).code).toBe(status.NOT_FOUND);
    const again = await collect(classifier.watchJob({ jobId }) as AsyncIterable<JobEvent>);
    expect(again.map((e) => e.state)).toEqual([JobState.CANCELLED]);
  });
});
