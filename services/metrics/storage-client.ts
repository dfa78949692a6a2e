// The metrics service's sources over the storage service's gRPC API (shared/clients/storage.ts):
// images of datasets and synthetic sets, and blobs (models, cached features, evaluations).
// Blob keys used inside the metrics code start with their namespace — "models/…", "features/…",
// "evaluations/…" — and map onto storage's (namespace, path) pairs here.
import { status } from '@grpc/grpc-js';
import type { StorageClient } from '../../shared/clients/storage.js';
import { isGrpcStatusError } from '../../shared/grpc/index.js';
import { decodeGrayPng } from '../../shared/images/codec.js';
import { Evaluation } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { BlobNamespace } from '../../shared/proto/cxrsynth/v1/storage.js';
import type { BlobStore } from './features/artifacts.js';
import type { EvaluationSource, ImageSource } from './sources.js';

const NAMESPACES: Record<string, BlobNamespace> = {
  models: BlobNamespace.MODELS,
  features: BlobNamespace.FEATURES,
  evaluations: BlobNamespace.EVALUATIONS,
  assessments: BlobNamespace.ASSESSMENTS,
};

export function blobRef(key: string): { namespace: BlobNamespace; path: string } {
  const slash = key.indexOf('/');
  const ns = NAMESPACES[slash < 0 ? key : key.slice(0, slash)];
  if (ns === undefined || slash < 0 || slash === key.length - 1) {
    throw new RangeError(`blob key "${key}" must start with one of ${Object.keys(NAMESPACES).join(', ')} and a path`);
  }
  return { namespace: ns, path: key.slice(slash + 1) };
}

export function storageImageSource(storage: StorageClient): ImageSource {
  return {
    list: (selection) => storage.listAllImages(selection),
    async read(ref) {
      const { png } = await storage.getImage(ref.collection!, ref.sha256);
      return decodeGrayPng(png);
    },
  };
}

export function storageBlobStore(storage: StorageClient): BlobStore {
  return {
    async getBytes(key) {
      try {
        const { bytes } = await storage.getBlob(blobRef(key));
        return new Uint8Array(bytes);
      } catch (err) {
        if (isGrpcStatusError(err) && err.code === status.NOT_FOUND) return undefined;
        throw err;
      }
    },
    async put(key, bytes) {
      await storage.putBlob(blobRef(key), bytes);
    },
  };
}

/**
 * Evaluations as the classifier stores them: one binary `Evaluation` message per id at
 * evaluations/<id>.pb (an assumption to confirm with the classifier service; see the report).
 */
export function storageEvaluations(blobs: BlobStore): EvaluationSource {
  return {
    async predictions(id) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) return undefined;
      const bytes = await blobs.getBytes(`evaluations/${id}.pb`);
      return bytes === undefined ? undefined : Evaluation.decode(bytes).predictions;
    },
  };
}
