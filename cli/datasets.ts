// Dataset operations over the storage service that several commands share (dataset phantom/import/split, demo).
import { fromProtoFinding, toProtoSplit } from '../shared/clients/findings.js';
import { storageImageSink } from '../shared/clients/image-sink.js';
import type { StorageClient } from '../shared/clients/storage.js';
import type { ImageSink } from '../shared/data/importers/types.js';
import { kFoldSplit, splitDataset, type SplitItem } from '../shared/data/splits.js';
import { callUnary } from '../shared/grpc/index.js';
import { CollectionKind, Split, type CollectionRef } from '../shared/proto/cxrsynth/v1/common.js';
import type { Dataset, Provenance, SplitAssignment, SyntheticSet } from '../shared/proto/cxrsynth/v1/storage.js';

/**
 * Lets `fill` write images into an open collection through a storage sink, then commits it. On any failure
 * the open (never visible) collection is deleted again, so a cut-off import leaves nothing behind.
 */
async function fillAndCommit<T, R>(
  storage: StorageClient,
  collection: CollectionRef,
  steps: { commit: () => Promise<T>; remove: () => Promise<unknown> },
  fill: (sink: ImageSink) => Promise<R>,
): Promise<{ committed: T; filled: R }> {
  const sink = storageImageSink(storage, collection);
  try {
    const filled = await fill(sink);
    await sink.finish();
    return { committed: await steps.commit(), filled };
  } catch (err) {
    sink.abort();
    await steps.remove().catch(() => undefined);
    throw err;
  }
}

export async function createDataset<R>(
  storage: StorageClient, id: string, source: string, fill: (sink: ImageSink) => Promise<R>,
): Promise<{ dataset: Dataset; filled: R }> {
  await callUnary(storage.raw, 'createDataset', { datasetId: id, description: '', source });
  const { committed, filled } = await fillAndCommit(storage, { kind: CollectionKind.DATASET, id }, {
    commit: () => callUnary(storage.raw, 'commitDataset', { datasetId: id }),
    remove: () => callUnary(storage.raw, 'deleteDataset', { datasetId: id }),
  }, fill);
  return { dataset: committed, filled };
}

export async function createSyntheticSet<R>(
  storage: StorageClient, setId: string, description: string, provenance: Provenance, fill: (sink: ImageSink) => Promise<R>,
): Promise<{ set: SyntheticSet; filled: R }> {
  await callUnary(storage.raw, 'createSyntheticSet', { setId, description, provenance });
  const { committed, filled } = await fillAndCommit(storage, { kind: CollectionKind.SYNTHETIC_SET, id: setId }, {
    commit: () => callUnary(storage.raw, 'commitSyntheticSet', { setId }),
    remove: () => callUnary(storage.raw, 'deleteSyntheticSet', { setId }),
  }, fill);
  return { set: committed, filled };
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

/** A progress callback that reports every n-th step. */
export function everyN(n: number, report: (done: number) => void): (done: number) => void {
  return (done) => {
    if (done % n === 0) report(done);
  };
}
