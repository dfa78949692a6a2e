// Object keys, built only here and only from validated ids: nothing a caller sends becomes part of a key unless
// it matched one of the patterns below, and none of them can contain '/', '..' or a leading '.'.
//
//   datasets/<id>/manifest.json               written last: the dataset exists once this does
//   datasets/<id>/packs/<pack>.tar            the images, many to a pack (packs.ts); the manifest says where each is
//   datasets/<id>/images/<sha256>.png         one image on its own, copied out of its pack for a presigned URL
//   synthetic/<id>/…                          the same for synthetic sets
//   staging/<datasets|synthetic>/<id>/open.json          a collection being filled (CreateX wrote it)
//   staging/<datasets|synthetic>/<id>/batches/<batch>.json  the images one PutImages stream recorded
//   models/<kind>/<model-id>/<step>/<file>, assessments/<id>/<file...>, features/..., evaluations/...  (blobs)
import { invalidArgument } from '../../shared/grpc/errors.js';
import { PACK_ID_PATTERN } from './packs.js';

export type CollectionKind = 'dataset' | 'synthetic';

/** Dataset and synthetic-set ids (as documented in storage.proto). */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** One segment of a blob path. Starts with a letter or digit, so never '.', '..' or hidden. */
export const BLOB_SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MAX_BLOB_SEGMENTS = 12;

export const BLOB_NAMESPACES = ['models', 'assessments', 'features', 'evaluations'] as const;
export type BlobNamespaceName = (typeof BLOB_NAMESPACES)[number];

const KIND_DIR: Record<CollectionKind, string> = { dataset: 'datasets', synthetic: 'synthetic' };
const KIND_NOUN: Record<CollectionKind, string> = { dataset: 'dataset', synthetic: 'synthetic set' };

export function kindNoun(kind: CollectionKind): string {
  return KIND_NOUN[kind];
}

/** Quotes a caller string for an error message without letting it run on (or carry control characters). */
export function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}

export function validateId(kind: CollectionKind, id: string, field: string): string {
  if (!ID_PATTERN.test(id)) {
    throw invalidArgument(
      `${field} ${quote(id)} is not a valid ${KIND_NOUN[kind]} id: use 1 to 63 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit`,
      { field },
    );
  }
  return id;
}

export function validateSha256(sha: string, field = 'sha256'): string {
  if (!SHA256_PATTERN.test(sha)) {
    throw invalidArgument(`${field} ${quote(sha)} is not a sha256: expected 64 lower-case hex digits`, { field });
  }
  return sha;
}

/** Splits and validates a blob path ("gan/m-1/1000/model.json"). */
export function validateBlobPath(path: string, field = 'ref.path', { allowEmpty = false } = {}): string[] {
  if (path === '' && allowEmpty) return [];
  const segments = path.split('/');
  if (
    path === '' ||
    segments.length > MAX_BLOB_SEGMENTS ||
    !segments.every((s) => BLOB_SEGMENT_PATTERN.test(s))
  ) {
    throw invalidArgument(
      `${field} ${quote(path)} is not a valid blob path: 1 to ${MAX_BLOB_SEGMENTS} '/'-separated segments of letters, digits, '.', '_' or '-' (each starting with a letter or digit; no '..', no leading or doubled '/')`,
      { field },
    );
  }
  return segments;
}

export const layout = {
  collectionPrefix: (kind: CollectionKind, id: string) => `${KIND_DIR[kind]}/${id}/`,
  collectionsRoot: (kind: CollectionKind) => `${KIND_DIR[kind]}/`,
  manifest: (kind: CollectionKind, id: string) => `${KIND_DIR[kind]}/${id}/manifest.json`,
  packsPrefix: (kind: CollectionKind, id: string) => `${KIND_DIR[kind]}/${id}/packs/`,
  pack: (kind: CollectionKind, id: string, packId: string) => `${KIND_DIR[kind]}/${id}/packs/${packId}.tar`,
  image: (kind: CollectionKind, id: string, sha: string) => `${KIND_DIR[kind]}/${id}/images/${sha}.png`,
  stagingPrefix: (kind: CollectionKind, id: string) => `staging/${KIND_DIR[kind]}/${id}/`,
  openMarker: (kind: CollectionKind, id: string) => `staging/${KIND_DIR[kind]}/${id}/open.json`,
  batchesPrefix: (kind: CollectionKind, id: string) => `staging/${KIND_DIR[kind]}/${id}/batches/`,
  batch: (kind: CollectionKind, id: string, batchId: string) => `staging/${KIND_DIR[kind]}/${id}/batches/${batchId}.json`,
  blob: (namespace: BlobNamespaceName, segments: readonly string[]) => `${namespace}/${segments.join('/')}`,
  blobPrefix: (namespace: BlobNamespaceName, segments: readonly string[]) =>
    segments.length === 0 ? `${namespace}/` : `${namespace}/${segments.join('/')}/`,
  /** models/<kind>/<model-id>/<step>/<file>: the path other services use for checkpoints. */
  modelFilePath: (modelKind: string, modelId: string, step: number, file: string) => `${modelKind}/${modelId}/${step}/${file}`,
} as const;

/** The pack id in a pack key, or undefined for any other key. */
export function packIdFromKey(key: string): string | undefined {
  const id = /\/packs\/([^/]+)\.tar$/.exec(key)?.[1];
  return id !== undefined && PACK_ID_PATTERN.test(id) ? id : undefined;
}
