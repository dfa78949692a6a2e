// Domain records → protobuf messages (and the enum checks on the way in). Pure functions, no I/O.
import { CollectionKind as ProtoKind, Finding, Split, type ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import {
  BlobNamespace, CollectionState, type Blob, type Dataset, type Provenance, type SplitCount, type SyntheticSet,
} from '../../shared/proto/cxrsynth/v1/storage.js';
import { invalidArgument } from '../../shared/grpc/errors.js';
import type { BlobInfo } from './blobs.js';
import type { CollectionView } from './collections.js';
import type { BlobNamespaceName, CollectionKind } from './layout.js';
import {
  findingName, findingValue, splitName, splitValue,
  type CollectionHeader, type FindingName, type ImageEntry, type Manifest, type ProvenanceRecord, type SplitName,
} from './manifest.js';

const PROTO_KIND: Record<CollectionKind, ProtoKind> = { dataset: ProtoKind.DATASET, synthetic: ProtoKind.SYNTHETIC_SET };
const NAMESPACES: Partial<Record<BlobNamespace, BlobNamespaceName>> = {
  [BlobNamespace.MODELS]: 'models',
  [BlobNamespace.ASSESSMENTS]: 'assessments',
  [BlobNamespace.FEATURES]: 'features',
  [BlobNamespace.EVALUATIONS]: 'evaluations',
};
const NAMESPACE_VALUES: Record<BlobNamespaceName, BlobNamespace> = {
  models: BlobNamespace.MODELS,
  assessments: BlobNamespace.ASSESSMENTS,
  features: BlobNamespace.FEATURES,
  evaluations: BlobNamespace.EVALUATIONS,
};

export function collectionKind(kind: ProtoKind, field: string): CollectionKind {
  if (kind === ProtoKind.DATASET) return 'dataset';
  if (kind === ProtoKind.SYNTHETIC_SET) return 'synthetic';
  throw invalidArgument(`${field} must be COLLECTION_KIND_DATASET or COLLECTION_KIND_SYNTHETIC_SET`, { field });
}

export function blobNamespace(ns: BlobNamespace, field: string): BlobNamespaceName {
  const name = NAMESPACES[ns];
  if (!name) throw invalidArgument(`${field} must be one of BLOB_NAMESPACE_MODELS, _ASSESSMENTS, _FEATURES, _EVALUATIONS`, { field });
  return name;
}

export function findingIn(f: Finding, field: string, { allowUnspecified = false } = {}): FindingName {
  const ok = Number.isInteger(f) && f >= (allowUnspecified ? 0 : 1) && f <= Finding.COVID19;
  if (!ok) throw invalidArgument(`${field} must be a finding (HEALTHY, BACTERIAL, VIRAL, FUNGAL, COVID19); got ${f}`, { field });
  return findingName(f);
}

export function splitIn(s: Split, field: string, { allowUnspecified = true } = {}): SplitName {
  const ok = Number.isInteger(s) && s >= (allowUnspecified ? 0 : 1) && s <= Split.TEST;
  if (!ok) throw invalidArgument(`${field} must be SPLIT_TRAIN, SPLIT_VALIDATION or SPLIT_TEST${allowUnspecified ? ' (or unspecified)' : ''}; got ${s}`, { field });
  return splitName(s);
}

export function imageRef(kind: CollectionKind, id: string, e: ImageEntry): ImageRef {
  return {
    collection: { kind: PROTO_KIND[kind], id },
    sha256: e.sha256,
    finding: findingValue(e.finding),
    width: e.width,
    height: e.height,
    bitDepth: e.bitDepth,
    patientId: e.patientId,
    split: splitValue(e.split),
    fold: e.fold,
    sizeBytes: e.sizeBytes,
    view: e.view,
  };
}

function splitCounts(images: readonly ImageEntry[]): SplitCount[] {
  const counts = new Map<string, SplitCount>();
  for (const e of images) {
    const k = `${e.split}/${e.finding}`;
    const c = counts.get(k) ?? { split: splitValue(e.split), finding: findingValue(e.finding), count: 0 };
    c.count++;
    counts.set(k, c);
  }
  return [...counts.values()].sort((a, b) => a.split - b.split || a.finding - b.finding);
}

function parts(view: CollectionView): { header: CollectionHeader; images: readonly ImageEntry[]; committed?: Manifest } {
  return view.state === 'committed'
    ? { header: view.manifest, images: view.manifest.images, committed: view.manifest }
    : { header: view.header, images: view.images };
}

export function datasetMessage(view: CollectionView): Dataset {
  const { header, images, committed } = parts(view);
  return {
    datasetId: header.id,
    description: header.description,
    state: committed ? CollectionState.COMMITTED : CollectionState.OPEN,
    imageCount: images.length,
    patientCount: new Set(images.map((e) => e.patientId).filter((p) => p !== '')).size,
    counts: splitCounts(images),
    folds: committed?.splits.folds ?? 0,
    splitSeed: committed?.splits.seed ?? 0,
    createdUnixMs: header.createdUnixMs,
    committedUnixMs: committed?.committedUnixMs ?? 0,
    source: header.source,
  };
}

export function syntheticSetMessage(view: CollectionView): SyntheticSet {
  const { header, images, committed } = parts(view);
  return {
    setId: header.id,
    description: header.description,
    state: committed ? CollectionState.COMMITTED : CollectionState.OPEN,
    provenance: header.provenance ? provenanceMessage(header.provenance) : undefined,
    imageCount: images.length,
    counts: splitCounts(images),
    createdUnixMs: header.createdUnixMs,
    committedUnixMs: committed?.committedUnixMs ?? 0,
  };
}

export function provenanceMessage(p: ProvenanceRecord): Provenance {
  return { ...p, params: { ...p.params }, finding: findingValue(p.finding) };
}

export function blobMessage(info: BlobInfo): Blob {
  return {
    ref: { namespace: NAMESPACE_VALUES[info.namespace], path: info.path },
    sizeBytes: info.size,
    sha256: info.sha256,
    contentType: info.contentType,
    modifiedUnixMs: info.modifiedMs,
  };
}
