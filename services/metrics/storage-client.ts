// The metrics service's sources over the storage service's gRPC API (shared/clients/storage.ts):
// images of datasets and synthetic sets, and stored classifier evaluations. Blobs (models, cached
// features) go through shared/clients' storageBlobStore, keyed "models/…", "features/…", "evaluations/…".
import type { StorageClient } from '../../shared/clients/storage.js';
import { decodeGrayPng } from '../../shared/images/codec.js';
import type { GrayImage } from '../../shared/images/image.js';
import { Evaluation } from '../../shared/proto/cxrsynth/v1/classifier.js';
import type { BlobIO } from '../../shared/tf/index.js';
import type { EvaluationSource, ImageSource } from './sources.js';

export function storageImageSource(storage: StorageClient): ImageSource {
  return {
    list: (selection) => storage.listAllImages(selection),
    async readAll(refs, { signal, onRead }) {
      const decoded = new Map<string, GrayImage>(); // by sha256: content-addressed, the same image in any collection
      for await (const { header, png } of storage.getImagesOf(refs, signal ? { signal } : {})) {
        decoded.set(header.sha256, decodeGrayPng(png));
        await onRead?.();
      }
      return refs.map((r) => decoded.get(r.sha256)!);
    },
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
