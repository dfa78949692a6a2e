// The dataset subcommands that write: build the phantom dataset, import real data, split by patient.
// Each creates or changes a dataset through the storage service; a dataset that fails half-way is
// never committed (so never visible), and is deleted before the error is reported.
import type { StorageClient, ImageUpload } from '../../shared/clients/storage.js';
import { fromProtoFinding, toProtoFinding, toProtoSplit } from '../../shared/clients/findings.js';
import { callUnary } from '../../shared/grpc/index.js';
import { encodeGrayPng } from '../../shared/images/codec.js';
import { parseCounts } from '../../shared/data/findings.js';
import { DEFAULT_PHANTOM_SEED, DEFAULT_PHANTOM_SIZE, generatePhantomImages } from '../../shared/data/phantom/index.js';
import { kFoldSplit, splitDataset, type SplitItem } from '../../shared/data/splits.js';
import { CollectionKind, Split } from '../../shared/proto/cxrsynth/v1/common.js';
import type { Dataset, SplitAssignment } from '../../shared/proto/cxrsynth/v1/storage.js';
import { intOpt, numberOpt, stringOpt, UsageError, type Parsed } from '../args.js';
import type { Output } from '../output.js';
import { datasetView, renderDataset } from './dataset.js';

export interface DatasetWriteCommand {
  name: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  run(p: Parsed, storage: StorageClient, out: Output): Promise<number>;
}

function requiredName(p: Parsed): string {
  const name = stringOpt(p, 'name');
  if (!name) throw new UsageError('--name is required');
  return name;
}

/** Creates, fills and commits a dataset; on any failure the open dataset is deleted again. */
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

const phantom: DatasetWriteCommand = {
  name: 'phantom',
  usage: 'phantom --name NAME [--size 64] [--counts h=673,f=125,c=110,b=100,v=74] [--seed S]   build the phantom dataset',
  options: { name: { type: 'string' }, size: { type: 'string' }, counts: { type: 'string' }, seed: { type: 'string' } },
  async run(p, storage, out) {
    const id = requiredName(p);
    const size = intOpt(p, 'size', { min: 16, max: 512 }) ?? DEFAULT_PHANTOM_SIZE;
    const seed = stringOpt(p, 'seed') ?? DEFAULT_PHANTOM_SEED;
    const countsSpec = stringOpt(p, 'counts');
    const counts = countsSpec === undefined ? undefined : parseCounts(countsSpec);
    let n = 0;
    function* uploads(): Generator<ImageUpload> {
      for (const { record, image } of generatePhantomImages({ seed, size, ...(counts ? { counts } : {}) })) {
        if (++n % 200 === 0) out.progress(`rendered ${n} images`);
        yield { header: { finding: toProtoFinding(record.finding), patientId: record.patientId, split: Split.UNSPECIFIED, view: 'PA' }, png: encodeGrayPng(image) };
      }
    }
    const d = await createDataset(storage, id, `phantom seed=${seed} size=${size}`, uploads());
    out.result(datasetView(d), () => renderDataset(d));
    return 0;
  },
};

const split: DatasetWriteCommand = {
  name: 'split',
  usage: 'split NAME --val 0.1 --test 0.2 [--folds k] [--seed S]   patient-level stratified split (k folds over train+val)',
  options: { val: { type: 'string' }, test: { type: 'string' }, folds: { type: 'string' }, seed: { type: 'string' } },
  async run(p, storage, out) {
    const [, id, ...extra] = p.positionals;
    if (id === undefined || extra.length > 0) throw new UsageError('name exactly one dataset');
    const val = numberOpt(p, 'val', { min: 0, max: 0.99 }) ?? 0.1;
    const test = numberOpt(p, 'test', { min: 0, max: 0.99 }) ?? 0.2;
    const folds = intOpt(p, 'folds', { min: 2, max: 100 });
    const seed = intOpt(p, 'seed', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;

    const images = await storage.listAllImages({ collection: { kind: CollectionKind.DATASET, id }, split: Split.UNSPECIFIED, findings: [] });
    const items: SplitItem[] = images.flatMap((im) => {
      const finding = fromProtoFinding(im.finding);
      return finding ? [{ id: im.sha256, patientId: im.patientId || `image:${im.sha256}`, finding }] : [];
    });
    const splits = splitDataset(items, { val, test, seed });
    // Folds partition what is not test, so cross-validation never touches the held-out test split.
    const foldOf = folds ? kFoldSplit(items.filter((it) => splits.get(it.id) !== 'test'), { k: folds, seed }) : new Map<string, number>();
    const assignments: SplitAssignment[] = items.map((it) => ({
      sha256: it.id,
      split: toProtoSplit(splits.get(it.id)!),
      fold: foldOf.has(it.id) ? foldOf.get(it.id)! + 1 : 0,
    }));
    const d = await callUnary(storage.raw, 'setSplits', { datasetId: id, assignments, folds: folds ?? 0, seed });
    out.result(datasetView(d), () => renderDataset(d));
    return 0;
  },
};

export const DATASET_WRITE_COMMANDS: readonly DatasetWriteCommand[] = [phantom, split];
