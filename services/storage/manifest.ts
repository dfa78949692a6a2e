// Manifests: the versioned JSON record of a committed dataset or synthetic set, written last (its existence is
// what makes the collection visible), with a sha256 over its own content that every read verifies.
// Also the two staging records that lead up to it: the open marker and the per-stream image batches.
import { createHash } from 'node:crypto';
import { Finding, Split } from '../../shared/proto/cxrsynth/v1/common.js';
import { ID_PATTERN, SHA256_PATTERN, type CollectionKind } from './layout.js';
import { PACK_ID_PATTERN } from './packs.js';

// 2: images live in packs (packs.ts) and every entry says where; 1 stored one object per image.
export const MANIFEST_VERSION = 2 as const;

export const FINDING_NAMES = ['unspecified', 'healthy', 'bacterial', 'viral', 'fungal', 'covid19'] as const;
export type FindingName = (typeof FINDING_NAMES)[number];
export const SPLIT_NAMES = ['unspecified', 'train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

// Enum values index the name tables (Finding.HEALTHY = 1 → 'healthy').
export const findingName = (f: Finding): FindingName => (FINDING_NAMES as readonly FindingName[])[f] ?? 'unspecified';
export const findingValue = (n: FindingName): Finding => FINDING_NAMES.indexOf(n) as Finding;
export const splitName = (s: Split): SplitName => (SPLIT_NAMES as readonly SplitName[])[s] ?? 'unspecified';
export const splitValue = (n: SplitName): Split => SPLIT_NAMES.indexOf(n) as Split;

/** What an uploaded image is, as images.checkImage finds it. */
export interface ImageFacts {
  sha256: string;
  finding: FindingName;
  /** Pseudonymous patient key ('' when unknown, e.g. synthetic). Never a hospital id. */
  patientId: string;
  split: SplitName;
  /** k-fold index, 1-based; 0 without folds. */
  fold: number;
  width: number;
  height: number;
  bitDepth: 8 | 16;
  sizeBytes: number;
  view: string;
  /** Where the image came from: the dataset's source, or the generator for synthetic images. */
  source: string;
}

/** An image as the manifest records it: its facts and where its bytes are. */
export interface ImageEntry extends ImageFacts {
  /** Id of the pack holding it (packs.ts). */
  pack: string;
  /** Offset of its PNG bytes in that pack. */
  offset: number;
}

export interface ProvenanceRecord {
  modelKind: string;
  modelId: string;
  checkpointStep: number;
  seed: number;
  finding: FindingName;
  backend: string;
  params: Record<string, string>;
}

export interface CollectionHeader {
  kind: CollectionKind;
  id: string;
  description: string;
  source: string;
  createdUnixMs: number;
  provenance?: ProvenanceRecord;
}

export interface Manifest extends CollectionHeader {
  format: 'cxr-synth/manifest';
  version: typeof MANIFEST_VERSION;
  committedUnixMs: number;
  splits: { folds: number; seed: number };
  /** Sorted by sha256, unique. */
  images: ImageEntry[];
}

export interface OpenMarker extends CollectionHeader {
  format: 'cxr-synth/open';
  version: typeof MANIFEST_VERSION;
}

export interface Batch {
  format: 'cxr-synth/batch';
  version: typeof MANIFEST_VERSION;
  images: ImageEntry[];
}

/** A stored record failed its checksum or shape check. Maps to DATA_LOSS. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with a trailing `checksum` over the JSON of everything before it (key order is preserved by JSON). */
export function serializeRecord(record: Manifest | OpenMarker | Batch): Buffer {
  const body = JSON.stringify(record);
  return Buffer.from(`${body.slice(0, -1)},"checksum":"${digest(body)}"}`);
}

function parseRecord(bytes: Buffer, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CorruptRecordError(`${what} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CorruptRecordError(`${what} is not a JSON object`);
  const { checksum, ...rest } = parsed as Record<string, unknown>;
  if (typeof checksum !== 'string' || digest(JSON.stringify(rest)) !== checksum) {
    throw new CorruptRecordError(`${what} failed its integrity check (checksum mismatch)`);
  }
  return rest;
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isStr = (v: unknown): v is string => typeof v === 'string';

function checkEntry(e: unknown): e is ImageEntry {
  if (e === null || typeof e !== 'object') return false;
  const x = e as Record<string, unknown>;
  return (
    isStr(x.sha256) && SHA256_PATTERN.test(x.sha256) &&
    (FINDING_NAMES as readonly unknown[]).includes(x.finding) &&
    (SPLIT_NAMES as readonly unknown[]).includes(x.split) &&
    isStr(x.patientId) && isStr(x.view) && isStr(x.source) &&
    isInt(x.fold) && isInt(x.width, 1) && isInt(x.height, 1) && (x.bitDepth === 8 || x.bitDepth === 16) && isInt(x.sizeBytes, 1) &&
    isStr(x.pack) && PACK_ID_PATTERN.test(x.pack) && isInt(x.offset)
  );
}

function checkHeader(r: Record<string, unknown>, kind: CollectionKind, id: string, what: string): void {
  if (r.version !== MANIFEST_VERSION) {
    throw new CorruptRecordError(`${what} has version ${String(r.version)}; this service reads version ${MANIFEST_VERSION} (delete the collection and put its images again)`);
  }
  if (r.kind !== kind || r.id !== id || !isStr(r.id) || !ID_PATTERN.test(r.id)) {
    throw new CorruptRecordError(`${what} belongs to ${String(r.kind)} ${JSON.stringify(r.id)}, not ${kind} ${id}`);
  }
  if (!isStr(r.description) || !isStr(r.source) || !isInt(r.createdUnixMs)) throw new CorruptRecordError(`${what} has a malformed header`);
}

export function parseManifest(bytes: Buffer, kind: CollectionKind, id: string): Manifest {
  const what = `manifest of ${kind} ${id}`;
  const r = parseRecord(bytes, what);
  if (r.format !== 'cxr-synth/manifest') throw new CorruptRecordError(`${what} is not a manifest`);
  checkHeader(r, kind, id, what);
  const splits = r.splits as Record<string, unknown> | undefined;
  if (!isInt(r.committedUnixMs) || !splits || !isInt(splits.folds) || !isInt(splits.seed, Number.MIN_SAFE_INTEGER)) {
    throw new CorruptRecordError(`${what} has malformed commit or split fields`);
  }
  if (!Array.isArray(r.images) || !r.images.every(checkEntry)) throw new CorruptRecordError(`${what} has a malformed image list`);
  return r as unknown as Manifest;
}

export function parseOpenMarker(bytes: Buffer, kind: CollectionKind, id: string): OpenMarker {
  const what = `open marker of ${kind} ${id}`;
  const r = parseRecord(bytes, what);
  if (r.format !== 'cxr-synth/open') throw new CorruptRecordError(`${what} is not an open marker`);
  checkHeader(r, kind, id, what);
  return r as unknown as OpenMarker;
}

export function parseBatch(bytes: Buffer, what: string): Batch {
  const r = parseRecord(bytes, what);
  if (r.format !== 'cxr-synth/batch' || r.version !== MANIFEST_VERSION || !Array.isArray(r.images) || !r.images.every(checkEntry)) {
    throw new CorruptRecordError(`${what} is malformed`);
  }
  return r as unknown as Batch;
}

/** Merges batches into one sorted, duplicate-free image list (the first record of an image wins). */
export function mergeEntries(lists: readonly (readonly ImageEntry[])[]): ImageEntry[] {
  const bySha = new Map<string, ImageEntry>();
  for (const list of lists) for (const e of list) if (!bySha.has(e.sha256)) bySha.set(e.sha256, e);
  return [...bySha.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
}

export { Finding, Split };
