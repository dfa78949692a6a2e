// The one interface both storage backends implement: a flat key → bytes store with S3 semantics.
// Keys are '/'-separated and built only by services/storage/layout.ts; stores re-check them (defence in depth).
// Visibility is atomic: a reader sees either no object or the whole object, never a partial write.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  modifiedMs: number;
  contentType: string;
  /** User metadata (lower-case names, without the x-amz-meta- prefix). */
  metadata: Record<string, string>;
}

export interface ListedObject {
  key: string;
  size: number;
  modifiedMs: number;
}

export interface ListOptions {
  /** Only keys strictly greater than this one (S3 StartAfter). */
  startAfter?: string;
  /** At most this many entries per page. */
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as startAfter for the next page; absent on the last page. */
  next?: string;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /**
   * Metadata only known once the whole body has been read (e.g. its sha256). Called after the body iterable is
   * exhausted and before the object becomes visible.
   */
  finalMetadata?: () => Record<string, string>;
  /** Hex sha256 of a byte body the caller has already hashed (content addressing); S3 request signing reuses it. */
  sha256?: string;
}

/**
 * Bodies are bytes or an async iterable of chunks. An iterable that throws (even after its last chunk, e.g. a
 * checksum mismatch detected at the end) aborts the put: nothing becomes visible.
 */
export type Body = Uint8Array | AsyncIterable<Uint8Array>;

export interface ObjectStore {
  readonly kind: 'fs' | 's3';
  /** Where the data lives, for logs and health messages (no credentials). */
  readonly location: string;
  /** Creates the directory or bucket when missing. */
  init(): Promise<void>;
  /** Cheap reachability check for the health probe; throws StoreUnavailableError. */
  ping(): Promise<void>;
  put(key: string, body: Body, options?: PutOptions): Promise<{ size: number }>;
  /** Throws ObjectNotFoundError. Stream errors are raw: pass them through toStoreError. */
  get(key: string): Promise<Readable>;
  getBytes(key: string): Promise<Buffer>;
  /** `length` bytes from `offset`, fewer when the object ends sooner. Throws ObjectNotFoundError. */
  getRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** undefined when the object does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Objects whose key starts with prefix, in key order, paged. */
  list(prefix: string, options: ListOptions): Promise<Page<ListedObject>>;
  /** The distinct next path segments below prefix (which must end in '/'), in order, paged. */
  listChildren(prefix: string, options: ListOptions): Promise<Page<string>>;
  /** Deletes the keys that exist; returns how many did. */
  deleteMany(keys: readonly string[]): Promise<number>;
  /** A time-limited URL for a plain HTTP GET; absent on backends that cannot issue one. */
  presignGet?(key: string, expirySeconds: number): Promise<string>;
  close(): Promise<void>;
}

/** The backend cannot be reached (connection refused, reset, timed out, disk gone...). Maps to UNAVAILABLE. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    message: string,
    /** Short machine-readable cause: ECONNREFUSED, ECONNRESET, ETIMEDOUT, NoSuchBucket, ... */
    readonly cause_: string,
  ) {
    super(message);
  }
}

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
  }
}

/** The backend refused a write for lack of space. Maps to RESOURCE_EXHAUSTED. */
export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=-]{0,254}$/;

/** Rejects any key that could escape its prefix or differ between backends. Layout builds keys that always pass. */
export function assertSafeKey(key: string, { allowTrailingSlash = false } = {}): void {
  const k = allowTrailingSlash && key.endsWith('/') ? key.slice(0, -1) : key;
  if (k === '' && allowTrailingSlash) return;
  if (k.length > 900 || !k.split('/').every((s) => SEGMENT.test(s))) {
    throw new Error(`unsafe object key ${JSON.stringify(key)}`);
  }
}

/** Collects a body into one buffer, enforcing a ceiling. */
export async function bodyToBuffer(body: Body): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  return Buffer.concat(parts);
}

/** Reads a stream fully. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
