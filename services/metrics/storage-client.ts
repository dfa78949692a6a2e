// The metrics service's sources over the storage service's gRPC API (shared/clients/storage.ts):
// images of datasets and synthetic sets, and stored classifier evaluations. Blobs (models, cached
// features) go through shared/clients' storageBlobStore, keyed "models/…", "features/…", "evaluations/…".
import type { StorageClient } from '../../shared/clients/storage.js';
import { decodeGrayPng } from '../../shared/images/codec.js';
import { Evaluation } from '../../shared/proto/cxrsynth/v1/classifier.js';
import type { BlobIO } from '../../shared/tf/index.js';
import type { EvaluationSource, ImageSource } from './sources.js';

export function storageImageSource(storage: StorageClient): ImageSource {
  return {
    list: (selection) => storage.listAllImages(selection),
    readAll: (refs, { signal, onRead }) =>
      storage.mapImages(refs, async ({ png }) => {
        const image = decodeGrayPng(png);
        await onRead?.();
        return image;
      }, signal ? { signal } : {}),
  };
}

/**
 * Evaluations as the classifier stores them: one binary `Evaluation` message per id at evaluations/<id>.pb.
 */
export function storageEvaluations(blobs: BlobIO): EvaluationSource {
  return {
    async predictions(id) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) return undefined;
      const bytes = await blobs.getBytes(`evaluations/${id}.pb`);
      return bytes === undefined ? undefined : Evaluation.decode(bytes).predictions;
    },
  };
}
