import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Finding } from '../../shared/proto/cxrsynth/v1/common.js';
import { Evaluation } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { BlobNamespace } from '../../shared/proto/cxrsynth/v1/storage.js';
import { FsObjectStore } from '../../services/storage/backends/fs.js';
import { objectStoreBlobs } from '../../services/metrics/features/object-store-blobs.js';
import { storageEvaluations } from '../../services/metrics/storage-client.js';
import { blobRef } from '../../shared/clients/storage.js';

describe('metrics blob keys → storage blob refs', () => {
  it('maps the leading segment to the namespace', () => {
    expect(blobRef('models/classifier/c1/3/model.json')).toEqual({ namespace: BlobNamespace.MODELS, path: 'classifier/c1/3/model.json' });
    expect(blobRef('features/domain/ab-p1/x.f32')).toEqual({ namespace: BlobNamespace.FEATURES, path: 'domain/ab-p1/x.f32' });
    expect(blobRef('evaluations/e1.pb').namespace).toBe(BlobNamespace.EVALUATIONS);
    expect(() => blobRef('cache/x')).toThrow(/must start with one of/);
    expect(() => blobRef('models/')).toThrow(/must start with one of/);
  });

  it('reads stored evaluations as binary Evaluation messages; unknown or unsafe ids are absent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metrics-evals-'));
    try {
      const store = new FsObjectStore(dir);
      await store.init();
      const blobs = objectStoreBlobs(store);
      const evaluation = Evaluation.fromPartial({ evaluationId: 'e1', modelId: 'm', predictions: [{ sha256: 'a', label: Finding.VIRAL, probabilities: [0.1, 0.1, 0.6, 0.1, 0.1] }] });
      await blobs.put('evaluations/e1.pb', Evaluation.encode(evaluation).finish());
      const source = storageEvaluations(blobs);
      expect(await source.predictions('e1')).toEqual(evaluation.predictions);
      expect(await source.predictions('missing')).toBeUndefined();
      expect(await source.predictions('../e1')).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
