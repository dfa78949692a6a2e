// Blobs: checkpoints, reports, feature caches, evaluations. Paths are validated segment by segment and placed under
// their namespace by layout.ts. Every blob carries its sha256 (object metadata); reads verify it at the end of the
// stream. A put that ends short, long, or with the wrong checksum stores nothing.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { invalidArgument, notFound } from '../../shared/grpc/errors.js';
import type { ObjectInfo, ObjectStore } from './backends/object-store.js';
import { dataLoss, toServiceError } from './errors.js';
import { BLOB_NAMESPACES, layout, quote, validateBlobPath, validateSha256, type BlobNamespaceName } from './layout.js';
import { mapLimit } from './util.js';
import { CHUNK_BYTES, chunks } from '../../shared/clients/storage-protocol.js';

const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i;

export interface BlobInfo {
  namespace: BlobNamespaceName;
  path: string;
  size: number;
  /** '' when unknown (only for blobs written by something other than this service). */
  sha256: string;
  contentType: string;
  modifiedMs: number;
}

export interface BlobPutHeader {
  contentType: string;
  /** Exact size the caller will send; 0 when the caller does not know it in advance. */
  sizeBytes: number;
  /** The caller's sha256, checked at the end; '' to skip. */
  sha256: string;
}

export class Blobs {
  constructor(
    private readonly store: ObjectStore,
    private readonly maxBlobBytes: number,
  ) {}

  key(namespace: BlobNamespaceName, path: string): string {
    return layout.blob(namespace, validateBlobPath(path));
  }

  async put(namespace: BlobNamespaceName, path: string, header: BlobPutHeader, chunks: AsyncIterable<Buffer>): Promise<BlobInfo> {
    const key = this.key(namespace, path);
    const contentType = header.contentType === '' ? 'application/octet-stream' : header.contentType;
    if (!CONTENT_TYPE.test(contentType)) throw invalidArgument(`header.content_type ${quote(contentType)} is not a MIME type like application/json`);
    if (!Number.isSafeInteger(header.sizeBytes) || header.sizeBytes < 0) throw invalidArgument('header.size_bytes must be >= 0');
    if (header.sizeBytes > this.maxBlobBytes) {
      throw invalidArgument(`header.size_bytes ${header.sizeBytes} exceeds the blob limit of ${this.maxBlobBytes} bytes`);
    }
    if (header.sha256 !== '') validateSha256(header.sha256, 'header.sha256');
    const hash = createHash('sha256');
    let size = 0;
    const limit = header.sizeBytes > 0 ? header.sizeBytes : this.maxBlobBytes;
    const max = this.maxBlobBytes;
    // Checks run inside the body: a failure (even at its very end) aborts the put before anything is visible.
    async function* checked(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunks) {
        if (chunk.byteLength > CHUNK_BYTES) throw invalidArgument(`chunks must be at most ${CHUNK_BYTES} bytes (got ${chunk.byteLength})`);
        size += chunk.byteLength;
        if (size > limit) {
          throw invalidArgument(
            header.sizeBytes > 0
              ? `more bytes than header.size_bytes (${header.sizeBytes}) were sent`
              : `blob exceeds the limit of ${max} bytes`,
          );
        }
        hash.update(chunk);
        yield chunk;
      }
      if (header.sizeBytes > 0 && size !== header.sizeBytes) {
        throw invalidArgument(`stream ended after ${size} bytes; header.size_bytes says ${header.sizeBytes}`);
      }
    }
    let sha = '';
    await this.store.put(key, checked(), {
      contentType,
      finalMetadata: () => {
        sha = hash.digest('hex');
        if (header.sha256 !== '' && sha !== header.sha256) {
          throw invalidArgument(`bytes do not match header.sha256 (got ${sha}, header says ${header.sha256})`);
        }
        return { sha256: sha };
      },
    });
    return { namespace, path, size, sha256: sha, contentType, modifiedMs: Date.now() };
  }

  async stat(namespace: BlobNamespaceName, path: string): Promise<BlobInfo> {
    const info = await this.store.stat(this.key(namespace, path));
    if (!info) throw notFound(`no blob ${namespace}/${path}`);
    return toBlobInfo(namespace, path, info);
  }

  /** The blob's info and its bytes in chunks of at most 1 MiB; the stream fails with DATA_LOSS on a checksum mismatch. */
  async open(namespace: BlobNamespaceName, path: string): Promise<{ info: BlobInfo; chunks: AsyncIterable<Buffer> }> {
    const info = await this.stat(namespace, path);
    const stream = await this.store.get(this.key(namespace, path));
    return { info, chunks: verifiedChunks(stream, info, `${namespace}/${path}`) };
  }

  async list(
    namespace: BlobNamespaceName,
    prefix: string,
    pageSize: number,
    after: string | undefined,
  ): Promise<{ blobs: BlobInfo[]; next?: string }> {
    const segments = validateBlobPath(prefix, 'prefix', { allowEmpty: true });
    const root = `${namespace}/`;
    const page = await this.store.list(layout.blobPrefix(namespace, segments), {
      limit: pageSize,
      startAfter: after === undefined ? undefined : root + after,
    });
    // Listings carry no metadata: stat each entry (bounded) so every Blob has its checksum and type.
    const blobs = await mapLimit(page.items, 16, async (o) => {
      const path = o.key.slice(root.length);
      const info = await this.store.stat(o.key);
      return info ? toBlobInfo(namespace, path, info) : undefined;
    });
    const present = blobs.filter((b): b is BlobInfo => b !== undefined);
    return page.next ? { blobs: present, next: page.next.slice(root.length) } : { blobs: present };
  }

  async delete(namespace: BlobNamespaceName, path: string): Promise<void> {
    const key = this.key(namespace, path);
    if (!(await this.store.stat(key))) throw notFound(`no blob ${namespace}/${path}`);
    await this.store.deleteMany([key]);
  }
}

export function isBlobNamespace(name: string): name is BlobNamespaceName {
  return (BLOB_NAMESPACES as readonly string[]).includes(name);
}

function toBlobInfo(namespace: BlobNamespaceName, path: string, info: ObjectInfo): BlobInfo {
  return {
    namespace,
    path,
    size: info.size,
    sha256: info.metadata.sha256 ?? '',
    contentType: info.contentType,
    modifiedMs: Math.floor(info.modifiedMs),
  };
}

async function* verifiedChunks(stream: Readable, info: BlobInfo, label: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const raw of stream) {
      const buf = raw as Buffer;
      for (const chunk of buf.byteLength === 0 ? [] : chunks(buf)) {
        hash.update(chunk);
        size += chunk.byteLength;
        yield chunk;
      }
    }
  } catch (err) {
    throw toServiceError(err);
  } finally {
    stream.destroy();
  }
  if (size !== info.size) throw dataLoss(`blob ${label} ended after ${size} of ${info.size} bytes`);
  if (info.sha256 !== '' && hash.digest('hex') !== info.sha256) {
    throw dataLoss(`blob ${label} failed its integrity check (sha256 mismatch): discard what was received`);
  }
}
