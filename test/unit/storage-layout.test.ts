import { describe, expect, it } from 'vitest';
import { ServiceError, Status } from '../../shared/grpc/errors.js';
import { layout, packIdFromKey, validateBlobPath, validateId, validateSha256 } from '../../services/storage/layout.js';
import {
  CorruptRecordError, MANIFEST_VERSION, mergeEntries, parseManifest, serializeRecord, type ImageEntry, type Manifest,
} from '../../services/storage/manifest.js';
import { decodeToken, encodeToken, pageSize } from '../../services/storage/paging.js';
import { assertSafeKey } from '../../services/storage/backends/object-store.js';

const invalid = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).code).toBe(Status.INVALID_ARGUMENT);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected INVALID_ARGUMENT');
};

const entry = (sha: string, extra: Partial<ImageEntry> = {}): ImageEntry => ({
  sha256: sha, finding: 'healthy', patientId: 'p', split: 'train', fold: 0, width: 8, height: 8, bitDepth: 8,
  sizeBytes: 100, view: 'PA', source: 'phantom', pack: 'p0', offset: 512, ...extra,
});

describe('storage layout: ids and keys', () => {
  it('accepts documented ids and builds keys only under their roots', () => {
    for (const id of ['a', 'ds-1', 'phantom_v2.1', 'x'.repeat(63)]) expect(validateId('dataset', id, 'dataset_id')).toBe(id);
    const sha = 'ab'.repeat(32);
    expect(layout.image('dataset', 'ds-1', sha)).toBe(`datasets/ds-1/images/${sha}.png`);
    expect(layout.manifest('synthetic', 's-1')).toBe('synthetic/s-1/manifest.json');
    expect(layout.batch('dataset', 'd', 'b1')).toBe('staging/datasets/d/batches/b1.json');
    expect(layout.blob('models', validateBlobPath(layout.modelFilePath('gan', 'm-1', 1000, 'model.json')))).toBe('models/gan/m-1/1000/model.json');
    expect(layout.pack('synthetic', 's-1', 'mf2k-0a1b')).toBe('synthetic/s-1/packs/mf2k-0a1b.tar');
    expect(packIdFromKey(layout.pack('dataset', 'd', 'mf2k-0a1b'))).toBe('mf2k-0a1b');
    for (const other of ['datasets/d/manifest.json', 'datasets/d/packs/.x.tar', 'datasets/d/packs/A.tar', layout.image('dataset', 'd', sha)]) {
      expect(packIdFromKey(other)).toBeUndefined();
    }
  });

  it('refuses traversal and anything outside the patterns', () => {
    for (const bad of ['', '..', '../x', 'a/b', '.a', '-a', 'A', 'a b', 'x'.repeat(64), 'a\u0000', 'é']) {
      invalid(() => validateId('dataset', bad, 'dataset_id'), /is not a valid dataset id/);
    }
    for (const bad of ['', '/', '/a', 'a/', 'a//b', '..', 'a/../b', './a', 'a\\b', '.hidden/x', Array(13).fill('a').join('/')]) {
      invalid(() => validateBlobPath(bad), /is not a valid blob path/);
    }
    invalid(() => validateSha256('A'.repeat(64)), /is not a sha256/);
    invalid(() => validateSha256('a'.repeat(63)), /is not a sha256/);
    // The stores re-check keys themselves.
    for (const bad of ['../x', 'a/../b', '/a', 'a//b', 'a/.b']) expect(() => assertSafeKey(bad)).toThrow(/unsafe object key/);
  });
});

describe('storage manifest records', () => {
  const manifest: Manifest = {
    format: 'cxr-synth/manifest', version: MANIFEST_VERSION, kind: 'dataset', id: 'd-1', description: 'x', source: 'phantom',
    createdUnixMs: 1, committedUnixMs: 2, splits: { folds: 0, seed: 0 }, images: [entry('a'.repeat(64)), entry('b'.repeat(64))],
  };

  it('round-trips and verifies its own checksum', () => {
    const bytes = serializeRecord(manifest);
    expect(parseManifest(bytes, 'dataset', 'd-1')).toEqual(manifest);
  });

  it('detects tampering, truncation and records of another collection', () => {
    const bytes = serializeRecord(manifest).toString();
    const tampered = Buffer.from(bytes.replace('"patientId":"p"', '"patientId":"q"'));
    expect(() => parseManifest(tampered, 'dataset', 'd-1')).toThrow(CorruptRecordError);
    expect(() => parseManifest(tampered, 'dataset', 'd-1')).toThrow(/checksum mismatch/);
    expect(() => parseManifest(Buffer.from(bytes.slice(0, -5)), 'dataset', 'd-1')).toThrow(/not valid JSON/);
    expect(() => parseManifest(Buffer.from(bytes), 'dataset', 'd-2')).toThrow(/belongs to dataset "d-1"/);
    expect(() => parseManifest(Buffer.from(bytes), 'synthetic', 'd-1')).toThrow(/not synthetic d-1/);
    const badEntry = serializeRecord({ ...manifest, images: [entry('not-a-sha')] });
    expect(() => parseManifest(badEntry, 'dataset', 'd-1')).toThrow(/malformed image list/);
    // Where an image lives is part of its entry: a pack id that is not one the service makes, or no valid offset.
    for (const bad of [{ pack: '../x' }, { pack: '' }, { pack: 'P' }, { offset: -1 }, { offset: 1.5 }]) {
      const record = serializeRecord({ ...manifest, images: [entry('a'.repeat(64), bad)] });
      expect(() => parseManifest(record, 'dataset', 'd-1')).toThrow(/malformed image list/);
    }
    const older = serializeRecord({ ...manifest, version: 1 as unknown as typeof MANIFEST_VERSION });
    expect(() => parseManifest(older, 'dataset', 'd-1')).toThrow(/has version 1; this service reads version 2/);
  });

  it('merges batches: unique, sorted, first record wins', () => {
    const merged = mergeEntries([[entry('c'.repeat(64), { patientId: 'first' })], [entry('a'.repeat(64)), entry('c'.repeat(64), { patientId: 'second' })]]);
    expect(merged.map((e) => e.sha256[0])).toEqual(['a', 'c']);
    expect(merged[1]!.patientId).toBe('first');
  });
});

describe('storage paging', () => {
  it('validates page_size', () => {
    expect(pageSize(0)).toBe(100);
    expect(pageSize(5)).toBe(5);
    expect(pageSize(1_000_000)).toBe(1000);
    invalid(() => pageSize(-1), /page_size must be >= 0/);
  });

  it('tokens round-trip within their listing only', () => {
    const t = encodeToken('collections:dataset', 'ds-9');
    expect(decodeToken('collections:dataset', t)).toBe('ds-9');
    expect(decodeToken('collections:dataset', '')).toBeUndefined();
    invalid(() => decodeToken('collections:synthetic', t), /not a token this listing issued/);
    invalid(() => decodeToken('collections:dataset', 'zz'), /not a token this listing issued/);
  });
});
