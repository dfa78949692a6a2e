// The ObjectStore contract, run unchanged against the filesystem backend and a real MinIO.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsObjectStore } from '../../services/storage/backends/fs.js';
import { S3ObjectStore } from '../../services/storage/backends/s3.js';
import { readAll, StoreUnavailableError, type ObjectStore } from '../../services/storage/backends/object-store.js';
import { sharedMinio } from '../support/minio-shared.js';
import { startMinio, type MinioServer } from '../support/minio.js';

const MiB = 1024 * 1024;

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** A body that delivers all its bytes and then fails, as a checksum check at the end of a stream does. */
async function* failingAtEnd(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  yield* chunks(buf, size);
  throw new Error('checksum mismatch at end of body');
}

function s3Store(bucket: string, extra: { partSize?: number; prefix?: string } = {}): S3ObjectStore {
  const m = sharedMinio();
  return new S3ObjectStore({
    endPoint: m.host,
    port: m.port,
    useSSL: false,
    accessKey: m.accessKey,
    secretKey: m.secretKey,
    region: 'us-east-1',
    bucket,
    prefix: extra.prefix ?? '',
    partSize: extra.partSize ?? 5 * MiB,
  });
}

const backends: [string, () => ObjectStore][] = [
  ['fs', () => new FsObjectStore(mkdtempSync(join(tmpdir(), 'cxr-fs-store-')))],
  ['s3', () => s3Store(`cxr-backend-${randomBytes(4).toString('hex')}`, { prefix: 'pre/fix' })],
];

describe.each(backends)('ObjectStore contract: %s', (_name, make) => {
  let store: ObjectStore;
  beforeAll(async () => {
    store = make();
    await store.init();
    await store.init(); // idempotent
    await store.ping();
  });
  afterAll(async () => {
    await store.close();
    if (store instanceof FsObjectStore) rmSync(store.location.replace('file://', ''), { recursive: true, force: true });
  });

  it('puts, stats and gets bytes with content type and metadata', async () => {
    const data = randomBytes(1000);
    await store.put('a/b/one.bin', data, { contentType: 'application/x-test', metadata: { sha256: 'abc' } });
    const st = await store.stat('a/b/one.bin');
    expect(st).toMatchObject({ key: 'a/b/one.bin', size: 1000, contentType: 'application/x-test', metadata: { sha256: 'abc' } });
    expect((await store.getBytes('a/b/one.bin')).equals(data)).toBe(true);
    expect((await readAll(await store.get('a/b/one.bin'))).equals(data)).toBe(true);
    expect(await store.stat('a/b/missing.bin')).toBeUndefined();
    await expect(store.get('a/b/missing.bin')).rejects.toThrow(/not found: a\/b\/missing.bin/);
    await expect(store.getBytes('nope/x')).rejects.toThrow(/not found/);
  });

  it('overwrites atomically and applies metadata known only at the end', async () => {
    await store.put('ow/x', Buffer.from('first'));
    await store.put('ow/x', chunks(Buffer.from('second!'), 2), { finalMetadata: () => ({ sha256: 'late' }) });
    expect((await store.getBytes('ow/x')).toString()).toBe('second!');
    expect((await store.stat('ow/x'))?.metadata.sha256).toBe('late');
  });

  it('streams a multi-part body (above the S3 part size) and reads it back intact', async () => {
    const big = randomBytes(12 * MiB + 12345);
    const digest = createHash('sha256').update(big).digest('hex');
    await store.put('big/blob.bin', chunks(big, 1 * MiB), { finalMetadata: () => ({ sha256: digest }) });
    const st = await store.stat('big/blob.bin');
    expect(st?.size).toBe(big.length);
    expect(st?.metadata.sha256).toBe(digest);
    const back = await readAll(await store.get('big/blob.bin'));
    expect(createHash('sha256').update(back).digest('hex')).toBe(digest);
  });

  it('a body that fails, small or multi-part, leaves nothing visible', async () => {
    await expect(store.put('fail/small', failingAtEnd(randomBytes(5000), 1000))).rejects.toThrow(/checksum/);
    await expect(store.put('fail/big', failingAtEnd(randomBytes(11 * MiB), MiB))).rejects.toThrow(/checksum/);
    await expect(
      store.put('fail/big2', failingAtEnd(randomBytes(11 * MiB), MiB), { finalMetadata: () => ({ a: 'b' }) }),
    ).rejects.toThrow(/checksum/);
    expect(await store.stat('fail/small')).toBeUndefined();
    expect(await store.stat('fail/big')).toBeUndefined();
    expect((await store.list('fail/', { limit: 10 })).items).toEqual([]);
    if (store instanceof FsObjectStore) {
      expect(readdirSync(join(store.location.replace('file://', ''), '.tmp'))).toEqual([]);
    }
  });

  it('lists by prefix in key order with paging, and lists child names', async () => {
    const keys = ['l/a/1', 'l/a/2', 'l/a-b/3', 'l/b/x/4', 'l/b/y', 'l/c'];
    for (const k of [...keys].reverse()) await store.put(k, Buffer.from(k));
    const all = (await store.list('l/', { limit: 100 })).items.map((o) => o.key);
    expect(all).toEqual([...keys].sort());
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await store.list('l/', { limit: 4, startAfter: after });
      seen.push(...page.items.map((o) => o.key));
      if (!page.next) break;
      after = page.next;
    }
    expect(seen).toEqual(all);
    expect((await store.list('l/a', { limit: 100 })).items.map((o) => o.key)).toEqual(['l/a-b/3', 'l/a/1', 'l/a/2']);
    expect((await store.list('l/a/', { limit: 100, startAfter: 'l/a/1' })).items.map((o) => o.key)).toEqual(['l/a/2']);
    // S3 orders common prefixes with their '/': "a-b/" < "a/".
    expect((await store.listChildren('l/', { limit: 100 })).items).toEqual(['a-b', 'a', 'b']);
    const p1 = await store.listChildren('l/', { limit: 2 });
    expect(p1).toEqual({ items: ['a-b', 'a'], next: 'a' });
    expect((await store.listChildren('l/', { limit: 2, startAfter: p1.next })).items).toEqual(['b']);
    expect((await store.listChildren('none/', { limit: 2 })).items).toEqual([]);
  });

  it('deletes many keys and prunes them from listings', async () => {
    await store.put('d/1', Buffer.from('1'));
    await store.put('d/sub/2', Buffer.from('2'));
    await store.deleteMany(['d/1', 'd/sub/2', 'd/never']);
    expect((await store.list('d/', { limit: 10 })).items).toEqual([]);
    expect((await store.listChildren('d/', { limit: 10 })).items).toEqual([]);
  });

  it('refuses unsafe keys', async () => {
    for (const bad of ['../x', 'a/../b', '/abs', 'a//b', 'a/.hidden', 'a\\b', '', 'a/b/']) {
      await expect(store.put(bad, Buffer.from('x'))).rejects.toThrow(/unsafe object key/);
    }
  });
});

describe('S3ObjectStore specifics', () => {
  it('a put with a precomputed sha256 signs with it; a wrong one is refused by the server and stores nothing', async () => {
    const store = s3Store(`cxr-sha-${randomBytes(4).toString('hex')}`);
    await store.init();
    const data = randomBytes(4000);
    await store.put('s/ok.png', data, { contentType: 'image/png', metadata: { k: 'v' }, sha256: createHash('sha256').update(data).digest('hex') });
    expect(await store.stat('s/ok.png')).toMatchObject({ size: 4000, contentType: 'image/png', metadata: { k: 'v' } });
    expect((await store.getBytes('s/ok.png')).equals(data)).toBe(true);
    await expect(store.put('s/bad.png', data, { sha256: 'f'.repeat(64) })).rejects.toThrow(/SHA256|sha256|content/i);
    expect(await store.stat('s/bad.png')).toBeUndefined();
    await store.close();
  });

  it('presigned GET URLs serve the bytes over plain HTTP', async () => {
    const store = s3Store(`cxr-presign-${randomBytes(4).toString('hex')}`);
    await store.init();
    const data = randomBytes(3000);
    await store.put('p/q.png', data, { contentType: 'image/png' });
    const url = await store.presignGet('p/q.png', 60);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
    await store.close();
  });

  it('a stopped server is reported as unavailable, naming the cause; it recovers when started', async () => {
    let server: MinioServer | undefined;
    try {
      server = await startMinio();
      const store = new S3ObjectStore({
        endPoint: server.host, port: server.port, useSSL: false, accessKey: server.accessKey,
        secretKey: server.secretKey, region: 'us-east-1', bucket: 'fault', prefix: '',
      });
      await store.init();
      await store.put('k', Buffer.from('v'));
      await server.stop('SIGKILL');
      const err = await store.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as Error).message).toMatch(/ECONNREFUSED|ECONNRESET/);
      await expect(store.put('k2', Buffer.from('v'))).rejects.toBeInstanceOf(StoreUnavailableError);
      await server.start();
      await store.ping();
      expect((await store.getBytes('k')).toString()).toBe('v');
      await store.close();
    } finally {
      await server?.dispose();
    }
  });
});
