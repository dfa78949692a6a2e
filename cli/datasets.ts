// Dataset operations over the storage service that several commands share (dataset phantom/split, demo).
import { fromProtoFinding, toProtoFinding, toProtoSplit } from '../shared/clients/findings.js';
import type { ImageUpload, StorageClient } from '../shared/clients/storage.js';
import { generatePhantomImages, type PhantomOptions } from '../shared/data/phantom/index.js';
import { kFoldSplit, splitDataset, type SplitItem } from '../shared/data/splits.js';
import { callUnary } from '../shared/grpc/index.js';
import { encodeGrayPng } from '../shared/images/codec.js';
import { CollectionKind, Split } from '../shared/proto/cxrsynth/v1/common.js';
import type { Dataset, SplitAssignment } from '../shared/proto/cxrsynth/v1/storage.js';

/** Creates, fills and commits a dataset; on any failure the open (never visible) dataset is deleted again. */
export async function createDataset(
  storage: StorageClient, id: string, source: string, images: Iterable<ImageUpload> | AsyncIterable<ImageUpload>,
): Promise<Dataset> {
  await callUnary(storage.raw, 'createDataset', { datasetId: id, description: '', source });
  try {
    await storage.putImages({ kind: CollectionKind.DATASET, id }, images);
    return await callUnary(storage.raw, 'commitDataset', { datasetId: id });
  } catch (err) {
    await callUnary(storage.raw, 'deleteDataset', { datasetId: id }).catch(() => undefined);
    throw err;
  }
}

/** Phantom images rendered lazily as PNG uploads; `onProgress` every 200 images. */
export function* phantomUploads(options: PhantomOptions & { size: number }, onProgress?: (rendered: number) => void): Generator<ImageUpload> {
  let n = 0;
  for (const { record, image } of generatePhantomImages(options)) {
    if (++n % 200 === 0) onProgress?.(n);
    yield {
      header: { finding: toProtoFinding(record.finding), patientId: record.patientId, split: Split.UNSPECIFIED, view: 'PA' },
      png: encodeGrayPng(image),
    };
  }
}

export interface SplitRequest {
  val: number;
  test: number;
  /** k-fold over train + validation, so cross-validation never touches the held-out test split. */
  folds?: number | undefined;
  seed: number;
}

/** Patient-level stratified split of a stored dataset, written to its manifest. */
export async function splitStoredDataset(storage: StorageClient, id: string, request: SplitRequest): Promise<Dataset> {
  const images = await storage.listAllImages({ collection: { kind: CollectionKind.DATASET, id }, split: Split.UNSPECIFIED, findings: [] });
  const items: SplitItem[] = images.flatMap((im) => {
    const finding = fromProtoFinding(im.finding);
    return finding ? [{ id: im.sha256, patientId: im.patientId || `image:${im.sha256}`, finding }] : [];
  });
  const splits = splitDataset(items, { val: request.val, test: request.test, seed: request.seed });
  const foldOf = request.folds
    ? kFoldSplit(items.filter((it) => splits.get(it.id) !== 'test'), { k: request.folds, seed: request.seed })
    : new Map<string, number>();
  const assignments: SplitAssignment[] = items.map((it) => ({
    sha256: it.id,
    split: toProtoSplit(splits.get(it.id)!),
    fold: foldOf.has(it.id) ? foldOf.get(it.id)! + 1 : 0,
  }));
  return callUnary(storage.raw, 'setSplits', { datasetId: id, assignments, folds: request.folds ?? 0, seed: request.seed });
}
