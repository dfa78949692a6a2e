// ClassifierService handlers: Train (a queued background job whose events the call streams; the job goes
// on if the caller goes away and can be watched again with WatchJob), Evaluate (predictions on a selection,
// scored and stored for the metrics service), Classify / ClassifyStream (image bytes → probabilities),
// GetModel / ListModels (from stored manifests), WatchJob and CancelJob. Trainings run one at a time: the
// machine's cores are better used by one job than shared by several.
import { randomBytes, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { StorageClient } from '../../shared/clients/storage.js';
import type { Config } from '../../shared/config/index.js';
import { decodeImageFile, sniffFormat } from '../../shared/data/importers/decode.js';
import {
  bidiStream, callUnary, failedPrecondition, invalidArgument, isGrpcStatusError, notFound, alreadyExists, serverStream, ServiceError, unary,
} from '../../shared/grpc/index.js';
import { InvalidImageInputError } from '../../shared/images/errors.js';
import type { Logger } from '../../shared/log/logger.js';
import { counter } from '../../shared/prom/index.js';
import {
  ClassifierArchitecture, type ClassifierModel, type ClassifierServiceServer, type ClassifyRequest, type ClassifyResponse,
  type Evaluation, type EvaluateRequest, type ListClassifierModelsResponse, type TrainClassifierRequest,
} from '../../shared/proto/cxrsynth/v1/classifier.js';
import { CollectionKind, Finding, JobState, Split, SyntheticMix, type JobEvent, type ListModelsRequest } from '../../shared/proto/cxrsynth/v1/common.js';
import { backendName, tf } from '../../shared/tf/index.js';
import { scoreRequest } from '../metrics/score.js';
import { JobRegistry } from '../jobs.js';
import { checkDatasetForTraining, classIndex, loadSamples, loadTrainingData, toInput } from './data.js';
import { CLASS_FINDINGS, FAMILIES, familyOf, MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, type Family } from './models/index.js';
import { ClassifierStore, ID_PATTERN } from './store.js';
import { predictProbabilities, trainModel } from './train.js';

export const MAX_EPOCHS = 1000;
export const MAX_BATCH = 512;
export const DEFAULTS = { batchSize: 8, learningRate: 1e-4, imageSize: 64, dropout: 0.5 } as const;
const CONTENT_TYPES: Record<string, 'png' | 'jpeg' | 'dicom'> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'application/dicom': 'dicom' };
const MODEL_CACHE = 4;
const DEFAULT_MODEL_TTL_MS = 10_000;

export interface ClassifierServiceOptions {
  storage: StorageClient;
  config: Readonly<Config>;
  logger: Logger;
  registry: Registry;
}

interface Plan {
  jobId: string;
  family: Family;
  request: TrainClassifierRequest; // defaults filled in: what the manifest records as config
}

const architectureNames = FAMILIES.map((f) => ClassifierArchitecture[f.architecture]).join(', ');

/** Fills defaults and refuses what cannot train, with the field named. */
export function normalizeTrainRequest(req: TrainClassifierRequest): { family: Family; request: TrainClassifierRequest } {
  const family = familyOf(req.architecture);
  if (family === undefined) throw invalidArgument(`architecture ${req.architecture} is not a classifier family; use one of ${architectureNames}`, { field: 'architecture' });
  if (req.datasetId.trim() === '') throw invalidArgument('dataset_id is required: the dataset whose training split to learn', { field: 'dataset_id' });
  if (req.modelId !== '' && !ID_PATTERN.test(req.modelId)) {
    throw invalidArgument(`model_id "${req.modelId}" is invalid: 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit (or empty to get one assigned)`, { field: 'model_id' });
  }
  if (!Number.isInteger(req.epochs) || req.epochs < 1 || req.epochs > MAX_EPOCHS) {
    throw invalidArgument(`epochs must be 1 to ${MAX_EPOCHS}, got ${req.epochs} (the study trained 35)`, { field: 'epochs' });
  }
  const batchSize = req.batchSize === 0 ? DEFAULTS.batchSize : req.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw invalidArgument(`batch_size must be 1 to ${MAX_BATCH} (0: ${DEFAULTS.batchSize}), got ${req.batchSize}`, { field: 'batch_size' });
  const learningRate = req.learningRate === 0 ? DEFAULTS.learningRate : req.learningRate;
  if (!(learningRate > 0 && learningRate <= 1)) throw invalidArgument(`learning_rate must be in (0, 1] (0: ${DEFAULTS.learningRate}), got ${req.learningRate}`, { field: 'learning_rate' });
  const imageSize = req.imageSize === 0 ? DEFAULTS.imageSize : req.imageSize;
  if (!Number.isInteger(imageSize) || imageSize < MIN_IMAGE_SIZE || imageSize > MAX_IMAGE_SIZE) {
    throw invalidArgument(`image_size must be ${MIN_IMAGE_SIZE} to ${MAX_IMAGE_SIZE} px (0: ${DEFAULTS.imageSize}), got ${req.imageSize}`, { field: 'image_size' });
  }
  const dropout = req.dropout === 0 ? DEFAULTS.dropout : req.dropout;
  if (!(dropout > 0 && dropout < 1)) throw invalidArgument(`dropout must be in (0, 1) (0: the study's ${DEFAULTS.dropout}), got ${req.dropout}`, { field: 'dropout' });
  if (!Number.isSafeInteger(req.seed)) throw invalidArgument('seed must be an integer', { field: 'seed' });
  if (!Number.isInteger(req.fold) || req.fold < 0 || req.fold > 100) throw invalidArgument(`fold must be 0 (use the validation split) or a 1-based fold, got ${req.fold}`, { field: 'fold' });
  const ids = req.syntheticSetIds;
  if (ids.some((id) => id.trim() === '')) throw invalidArgument('synthetic_set_ids must not contain empty ids', { field: 'synthetic_set_ids' });
  if (new Set(ids).size !== ids.length) throw invalidArgument('synthetic_set_ids lists a set twice', { field: 'synthetic_set_ids' });
  if (req.mix === SyntheticMix.UNRECOGNIZED || !(req.mix in SyntheticMix)) throw invalidArgument(`mix ${req.mix} is unknown; use ADD_PER_CLASS or BALANCE_TO_MAJORITY`, { field: 'mix' });
  const mix = ids.length > 0 && req.mix === SyntheticMix.UNSPECIFIED ? SyntheticMix.ADD_PER_CLASS : req.mix;
  if (ids.length > 0 && mix === SyntheticMix.ADD_PER_CLASS && req.syntheticPerClass === 0) {
    throw invalidArgument('synthetic_per_class must be > 0 to add synthetic images per class (the study: 100 to 1000)', { field: 'synthetic_per_class' });
  }
  if (ids.length === 0 && req.syntheticPerClass > 0) throw invalidArgument('synthetic_per_class is set but synthetic_set_ids is empty', { field: 'synthetic_set_ids' });
  return { family, request: { ...req, batchSize, learningRate, imageSize, dropout, mix } };
}

function describeError(err: unknown): string {
  if (err instanceof ServiceError) return err.message;
  if (isGrpcStatusError(err)) return `storage: ${err.details}`;
  return 'training failed (details in the classifier service log)';
}

export class ClassifierCore {
  readonly jobs = new JobRegistry<JobEvent>();
  private readonly store: ClassifierStore;
  private readonly training = new Map<string, ClassifierModel>();
  private readonly models = new Map<string, Promise<{ model: tf.LayersModel; manifest: ClassifierModel }>>();
  private queue: Promise<void> = Promise.resolve();
  private defaultModel: { id: string; at: number } | null = null;
  private readonly salt = randomBytes(16).toString('hex'); // classification never keeps patient pseudonyms
  private readonly steps;
  private readonly samples;
  private readonly classifications;

  constructor(private readonly o: ClassifierServiceOptions) {
    this.store = new ClassifierStore(o.storage);
    this.steps = counter(o.registry, 'cxr_synth_training_steps_total', 'Optimizer steps taken by training jobs', ['model_kind', 'backend'] as const);
    this.samples = counter(o.registry, 'cxr_synth_training_samples_total', 'Training images processed (counted per step)', ['model_kind', 'backend'] as const);
    this.classifications = counter(o.registry, 'cxr_synth_classifications_total', 'Images classified by Classify and ClassifyStream', ['backend'] as const);
  }

  private event(jobId: string, state: JobState, phase: string, extra: Partial<JobEvent> = {}): JobEvent {
    return { jobId, state, phase, step: 0, totalSteps: 0, scalars: {}, message: '', timeUnixMs: Date.now(), resultId: '', backend: backendName(), ...extra };
  }

  /**
   * Validates, checks the dataset and the id, registers the job and queues the run. Returns the job id and its
   * events, subscribed before the run is queued so that the stream starts with QUEUED.
   */
  async startTraining(req: TrainClassifierRequest, signal?: AbortSignal): Promise<{ jobId: string; events: AsyncIterable<JobEvent> }> {
    const { family, request } = normalizeTrainRequest(req);
    const dataset = await this.o.storage.getDataset(request.datasetId).catch((err: unknown) => {
      if (isGrpcStatusError(err) && err.code === status.NOT_FOUND) throw notFound(`dataset "${request.datasetId}" does not exist (or is not committed)`, { field: 'dataset_id' });
      throw err;
    });
    checkDatasetForTraining(dataset, request.fold);
    for (const setId of request.syntheticSetIds) {
      await callUnary(this.o.storage.raw, 'getSyntheticSet', { setId }).catch((err: unknown) => {
        if (isGrpcStatusError(err) && err.code === status.NOT_FOUND) throw notFound(`synthetic set "${setId}" does not exist (or is not committed)`, { field: 'synthetic_set_ids' });
        throw err;
      });
    }
    const modelId = request.modelId || `${family.kind}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}-${randomUUID().slice(0, 8)}`;
    if (this.training.has(modelId) || (await this.store.getManifest(modelId)) !== undefined) {
      throw alreadyExists(`model "${modelId}" already exists; choose another model_id or leave it empty`, { field: 'model_id' });
    }
    const plan: Plan = { jobId: `train-${modelId}-${randomUUID().slice(0, 8)}`, family, request: { ...request, modelId } };
    // Checked again after the awaits above: two concurrent Trains with one model_id must not both start.
    if (this.training.has(modelId)) {
      throw alreadyExists(`model "${modelId}" is already being trained; choose another model_id`, { field: 'model_id' });
    }
    const jobSignal = this.jobs.create(this.event(plan.jobId, JobState.QUEUED, 'queued', { resultId: modelId }));
    this.training.set(modelId, this.manifest(plan, JobState.QUEUED, 0, 0));
    const events = this.jobs.subscribe(plan.jobId, signal)!;
    this.queue = this.queue.then(() => this.run(plan, jobSignal));
    return { jobId: plan.jobId, events };
  }

  private manifest(plan: Plan, state: JobState, bestEpoch: number, bestValLoss: number): ClassifierModel {
    const r = plan.request;
    return {
      modelId: r.modelId, architecture: r.architecture, datasetId: r.datasetId, syntheticSetIds: [...r.syntheticSetIds], imageSize: r.imageSize,
      bestEpoch, bestValLoss, backend: backendName(), state, config: r, createdUnixMs: Date.now(),
    };
  }

  private async run(plan: Plan, signal: AbortSignal): Promise<void> {
    const r = plan.request;
    const modelId = r.modelId;
    const log = this.o.logger.child({ job_id: plan.jobId, model_id: modelId });
    if (signal.aborted) {
      this.training.delete(modelId);
      return;
    }
    let model: tf.LayersModel | undefined;
    const labels = { model_kind: plan.family.kind, backend: backendName() };
    try {
      this.training.set(modelId, this.manifest(plan, JobState.RUNNING, 0, 0));
      this.jobs.publish(this.event(plan.jobId, JobState.RUNNING, 'load', { resultId: modelId, message: 'reading training and validation images' }));
      const data = await loadTrainingData(this.o.storage, r, signal);
      log.info('training data loaded', { train: data.train.length, val: data.val.length, real: data.counts.real, synthetic: data.counts.synthetic });
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      this.jobs.publish(this.event(plan.jobId, JobState.RUNNING, 'loaded', {
        resultId: modelId,
        scalars: { real_images: sum(data.counts.real), synthetic_images: sum(data.counts.synthetic), validation_images: data.val.length },
        message: `${sum(data.counts.real)} real + ${sum(data.counts.synthetic)} synthetic training images, ${data.val.length} validation images`,
      }));
      model = plan.family.build({ imageSize: r.imageSize, dropout: r.dropout, seed: r.seed });
      let lastSent = 0;
      const result = await trainModel(model, data.train, data.val, r, {
        onStep: (p) => {
          this.steps.inc(labels);
          this.samples.inc(labels, p.samples);
          const now = Date.now();
          if (now - lastSent < 200 && p.step !== p.totalSteps) return; // progress, not a firehose
          lastSent = now;
          this.jobs.publish(this.event(plan.jobId, JobState.RUNNING, 'train', {
            step: p.step, totalSteps: p.totalSteps, resultId: modelId, scalars: { loss: p.loss, learning_rate: p.learningRate, epoch: p.epoch },
          }));
        },
        onEpoch: (e, improved) => {
          this.jobs.publish(this.event(plan.jobId, JobState.RUNNING, 'validate', {
            step: e.epoch * Math.ceil(data.train.length / r.batchSize), totalSteps: r.epochs * Math.ceil(data.train.length / r.batchSize), resultId: modelId,
            scalars: { epoch: e.epoch, train_loss: e.trainLoss, val_loss: e.valLoss, val_accuracy: e.valAccuracy },
            message: improved ? `epoch ${e.epoch}: best validation loss so far` : `epoch ${e.epoch}`,
          }));
        },
      }, signal);
      signal.throwIfAborted();
      this.jobs.publish(this.event(plan.jobId, JobState.RUNNING, 'save', { resultId: modelId, message: `saving the epoch-${result.bestEpoch} checkpoint` }));
      const manifest = this.manifest(plan, JobState.SUCCEEDED, result.bestEpoch, result.bestValLoss);
      await this.store.saveModel(model, manifest, result.history);
      this.defaultModel = { id: modelId, at: Date.now() };
      this.jobs.publish(this.event(plan.jobId, JobState.SUCCEEDED, 'done', {
        resultId: modelId, scalars: { best_epoch: result.bestEpoch, best_val_loss: result.bestValLoss },
        message: `model ${modelId} stored (best epoch ${result.bestEpoch}, validation loss ${result.bestValLoss.toFixed(4)})`,
      }));
      log.info('training done', { best_epoch: result.bestEpoch, best_val_loss: result.bestValLoss });
    } catch (err) {
      if (signal.aborted) {
        log.info('training cancelled', {});
      } else {
        if (!(err instanceof ServiceError) && !isGrpcStatusError(err)) log.error('training failed', { error: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) });
        this.jobs.publish(this.event(plan.jobId, JobState.FAILED, 'failed', { resultId: modelId, message: describeError(err) }));
      }
    } finally {
      model?.dispose();
      this.training.delete(modelId);
    }
  }

  cancelJob(jobId: string): JobEvent {
    if (jobId.trim() === '') throw invalidArgument('job_id is required', { field: 'job_id' });
    const latest = this.jobs.cancel(jobId, (prev) => ({ ...prev, state: JobState.CANCELLED, phase: 'cancelled', message: 'cancelled by request', timeUnixMs: Date.now() }));
    // A cancelled training never becomes a model, even while its worker is still stopping.
    if (latest?.state === JobState.CANCELLED && latest.resultId !== '') this.training.delete(latest.resultId);
    if (latest === undefined) throw notFound(`job "${jobId}" is unknown to this classifier service (jobs are kept in memory since its start)`, { field: 'job_id' });
    return latest;
  }

  watch(jobId: string, signal: AbortSignal): AsyncIterable<JobEvent> {
    if (jobId.trim() === '') throw invalidArgument('job_id is required', { field: 'job_id' });
    const events = this.jobs.subscribe(jobId, signal);
    if (events === undefined) throw notFound(`job "${jobId}" is unknown to this classifier service (jobs are kept in memory since its start)`, { field: 'job_id' });
    return events;
  }

  async getModel(modelId: string): Promise<ClassifierModel> {
    if (modelId.trim() === '') throw invalidArgument('model_id is required', { field: 'model_id' });
    if (!ID_PATTERN.test(modelId)) throw invalidArgument(`model_id "${modelId}" is not a valid model id`, { field: 'model_id' });
    const inProgress = this.training.get(modelId);
    if (inProgress) return inProgress;
    const m = await this.store.getManifest(modelId);
    if (m === undefined) throw notFound(`model "${modelId}" does not exist`, { field: 'model_id' });
    return m;
  }

  async listModels(req: ListModelsRequest): Promise<ListClassifierModelsResponse> {
    if (!Number.isInteger(req.pageSize) || req.pageSize < 0 || req.pageSize > 1000) throw invalidArgument('page_size must be 0 (50) to 1000', { field: 'page_size' });
    const size = req.pageSize === 0 ? 50 : req.pageSize;
    let offset = 0;
    if (req.pageToken !== '') {
      const m = /^o:(\d{1,9})$/.exec(Buffer.from(req.pageToken, 'base64url').toString('utf8'));
      if (!m) throw invalidArgument('page_token is not one this service gave out', { field: 'page_token' });
      offset = Number(m[1]);
    }
    const all = await this.store.listManifests();
    const models = all.slice(offset, offset + size);
    const next = offset + size < all.length ? Buffer.from(`o:${offset + size}`).toString('base64url') : '';
    return { models, nextPageToken: next };
  }

  /** A stored model, loaded once and kept (a few at a time); empty id: the most recent one. */
  private async resolveModel(modelId: string): Promise<{ model: tf.LayersModel; manifest: ClassifierModel }> {
    let id = modelId;
    if (id === '') {
      // The most recent model; looked up at most every few seconds (a stream of Classify calls must not list
      // every manifest per image), and at once after a training here finished.
      if (this.defaultModel === null || Date.now() - this.defaultModel.at > DEFAULT_MODEL_TTL_MS) {
        const latest = (await this.store.listManifests())[0];
        if (latest === undefined) throw failedPrecondition('no classifier has been trained yet; Train one first or name model_id');
        this.defaultModel = { id: latest.modelId, at: Date.now() };
      }
      id = this.defaultModel.id;
    } else if (!ID_PATTERN.test(id)) {
      throw invalidArgument(`model_id "${id}" is not a valid model id`, { field: 'model_id' });
    }
    let p = this.models.get(id);
    if (p === undefined) {
      p = (async () => {
        const manifest = await this.store.getManifest(id);
        if (manifest === undefined) {
          throw this.training.has(id) ? failedPrecondition(`model "${id}" is still training`) : notFound(`model "${id}" does not exist`, { field: 'model_id' });
        }
        return { model: await this.store.loadModel(id), manifest };
      })();
      this.models.set(id, p);
      p.catch(() => this.models.delete(id));
      while (this.models.size > MODEL_CACHE) {
        const [oldest, old] = this.models.entries().next().value as [string, Promise<{ model: tf.LayersModel }>];
        this.models.delete(oldest);
        void old.then((o) => o.model.dispose(), () => undefined);
      }
    }
    return p;
  }

  async evaluate(req: EvaluateRequest): Promise<Evaluation> {
    const sel = req.selection;
    if (sel?.collection === undefined || sel.collection.id.trim() === '') {
      throw invalidArgument('selection.collection is required (usually the dataset with split TEST)', { field: 'selection' });
    }
    const { model, manifest } = await this.resolveModel(req.modelId);
    const refs = (await this.o.storage.listAllImages(sel)).filter((r) => classIndex(r.finding) !== undefined);
    if (refs.length === 0) throw failedPrecondition(`the selection of ${CollectionKind[sel.collection.kind]} "${sel.collection.id}" (split ${Split[sel.split]}) has no labelled images to evaluate on`);
    const samples = await loadSamples(this.o.storage, refs, manifest.imageSize, sel.collection.kind === CollectionKind.SYNTHETIC_SET);
    const probs = predictProbabilities(model, samples.map((s) => s.pixels), manifest.imageSize);
    const predictions = samples.map((s, i) => ({ sha256: s.sha256, label: CLASS_FINDINGS[s.label]!, probabilities: Array.from(probs[i]!) }));
    const scores = await scoreRequest({ predictions, evaluationIds: [], baselineEvaluationIds: [] });
    const evaluation: Evaluation = { evaluationId: `eval-${manifest.modelId.slice(0, 40)}-${randomUUID().slice(0, 8)}`, modelId: manifest.modelId, predictions, scores };
    await this.store.saveEvaluation(evaluation);
    return evaluation;
  }

  async classify(req: ClassifyRequest): Promise<ClassifyResponse> {
    const bytes = req.image;
    const limits = this.o.config.limits;
    if (bytes.byteLength === 0) throw invalidArgument('image is empty: send PNG, JPEG or DICOM bytes', { field: 'image' });
    if (bytes.byteLength > limits.maxImageBytes) throw invalidArgument(`image is ${bytes.byteLength} bytes; the limit is ${limits.maxImageBytes}`, { field: 'image' });
    const sniffed = sniffFormat(bytes);
    if (req.contentType !== '') {
      const declared = CONTENT_TYPES[req.contentType.toLowerCase()];
      if (declared === undefined) throw invalidArgument(`content_type "${req.contentType}" is not supported; use ${Object.keys(CONTENT_TYPES).join(', ')} or leave it empty`, { field: 'content_type' });
      if (sniffed !== undefined && sniffed !== declared) throw invalidArgument(`content_type says ${req.contentType} but the bytes are ${sniffed}`, { field: 'content_type' });
    }
    if (sniffed === undefined) throw invalidArgument('image is not a PNG, JPEG or DICOM file', { field: 'image' });
    const { model, manifest } = await this.resolveModel(req.modelId);
    let image;
    try {
      image = decodeImageFile(bytes, { salt: this.salt, limits: { maxPixels: limits.maxImagePixels } }).image;
    } catch (err) {
      if (err instanceof InvalidImageInputError) throw invalidArgument(`image: ${err.message}`, { field: 'image' });
      throw err;
    }
    const probs = predictProbabilities(model, [toInput(image, manifest.imageSize)], manifest.imageSize)[0]!;
    let top = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[top]!) top = k;
    this.classifications.inc({ backend: backendName() });
    return {
      modelId: manifest.modelId,
      probabilities: CLASS_FINDINGS.map((finding, k) => ({ finding, probability: probs[k]! })),
      topFinding: CLASS_FINDINGS[top] ?? Finding.UNSPECIFIED,
      requestId: req.requestId,
      backend: backendName(),
    };
  }

  async close(): Promise<void> {
    this.jobs.abortAll();
    await this.queue.catch(() => undefined);
    for (const p of this.models.values()) await p.then((m) => m.model.dispose(), () => undefined);
    this.models.clear();
  }
}

export function classifierHandlers(core: ClassifierCore): ClassifierServiceServer {
  return {
    train: serverStream(async (req, send, ctx) => {
      const { events } = await core.startTraining(req, ctx.signal);
      // The caller leaving stops this stream, not the job: WatchJob re-attaches, CancelJob stops it.
      for await (const ev of events) await send(ev);
    }),
    watchJob: serverStream(async (req, send, ctx) => {
      for await (const ev of core.watch(req.jobId, ctx.signal)) await send(ev);
    }),
    cancelJob: unary((req) => ({ status: core.cancelJob(req.jobId) })),
    getModel: unary((req) => core.getModel(req.modelId)),
    listModels: unary((req) => core.listModels(req)),
    evaluate: unary((req) => core.evaluate(req)),
    classify: unary((req) => core.classify(req)),
    classifyStream: bidiStream(async (requests, send) => {
      // One answer per request, in order; a bad image ends the stream with its status (request_id in the message).
      for await (const req of requests) {
        try {
          await send(await core.classify(req));
        } catch (err) {
          if (err instanceof ServiceError && req.requestId !== '') throw new ServiceError(err.code, `request ${req.requestId}: ${err.message}`, err.details);
          throw err;
        }
      }
    }),
  };
}
