// Training and validation images for one Train request, read from storage once and kept as S×S float pixels:
// the real training split (or, with a fold, train + validation minus that fold), the validation split (or the
// held-out fold), and synthetic images mixed in per class as the request's mix says. Every choice is seeded.
import type { StorageClient } from '../../shared/clients/storage.js';
import { callUnary, failedPrecondition, invalidArgument } from '../../shared/grpc/index.js';
import { decodeGrayPng } from '../../shared/images/codec.js';
import type { GrayImage } from '../../shared/images/image.js';
import { resize } from '../../shared/images/resize.js';
import { createRng } from '../../shared/images/rng.js';
import { CollectionKind, Finding, Split, SyntheticMix, type ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import type { Dataset } from '../../shared/proto/cxrsynth/v1/storage.js';
import { CLASS_FINDINGS, NUM_CLASSES } from './models/index.js';

export interface Sample {
  sha256: string;
  /** Class index 0..4 (Finding − 1). */
  label: number;
  /** S×S grey in [0, 1], row-major. */
  pixels: Float32Array;
  synthetic: boolean;
}

export interface TrainingData {
  train: Sample[];
  val: Sample[];
  /** Per class: real training images, synthetic images added. */
  counts: { real: number[]; synthetic: number[] };
}

export interface DataRequest {
  datasetId: string;
  syntheticSetIds: readonly string[];
  syntheticPerClass: number;
  mix: SyntheticMix;
  seed: number;
  imageSize: number;
  fold: number;
}

export function classIndex(finding: Finding): number | undefined {
  const i = CLASS_FINDINGS.indexOf(finding);
  return i < 0 ? undefined : i;
}

/** Decoded, resized pixels of a stored PNG. */
export function toInput(image: GrayImage, size: number): Float32Array {
  return image.width === size && image.height === size ? image.data : resize(image, size, size).data;
}

/** The samples of `refs`, in their order: read in bulk (GetImages), decoded as they arrive. */
export async function loadSamples(storage: StorageClient, refs: readonly ImageRef[], size: number, synthetic: boolean, signal?: AbortSignal): Promise<Sample[]> {
  const pixels = await storage.mapImages(refs, ({ png }) => toInput(decodeGrayPng(png), size), signal ? { signal } : {});
  return refs.map((ref, i) => ({ sha256: ref.sha256, label: classIndex(ref.finding)!, pixels: pixels[i]!, synthetic }));
}

/** Checks the dataset can train a classifier as asked; answers with the status the caller must see. */
export function checkDatasetForTraining(dataset: Dataset, fold: number): void {
  const trainCount = dataset.counts.filter((c) => c.split === Split.TRAIN).reduce((s, c) => s + c.count, 0);
  if (trainCount === 0) {
    throw failedPrecondition(`dataset "${dataset.datasetId}" has no training split; split it first (cxr-synth dataset split ${dataset.datasetId})`);
  }
  if (fold > 0) {
    if (dataset.folds === 0) throw failedPrecondition(`fold ${fold} asked for, but dataset "${dataset.datasetId}" has no k-fold assignment; split it with folds, or use fold 0`);
    if (fold > dataset.folds) throw invalidArgument(`fold ${fold} is out of range: dataset "${dataset.datasetId}" has folds 1..${dataset.folds}`, { field: 'fold' });
    return;
  }
  const valCount = dataset.counts.filter((c) => c.split === Split.VALIDATION).reduce((s, c) => s + c.count, 0);
  if (valCount === 0) {
    throw failedPrecondition(
      `dataset "${dataset.datasetId}" has no validation split to pick the checkpoint on (the test split is never used for that); split it with a validation share, or train with a fold`,
    );
  }
}

const labelled = (refs: ImageRef[]) => refs.filter((r) => classIndex(r.finding) !== undefined);
const bySha = (a: ImageRef, b: ImageRef) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0);

/** Synthetic images to add per class, chosen (seeded) from the pooled sets. */
export function chooseSynthetic(pool: readonly ImageRef[], realCounts: readonly number[], perClass: number, mix: SyntheticMix, seed: number): ImageRef[] {
  const rng = createRng(`classifier-synthetic/${seed}`);
  const majority = Math.max(...realCounts);
  const out: ImageRef[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const candidates = rng.fork(c).shuffle(pool.filter((r) => classIndex(r.finding) === c).sort(bySha));
    const want = mix === SyntheticMix.BALANCE_TO_MAJORITY
      ? Math.max(0, majority - realCounts[c]!) // N is a ceiling per class; 0 means no ceiling
      : perClass;
    const capped = mix === SyntheticMix.BALANCE_TO_MAJORITY && perClass > 0 ? Math.min(want, perClass) : want;
    out.push(...candidates.slice(0, capped));
  }
  return out;
}

export async function loadTrainingData(storage: StorageClient, req: DataRequest, signal?: AbortSignal): Promise<TrainingData> {
  const collection = { kind: CollectionKind.DATASET, id: req.datasetId };
  let trainRefs: ImageRef[];
  let valRefs: ImageRef[];
  if (req.fold > 0) {
    const all = labelled(await storage.listAllImages({ collection, split: Split.UNSPECIFIED, findings: [] })).filter(
      (r) => r.split === Split.TRAIN || r.split === Split.VALIDATION,
    );
    trainRefs = all.filter((r) => r.fold !== req.fold);
    valRefs = all.filter((r) => r.fold === req.fold);
  } else {
    trainRefs = labelled(await storage.listAllImages({ collection, split: Split.TRAIN, findings: [] }));
    valRefs = labelled(await storage.listAllImages({ collection, split: Split.VALIDATION, findings: [] }));
  }
  if (trainRefs.length === 0 || valRefs.length === 0) {
    throw failedPrecondition(`dataset "${req.datasetId}" gave ${trainRefs.length} training and ${valRefs.length} validation images; both must be non-empty`);
  }
  const real = new Array<number>(NUM_CLASSES).fill(0);
  for (const r of trainRefs) real[classIndex(r.finding)!]!++;

  let syntheticRefs: ImageRef[] = [];
  if (req.syntheticSetIds.length > 0) {
    const pool: ImageRef[] = [];
    for (const setId of req.syntheticSetIds) {
      await callUnary(storage.raw, 'getSyntheticSet', { setId }); // NOT_FOUND / uncommitted answers reach the caller
      pool.push(...labelled(await storage.listAllImages({ collection: { kind: CollectionKind.SYNTHETIC_SET, id: setId }, split: Split.UNSPECIFIED, findings: [] })));
    }
    syntheticRefs = chooseSynthetic(pool, real, req.syntheticPerClass, req.mix, req.seed);
  }
  const synthetic = new Array<number>(NUM_CLASSES).fill(0);
  for (const r of syntheticRefs) synthetic[classIndex(r.finding)!]!++;

  const train = [
    ...(await loadSamples(storage, trainRefs.sort(bySha), req.imageSize, false, signal)),
    ...(await loadSamples(storage, syntheticRefs, req.imageSize, true, signal)),
  ];
  const val = await loadSamples(storage, valRefs.sort(bySha), req.imageSize, false, signal);
  return { train, val, counts: { real, synthetic } };
}
