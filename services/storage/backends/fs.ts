// Filesystem backend: the same key layout as S3, as files under one directory (the embedded default).
// Writes go to <root>/.tmp, are fsynced, then renamed into place, so a partial write is never visible.
// Content type and user metadata live in a sidecar <root>/.meta/<key>.json written before the rename.
// Names starting with '.' never occur in keys (assertSafeKey), so the two hidden trees can't collide with data.
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, access, constants } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  ObjectNotFoundError,
  StoreFullError,
  StoreUnavailableError,
  assertSafeKey,
  type Body,
  type ListOptions,
  type ListedObject,
  type ObjectInfo,
  type ObjectStore,
  type Page,
  type PutOptions,
} from './object-store.js';

interface Sidecar {
  contentType: string;
  metadata: Record<string, string>;
}

export class FsObjectStore implements ObjectStore {
  readonly kind = 'fs' as const;
  readonly location: string;
  private readonly tmpDir: string;
  private readonly metaDir: string;

  constructor(private readonly root: string) {
    this.location = `file://${root}`;
    this.tmpDir = join(root, '.tmp');
    this.metaDir = join(root, '.meta');
  }

  async init(): Promise<void> {
    await this.wrap(async () => {
      await mkdir(this.tmpDir, { recursive: true });
      await mkdir(this.metaDir, { recursive: true });
    });
  }

  async ping(): Promise<void> {
    await this.wrap(() => access(this.tmpDir, constants.W_OK));
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<{ size: number }> {
    assertSafeKey(key);
    return this.wrap(async () => {
      const tmp = join(this.tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`);
      const fh = await open(tmp, 'w', 0o644);
      let size = 0;
      try {
        try {
          if (body instanceof Uint8Array) {
            await fh.write(body);
            size = body.byteLength;
          } else {
            for await (const chunk of body) {
              await fh.write(chunk);
              size += chunk.byteLength;
            }
          }
          await fh.sync();
        } finally {
          await fh.close();
        }
        const sidecar: Sidecar = {
          contentType: options.contentType ?? 'application/octet-stream',
          metadata: { ...options.metadata, ...options.finalMetadata?.() },
        };
        const path = this.path(key);
        await mkdir(dirname(path), { recursive: true });
        await this.writeSidecar(key, sidecar);
        await rename(tmp, path);
        return { size };
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    const path = this.path(key);
    // Open first so a missing file is a clean ObjectNotFoundError rather than a stream error.
    const fh = await this.wrap(() => open(path, 'r'), key);
    return fh.createReadStream({ highWaterMark: 256 * 1024 });
  }

  async getBytes(key: string): Promise<Buffer> {
    assertSafeKey(key);
    return this.wrap(() => readFile(this.path(key)), key);
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    assertSafeKey(key);
    return this.wrap(async () => {
      const fh = await open(this.path(key), 'r');
      try {
        const buf = Buffer.allocUnsafe(length);
        let got = 0;
        for (let n = -1; got < length && n !== 0; got += n) n = (await fh.read(buf, got, length - got, offset + got)).bytesRead;
        return buf.subarray(0, got);
      } finally {
        await fh.close();
      }
    }, key);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    assertSafeKey(key);
    return this.wrap(async () => {
      let st;
      try {
        st = await stat(this.path(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
        throw err;
      }
      if (!st.isFile()) return undefined;
      const sidecar = await this.readSidecar(key);
      return { key, size: st.size, modifiedMs: st.mtimeMs, contentType: sidecar.contentType, metadata: sidecar.metadata };
    });
  }

  async list(prefix: string, options: ListOptions): Promise<Page<ListedObject>> {
    return this.wrap(async () => {
      const slash = prefix.lastIndexOf('/');
      const dirKey = prefix.slice(0, slash + 1);
      assertSafeKey(dirKey, { allowTrailingSlash: true });
      const items: ListedObject[] = [];
      const after = options.startAfter ?? '';
      let more = false;
      for await (const entry of this.walk(dirKey, prefix.slice(slash + 1), after)) {
        if (items.length === options.limit) {
          more = true;
          break;
        }
        items.push(entry);
      }
      return more ? { items, next: items[items.length - 1]!.key } : { items };
    });
  }

  async listChildren(prefix: string, options: ListOptions): Promise<Page<string>> {
    assertSafeKey(prefix, { allowTrailingSlash: true });
    return this.wrap(async () => {
      const names = (await this.readDirSorted(this.path(prefix)))
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        // Compare as S3 does, on the common prefix including its '/'.
        .filter((n) => options.startAfter === undefined || n + '/' > options.startAfter + '/');
      const items = names.slice(0, options.limit);
      return names.length > options.limit ? { items, next: items[items.length - 1]! } : { items };
    });
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    keys.forEach((k) => assertSafeKey(k));
    return this.wrap(async () => {
      let deleted = 0;
      for (const key of keys) {
        try {
          await unlink(this.path(key));
          deleted++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        await rm(this.sidecarPath(key), { force: true });
        await this.pruneEmptyDirs(dirname(this.path(key)), this.root);
        await this.pruneEmptyDirs(dirname(this.sidecarPath(key)), this.metaDir);
      }
      return deleted;
    });
  }

  async close(): Promise<void> {}

  private path(key: string): string {
    return join(this.root, ...key.split('/').filter(Boolean));
  }

  private sidecarPath(key: string): string {
    return join(this.metaDir, ...key.split('/')) + '.json';
  }

  private async writeSidecar(key: string, sidecar: Sidecar): Promise<void> {
    const path = this.sidecarPath(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(this.tmpDir, `meta-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.write(JSON.stringify(sidecar));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  private async readSidecar(key: string): Promise<Sidecar> {
    try {
      const parsed = JSON.parse(await readFile(this.sidecarPath(key), 'utf8')) as Partial<Sidecar>;
      return { contentType: parsed.contentType ?? 'application/octet-stream', metadata: parsed.metadata ?? {} };
    } catch {
      return { contentType: 'application/octet-stream', metadata: {} };
    }
  }

  private async readDirSorted(dir: string) {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw err;
    }
    // S3 orders by the whole key: a directory "a" sorts as "a/", so compare names with that suffix.
    const sortKey = (e: { name: string; isDirectory(): boolean }) => (e.isDirectory() ? e.name + '/' : e.name);
    return entries
      .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory()))
      .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  }

  /** Files below dirKey (ending in '/' or empty) whose first segment starts with namePrefix, in key order. */
  private async *walk(dirKey: string, namePrefix: string, after: string): AsyncGenerator<ListedObject> {
    for (const entry of await this.readDirSorted(this.path(dirKey))) {
      if (!entry.name.startsWith(namePrefix)) continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        const sub = key + '/';
        // Skip whole subtrees that sort entirely before `after`.
        if (after && sub < after && !after.startsWith(sub)) continue;
        yield* this.walk(sub, '', after);
      } else if (key > after) {
        const st = await stat(this.path(key)).catch(() => undefined);
        if (st) yield { key, size: st.size, modifiedMs: st.mtimeMs };
      }
    }
  }

  private async pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
    while (dir.startsWith(stopAt) && dir !== stopAt) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop
      }
      dir = dirname(dir);
    }
  }

  /** Maps filesystem failures to the store's error classes. */
  private async wrap<T>(fn: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (key !== undefined && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')) throw new ObjectNotFoundError(key);
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new StoreFullError(`storage directory ${this.root} is full (${code})`);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EIO' || code === 'ENOENT' || code === 'ENOTDIR') {
        throw new StoreUnavailableError(`storage directory ${this.root} is not usable (${code}: ${(err as Error).message})`, code);
      }
      throw err;
    }
  }
}
