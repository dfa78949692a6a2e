// S3 backend through the `minio` client, using only S3-generic calls (PutObject, multipart upload, GetObject,
// HeadObject, ListObjectsV2, DeleteObjects, CopyObject, presigned GET) so MinIO, SeaweedFS, Ceph RGW and AWS S3 work.
//
// Atomic visibility: a body up to partSize is buffered and sent as one PUT (S3 makes it visible whole). A larger
// body goes up as a multipart upload that is completed only after the body was read without error, and aborted
// otherwise. When metadata is only known at the end (finalMetadata), the multipart upload targets a staging key
// and a server-side copy with the final metadata publishes it.
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions, S3Error } from 'minio';
import {
  ObjectNotFoundError,
  StoreFullError,
  StoreUnavailableError,
  assertSafeKey,
  readAll,
  type Body,
  type ListOptions,
  type ListedObject,
  type ObjectInfo,
  type ObjectStore,
  type Page,
  type PutOptions,
} from './object-store.js';
import type { S3Settings } from '../../../shared/config/index.js';

/** The connection settings shared/config produces (prefix: '' for none, no leading or trailing '/'), plus tuning. */
export interface S3StoreOptions extends S3Settings {
  /** Bodies above this size go up as multipart uploads in parts of this size. S3's minimum part is 5 MiB. */
  partSize?: number;
  /** Upper bound on the time one request may take before it counts as unavailable. */
  requestTimeoutMs?: number;
}

const MiB = 1024 * 1024;
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'ECONNABORTED', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET', 'EPROTO', 'ERR_STREAM_PREMATURE_CLOSE',
]);
const UNAVAILABLE_S3_CODES = new Set([
  'ServiceUnavailable', 'SlowDown', 'XMinioServerNotInitialized', 'RequestTimeout', 'InternalError', 'NoSuchBucket',
  'XMinioReadQuorum', 'XMinioWriteQuorum', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied',
]);

/** Turns whatever the minio client or a socket threw into the store's error classes. */
export function toStoreError(err: unknown, what: string, key?: string): Error {
  if (err instanceof StoreUnavailableError || err instanceof ObjectNotFoundError || err instanceof StoreFullError) return err;
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (key !== undefined && (code === 'NoSuchKey' || code === 'NotFound')) return new ObjectNotFoundError(key);
  if (code === 'XMinioStorageFull' || code === 'EntityTooLarge') return new StoreFullError(`${what}: ${e.message ?? code}`);
  if (code !== undefined && (NETWORK_CODES.has(code) || UNAVAILABLE_S3_CODES.has(code))) {
    return new StoreUnavailableError(`${what}: ${code}${e.message && e.message !== code ? ` (${e.message})` : ''}`, code);
  }
  if (err instanceof S3Error && /^5\d\d$/.test(String((err as unknown as { amzStatus?: unknown }).amzStatus ?? ''))) {
    return new StoreUnavailableError(`${what}: S3 server error ${code ?? ''} (${e.message})`, code ?? 'S3Error');
  }
  if (/socket hang up|connect ECONNREFUSED|other side closed/i.test(e.message ?? '')) {
    return new StoreUnavailableError(`${what}: ${e.message}`, 'ECONNRESET');
  }
  return err instanceof Error ? err : new Error(String(err));
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly location: string;
  private readonly client: Client;
  private readonly agent: Agent;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly region: string;
  private readonly timeoutMs: number;
  private readonly useSSL: boolean;

  constructor(options: S3StoreOptions) {
    this.useSSL = options.useSSL;
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/^\/+|\/+$/g, '') + '/' : '';
    this.partSize = Math.max(5 * MiB, options.partSize ?? 16 * MiB);
    this.region = options.region;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.location = `s3://${options.bucket}${this.prefix ? '/' + this.prefix.slice(0, -1) : ''} at ${options.endPoint}:${options.port}`;
    // Keep-alive with plenty of sockets: the service issues many small concurrent requests.
    this.agent = options.useSSL
      ? new HttpsAgent({ keepAlive: true, maxSockets: 128 })
      : new Agent({ keepAlive: true, maxSockets: 128 });
    this.client = new Client({
      endPoint: options.endPoint,
      port: options.port,
      useSSL: options.useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      partSize: this.partSize,
      pathStyle: true,
      transportAgent: this.agent,
    });
  }

  async init(): Promise<void> {
    await this.call('create bucket', async () => {
      if (!(await this.client.bucketExists(this.bucket))) {
        try {
          await this.client.makeBucket(this.bucket, this.region);
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
        }
      }
    });
  }

  async ping(): Promise<void> {
    await this.call('reach S3', async () => {
      if (!(await this.client.bucketExists(this.bucket))) {
        throw new StoreUnavailableError(`bucket ${this.bucket} does not exist`, 'NoSuchBucket');
      }
    });
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<{ size: number }> {
    assertSafeKey(key);
    const contentType = options.contentType ?? 'application/octet-stream';
    if (body instanceof Uint8Array) {
      const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      const meta = { 'Content-Type': contentType, ...options.metadata, ...options.finalMetadata?.() };
      if (options.sha256 && !this.useSSL) {
        // A plain PutObject whose SigV4 payload hash is the sha256 the caller already computed, instead of putObject
        // hashing the bytes twice more (sha256 + md5). A wrong hash is refused by the server (XAmzContentSHA256Mismatch).
        const sha = options.sha256;
        await this.call(`put ${key}`, async () => {
          const res = await this.client.makeRequestStreamAsync(
            { method: 'PUT', bucketName: this.bucket, objectName: this.k(key), headers: { ...prependMeta(meta), 'Content-Length': buf.byteLength } },
            buf,
            sha,
            [200],
            this.region,
          );
          await new Promise<void>((resolve, reject) => res.on('data', () => {}).on('error', reject).on('end', resolve));
        });
        return { size: buf.byteLength };
      }
      await this.call(`put ${key}`, () => this.client.putObject(this.bucket, this.k(key), buf, buf.byteLength, meta));
      return { size: buf.byteLength };
    }
    const reader = new PartReader(body[Symbol.asyncIterator](), this.partSize);
    const first = (await reader.next()) ?? Buffer.alloc(0);
    if (reader.exhausted) {
      // The whole body fits in one part: one PUT, visible whole.
      const meta = { 'Content-Type': contentType, ...options.metadata, ...options.finalMetadata?.() };
      await this.call(`put ${key}`, () => this.client.putObject(this.bucket, this.k(key), first, first.byteLength, meta));
      return { size: first.byteLength };
    }
    const staged = options.finalMetadata !== undefined;
    // Staged uploads live under a dot-prefixed key: never a layout key, and hidden from list() like fs's .tmp.
    const target = staged ? this.k(`.uploads/${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`) : this.k(key);
    const size = await this.multipart(target, first, reader, { 'Content-Type': contentType, ...options.metadata });
    if (staged) {
      try {
        const meta = { ...options.metadata, ...options.finalMetadata!() }; // may throw: then nothing is published
        await this.call(`publish ${key}`, () =>
          this.client.copyObject(
            new CopySourceOptions({ Bucket: this.bucket, Object: target }),
            new CopyDestinationOptions({
              Bucket: this.bucket,
              Object: this.k(key),
              MetadataDirective: 'REPLACE',
              UserMetadata: meta,
              Headers: { 'Content-Type': contentType },
            }),
          ),
        );
      } finally {
        await this.client.removeObject(this.bucket, target).catch(() => undefined);
      }
    }
    return { size };
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    return this.call(`get ${key}`, () => this.client.getObject(this.bucket, this.k(key)), key);
  }

  async getBytes(key: string): Promise<Buffer> {
    return this.bytesOf(key, await this.get(key));
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    assertSafeKey(key);
    let stream: Readable;
    try {
      stream = await this.call(`get ${key}`, () => this.client.getPartialObject(this.bucket, this.k(key), offset, length), key);
    } catch (err) {
      // A range starting past the end: the object is shorter than asked, as the interface reports it.
      if ((err as { code?: string }).code === 'InvalidRange') return Buffer.alloc(0);
      throw err;
    }
    return this.bytesOf(key, stream);
  }

  private async bytesOf(key: string, stream: Readable): Promise<Buffer> {
    try {
      return await readAll(stream);
    } catch (err) {
      throw toStoreError(err, `read ${key}`, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    try {
      const st = await this.call(`stat ${key}`, () => this.client.statObject(this.bucket, this.k(key)), key);
      const metadata: Record<string, string> = {};
      let contentType = 'application/octet-stream';
      for (const [name, value] of Object.entries(st.metaData ?? {})) {
        const lower = name.toLowerCase();
        if (lower === 'content-type') contentType = String(value);
        else if (lower.startsWith('x-amz-meta-')) metadata[lower.slice('x-amz-meta-'.length)] = String(value);
        else if (!['content-length', 'etag', 'last-modified', 'date', 'server'].includes(lower) && !lower.startsWith('x-')) {
          metadata[lower] = String(value);
        }
      }
      return { key, size: st.size, modifiedMs: st.lastModified.getTime(), contentType, metadata };
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  async list(prefix: string, options: ListOptions): Promise<Page<ListedObject>> {
    const res = await this.call(`list ${prefix}`, () =>
      this.client.listObjectsV2Query(this.bucket, this.k(prefix), '', '', options.limit, options.startAfter ? this.k(options.startAfter) : ''),
    );
    const items: ListedObject[] = [];
    for (const o of res.objects) {
      if (o.name === undefined || o.name.startsWith(`${this.prefix}.`)) continue; // in-flight staged uploads
      items.push({ key: o.name.slice(this.prefix.length), size: o.size ?? 0, modifiedMs: o.lastModified?.getTime() ?? 0 });
    }
    return res.isTruncated && items.length > 0 ? { items, next: items[items.length - 1]!.key } : { items };
  }

  async listChildren(prefix: string, options: ListOptions): Promise<Page<string>> {
    assertSafeKey(prefix, { allowTrailingSlash: true });
    const full = this.k(prefix);
    const res = await this.call(`list ${prefix}`, () =>
      this.client.listObjectsV2Query(this.bucket, full, '', '/', options.limit, // '~' sorts after every character a key may contain, so this skips the whole previous prefix.
      options.startAfter ? `${full}${options.startAfter}/~` : ''),
    );
    const items = res.objects
      .map((o) => o.prefix)
      .filter((p): p is string => typeof p === 'string')
      .map((p) => p.slice(full.length).replace(/\/$/, ''));
    return res.isTruncated && items.length > 0 ? { items, next: items[items.length - 1]! } : { items };
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    keys.forEach((k) => assertSafeKey(k));
    let deleted = 0;
    // DeleteObjects takes up to 1000 keys; S3 reports missing keys as deleted, so count what existed via the caller.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => this.k(k));
      const res = await this.call('delete objects', () => this.client.removeObjects(this.bucket, batch));
      const failed = res.filter((r) => (r as { Code?: string }).Code !== undefined);
      if (failed.length > 0) {
        const f = failed[0] as { Code?: string; Message?: string };
        throw toStoreError(Object.assign(new Error(f.Message ?? 'delete failed'), { code: f.Code }), 'delete objects');
      }
      deleted += batch.length;
    }
    return deleted;
  }

  async presignGet(key: string, expirySeconds: number): Promise<string> {
    assertSafeKey(key);
    return this.call(`presign ${key}`, () => this.client.presignedGetObject(this.bucket, this.k(key), expirySeconds));
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  private async multipart(target: string, first: Buffer, reader: PartReader, headers: Record<string, string>): Promise<number> {
    const uploadId = await this.call(`start upload ${target}`, () =>
      this.client.initiateNewMultipartUpload(this.bucket, target, prependMeta(headers)),
    );
    const etags: { part: number; etag: string }[] = [];
    let size = 0;
    try {
      // Every part but the last is exactly partSize (S3 requires >= 5 MiB); reading the next part may throw
      // (e.g. a checksum mismatch at the end of the body), which aborts before anything is completed.
      for (let part: Buffer | undefined = first, n = 1; part !== undefined; part = await reader.next(), n++) {
        const payload = part;
        const partNumber = n;
        const res = await this.call(`upload part ${partNumber} of ${target}`, () =>
          this.client.uploadPart(
            { bucketName: this.bucket, objectName: target, uploadID: uploadId, partNumber, headers: { 'Content-Length': payload.byteLength } },
            payload,
          ),
        );
        etags.push({ part: partNumber, etag: res.etag });
        size += payload.byteLength;
      }
      await this.call(`complete upload ${target}`, () => this.client.completeMultipartUpload(this.bucket, target, uploadId, etags));
      return size;
    } catch (err) {
      await this.client.abortMultipartUpload(this.bucket, target, uploadId).catch(() => undefined);
      throw err;
    }
  }

  /** Runs one client call under a timeout and maps its failure. */
  private async call<T>(what: string, fn: () => Promise<T>, key?: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new StoreUnavailableError(`${what}: no answer from S3 within ${this.timeoutMs} ms`, 'ETIMEDOUT')),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      throw toStoreError(err, what, key);
    } finally {
      clearTimeout(timer);
    }
  }
}

function prependMeta(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const lower = k.toLowerCase();
    out[lower === 'content-type' || lower.startsWith('x-amz-') ? k : `X-Amz-Meta-${k}`] = v;
  }
  return out;
}

/** Cuts a chunk stream into parts of exactly `size` bytes (the last one may be shorter). */
class PartReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  exhausted = false;

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly size: number,
  ) {}

  /** The next part, or undefined when nothing is left. */
  async next(): Promise<Buffer | undefined> {
    while (!this.exhausted && this.pendingBytes < this.size) {
      const r = await this.it.next();
      if (r.done) {
        this.exhausted = true;
        break;
      }
      this.pending.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      this.pendingBytes += r.value.byteLength;
    }
    if (this.pendingBytes === 0) return undefined;
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const part = all.subarray(0, this.size);
    const rest = all.subarray(part.byteLength);
    this.pending = rest.byteLength > 0 ? [rest] : [];
    this.pendingBytes = rest.byteLength;
    return part;
  }
}
