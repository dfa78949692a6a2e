// A typed convenience layer over the generated StorageService client, for every caller of storage
// (CLI, services, tests): chunking of bytes into ≤ 1 MiB messages on the way in, reassembly and
// sha256 verification on the way out, and listings followed across pages.
import type { BlobIO } from '../tf/checkpoint.js';
import { createHash } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { callClientStream, callUnary, isGrpcStatusError, onAbort, type CallExtras } from '../grpc/index.js';
import type { CollectionRef, ImageRef, ImageSelection } from '../proto/cxrsynth/v1/common.js';
import { GET_IMAGES_MAX, chunks, imageFrames } from './storage-protocol.js';
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

/** A stored image as read back: its header and PNG bytes, checked against its content address. */
export interface StoredImage {
  header: ImageRef;
  png: Buffer;
}

export interface GetImagesOptions extends Pick<CallExtras, 'metadata' | 'signal'> {
  /** Images per GetImages call (default and at most GET_IMAGES_MAX). The service reads the images of one call out
   *  of their packs in as few ranged reads as it can, so bigger calls read more of a pack at once. */
  batch?: number;
  /** GetImages calls kept open at once (default 2). */
  calls?: number;
}

export interface ImageUpload {
  header: Omit<ImageHeader, 'collection' | 'sizeBytes' | 'sha256'>;
  png: Uint8Array;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** "kind/id": one key per collection. */
const collectionKey = (c: CollectionRef) => `${c.kind}/${c.id}`;

function checked(header: ImageRef, parts: Buffer[]): StoredImage {
  const png = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (png.byteLength !== header.sizeBytes) throw new Error(`image ${header.sha256} arrived truncated (${png.byteLength} of ${header.sizeBytes} bytes)`);
  if (sha256(png) !== header.sha256) throw new Error(`image ${header.sha256} arrived corrupted (sha256 mismatch)`);
  return { header, png };
}

/**
 * The images of a GetImage / GetImages response stream. The service sends each image's messages together, its
 * header with the first chunk, so an image is complete when its size is reached; it is yielded then, without
 * waiting for the next one.
 */
export async function* receiveImages(messages: AsyncIterable<GetImageResponse>): AsyncGenerator<StoredImage> {
  let header: ImageRef | undefined;
  let parts: Buffer[] = [];
  let size = 0;
  for await (const m of messages) {
    if (m.header) {
      if (header) yield checked(header, parts);
      [header, parts, size] = [m.header, [], 0];
    } else if (!header) {
      throw new Error('storage sent image bytes without a header');
    }
    if (m.chunk.byteLength > 0) {
      parts.push(m.chunk);
      size += m.chunk.byteLength;
    }
    if (size === header.sizeBytes) {
      yield checked(header, parts);
      header = undefined;
    }
  }
  if (header) yield checked(header, parts);
}

/**
 * Values of several async iterators as they come, at most `concurrency` of them open at once (each opened
 * lazily, in order). Each iterator is pulled one value ahead; closing the merge closes the open ones.
 */
async function* merged<T>(sources: readonly (() => AsyncIterator<T>)[], concurrency: number): AsyncGenerator<T> {
  type Pending = Promise<{ id: number; result: IteratorResult<T> }>;
  const open = new Map<number, { it: AsyncIterator<T>; next: Pending }>();
  const pull = (id: number, it: AsyncIterator<T>) => open.set(id, { it, next: it.next().then((result) => ({ id, result })) });
  let started = 0;
  const fill = () => {
    while (open.size < concurrency && started < sources.length) pull(started, sources[started++]!());
  };
  try {
    fill();
    while (open.size > 0) {
      const { id, result } = await Promise.race([...open.values()].map((o) => o.next));
      const { it } = open.get(id)!;
      open.delete(id);
      if (result.done) {
        fill();
        continue;
      }
      pull(id, it);
      yield result.value;
    }
  } finally {
    // Not awaited: an iterator's return() waits behind its pending next(), which a stalled source may never
    // settle; whoever owns the sources stops them (getImages cancels its calls).
    for (const { it, next } of open.values()) {
      next.catch(() => undefined); // its failure no longer matters: the merge is closing
      it.return?.().catch(() => undefined);
    }
  }
}

/**
 * The PutImages messages for some images: per image its header (size and sha256 filled in) carrying the first
 * chunk, then one message per further chunk (storage-protocol.ts).
 */
export async function* imageMessages(collection: CollectionRef, images: Iterable<ImageUpload> | AsyncIterable<ImageUpload>): AsyncGenerator<PutImagesRequest> {
  for await (const { header, png } of images) {
    yield* imageFrames({ ...header, collection, sizeBytes: png.byteLength, sha256: sha256(png) }, asBuffer(png));
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
  async getImage(collection: CollectionRef, sha: string, extras: CallExtras = {}): Promise<StoredImage> {
    const call = this.raw.getImage({ collection, sha256: sha }, extras.metadata ?? new Metadata(), extras.deadline === undefined ? {} : { deadline: extras.deadline });
    const got: StoredImage[] = [];
    for await (const image of receiveImages(call as AsyncIterable<GetImageResponse>)) got.push(image);
    if (got.length !== 1 || got[0]!.header.sha256 !== sha) throw new Error(`storage sent ${got.length} images for image ${sha}`);
    return got[0]!;
  }

  /**
   * Many images of one collection, in the order they arrive (bulk reads: training, feature extraction), through
   * GetImages calls of `batch` images, `calls` of them at a time, each under the client's stream deadline (a bulk
   * read takes as long as its size); cancel it with `signal`, or by leaving the loop.
   */
  async *getImages(collection: CollectionRef, shas: readonly string[], options: GetImagesOptions = {}): AsyncGenerator<StoredImage> {
    const batch = Math.max(1, Math.min(options.batch ?? GET_IMAGES_MAX, GET_IMAGES_MAX));
    const batches = Array.from({ length: Math.ceil(shas.length / batch) }, (_, b) => shas.slice(b * batch, (b + 1) * batch));
    const raw = this.raw;
    // Stops every open call when the read ends early: the caller left the loop, aborted, or one call failed.
    const stop = new AbortController();
    async function* read(sha256: string[]): AsyncGenerator<StoredImage> {
      const call = raw.getImages({ collection, sha256 }, options.metadata ?? new Metadata(), {});
      const off = onAbort(stop.signal, () => call.cancel());
      try {
        yield* receiveImages(call as AsyncIterable<GetImageResponse>);
      } finally {
        off();
      }
    }
    options.signal?.throwIfAborted();
    const offCaller = onAbort(options.signal, () => stop.abort());
    try {
      yield* merged(batches.map((b) => () => read(b)), Math.max(1, options.calls ?? 2));
    } catch (err) {
      options.signal?.throwIfAborted(); // an aborted read fails with the abort's reason, not the call's CANCELLED
      throw err;
    } finally {
      offCaller();
      stop.abort(); // a no-op for calls that have ended
    }
  }

  /** The images `refs` name, each once, one bulk read per collection (see getImages), in the order they arrive. */
  async *getImagesOf(refs: readonly ImageRef[], options: GetImagesOptions = {}): AsyncGenerator<StoredImage> {
    const groups = new Map<string, { collection: CollectionRef; shas: Set<string> }>();
    for (const { collection, sha256 } of refs) {
      if (!collection) throw new Error(`image ref ${sha256} names no collection`);
      const key = collectionKey(collection);
      const group = groups.get(key) ?? { collection, shas: new Set<string>() };
      group.shas.add(sha256);
      groups.set(key, group);
    }
    for (const { collection, shas } of groups.values()) yield* this.getImages(collection, [...shas], options);
  }

  /** `decode` of each image `refs` name, in the order of `refs` (each image read once, by getImagesOf, decoded as it arrives). */
  async mapImages<T>(refs: readonly ImageRef[], decode: (image: StoredImage) => T | Promise<T>, options: GetImagesOptions = {}): Promise<T[]> {
    const bySha = new Map<string, T>(); // content-addressed: one sha is one image in any collection
    for await (const image of this.getImagesOf(refs, options)) bySha.set(image.header.sha256, await decode(image));
    return refs.map((r) => {
      if (!bySha.has(r.sha256)) throw new Error(`storage did not return image ${r.sha256}`);
      return bySha.get(r.sha256)!;
    });
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
