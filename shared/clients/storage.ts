// A typed convenience layer over the generated StorageService client, for every caller of storage
// (CLI, services, tests): chunking of bytes into ≤ 1 MiB messages on the way in, reassembly and
// sha256 verification on the way out, and listings followed across pages.
import type { BlobIO } from '../tf/checkpoint.js';
import { createHash } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { callClientStream, callUnary, isGrpcStatusError, type CallExtras } from '../grpc/index.js';
import type { CollectionRef, ImageRef, ImageSelection } from '../proto/cxrsynth/v1/common.js';
import {
  type Blob,
  BlobNamespace,
  type BlobRef,
  type Dataset,
  type GetBlobResponse,
  type GetImageResponse,
  type ImageHeader,
  type PutImagesRequest,
  type PutImagesResponse,
  StorageServiceClient,
} from '../proto/cxrsynth/v1/storage.js';

export const CHUNK_BYTES = 1 << 20;

export interface ImageUpload {
  header: Omit<ImageHeader, 'collection' | 'sizeBytes' | 'sha256'>;
  png: Uint8Array;
}

function* chunks(bytes: Uint8Array): Generator<Uint8Array> {
  if (bytes.byteLength === 0) yield bytes;
  for (let off = 0; off < bytes.byteLength; off += CHUNK_BYTES) yield bytes.subarray(off, off + CHUNK_BYTES);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The PutImages messages for some images: per image its header (size and sha256 filled in) carrying the first
 * chunk, then one message per further chunk, so an image up to 1 MiB is one message.
 */
export async function* imageMessages(collection: CollectionRef, images: Iterable<ImageUpload> | AsyncIterable<ImageUpload>): AsyncGenerator<PutImagesRequest> {
  for await (const { header, png } of images) {
    const [first, ...rest] = [...chunks(png)];
    yield { header: { ...header, collection, sizeBytes: png.byteLength, sha256: sha256(png) }, chunk: asBuffer(first!) };
    for (const chunk of rest) yield { chunk: asBuffer(chunk) };
  }
}

export class StorageClient {
  constructor(readonly raw: StorageServiceClient) {}

  /** Streams images into an open dataset or synthetic set (one client stream, many images). */
  putImages(collection: CollectionRef, images: Iterable<ImageUpload> | AsyncIterable<ImageUpload>, extras: CallExtras = {}): Promise<PutImagesResponse> {
    return callClientStream(this.raw, 'putImages', imageMessages(collection, images), { deadline: Infinity, ...extras });
  }

  /** Every image of a selection, following pages. */
  async listAllImages(selection: ImageSelection, pageSize = 1000): Promise<ImageRef[]> {
    const out: ImageRef[] = [];
    let pageToken = '';
    do {
      const page = await callUnary(this.raw, 'listImages', { selection, pageSize, pageToken });
      out.push(...page.images);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return out;
  }

  /** One image's PNG bytes and header, checked against its content address. */
  async getImage(collection: CollectionRef, sha: string, extras: CallExtras = {}): Promise<{ header: ImageRef; png: Buffer }> {
    let header: ImageRef | undefined;
    const parts: Buffer[] = [];
    const call = this.raw.getImage({ collection, sha256: sha }, extras.metadata ?? new Metadata(), extras.deadline === undefined ? {} : { deadline: extras.deadline });
    for await (const msg of call as AsyncIterable<GetImageResponse>) {
      if (msg.header) header = msg.header;
      if (msg.chunk.byteLength > 0) parts.push(msg.chunk);
    }
    const png = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (!header) throw new Error(`storage sent no header for image ${sha}`);
    if (sha256(png) !== sha) throw new Error(`image ${sha} arrived corrupted (sha256 mismatch)`);
    return { header, png };
  }

  async putBlob(ref: BlobRef, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<Blob> {
    async function* messages() {
      yield { item: { $case: 'header' as const, header: { ref, contentType, sizeBytes: bytes.byteLength, sha256: sha256(bytes) } } };
      for (const chunk of chunks(bytes)) yield { item: { $case: 'chunk' as const, chunk: asBuffer(chunk) } };
    }
    return callClientStream(this.raw, 'putBlob', messages(), { deadline: Infinity });
  }

  async getBlob(ref: BlobRef): Promise<{ blob: Blob; bytes: Buffer }> {
    let blob: Blob | undefined;
    const parts: Buffer[] = [];
    const call = this.raw.getBlob({ ref });
    for await (const msg of call as AsyncIterable<GetBlobResponse>) {
      if (msg.part?.$case === 'header') blob = msg.part.header;
      else if (msg.part?.$case === 'chunk') parts.push(msg.part.chunk);
    }
    if (!blob) throw new Error(`storage sent no header for blob ${ref.path}`);
    return { blob, bytes: Buffer.concat(parts) };
  }

  getDataset(datasetId: string): Promise<Dataset> {
    return callUnary(this.raw, 'getDataset', { datasetId });
  }
}

/** Blob namespaces by the first segment of a key, as the storage layout names them. */
const NAMESPACE_BY_PREFIX: Record<string, BlobNamespace> = {
  models: BlobNamespace.MODELS,
  assessments: BlobNamespace.ASSESSMENTS,
  features: BlobNamespace.FEATURES,
  evaluations: BlobNamespace.EVALUATIONS,
};

/** "models/classifier/m1/model.json" → { namespace: MODELS, path: "classifier/m1/model.json" }. */
export function blobRef(key: string): BlobRef {
  const slash = key.indexOf('/');
  const namespace = NAMESPACE_BY_PREFIX[slash < 0 ? key : key.slice(0, slash)];
  if (namespace === undefined || slash < 0 || slash === key.length - 1) {
    throw new RangeError(`blob key "${key}" must start with one of ${Object.keys(NAMESPACE_BY_PREFIX).join(', ')} and a path`);
  }
  return { namespace, path: key.slice(slash + 1) };
}

/** A key → bytes view of storage's blobs ("models/classifier/m1/model.json"), for tf.io handlers and caches. */
export function storageBlobStore(storage: StorageClient): BlobIO {
  return {
    async getBytes(key) {
      try {
        return new Uint8Array((await storage.getBlob(blobRef(key))).bytes);
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
