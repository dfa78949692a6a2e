// StorageService over real gRPC on loopback, one suite run against both backends: the filesystem and a real MinIO.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import { encode as fastEncode } from 'fast-png';
import { callClientStream, callUnary } from '../../shared/grpc/index.js';
import { CollectionKind, Finding, Split, type ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import { StorageClient } from '../../shared/clients/storage.js';
import { BlobNamespace, CollectionState } from '../../shared/proto/cxrsynth/v1/storage.js';
import { HealthCheckResponse_ServingStatus as Serving } from '../../shared/proto/grpc/health/v1/health.js';
import { listAll } from '../../services/storage/util.js';
import { Registry } from '../../shared/prom/registry.js';
import { sharedMinio } from '../support/minio-shared.js';
import { startMinio, type MinioServer } from '../support/minio.js';
import {
  dataset, getBlob, getImage, getImages, grpcError, imageMessages, putBlob, putImages, servingStatus, startStorage, syntheticSet,
  testPng, waitForHealth, type StorageHarness,
} from '../support/minio-storage.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MAX_IMAGE_BYTES = 200_000;
const MAX_IMAGE_PIXELS = 1_000_000;

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** A PNG whose header claims width×height but carries almost no data: the decompression-bomb shape. */
function claimingPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(100))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

const backends = ['fs', 's3'] as const;

describe.each(backends)('StorageService over gRPC: %s backend', (backend) => {
  let h: StorageHarness;
  const registry = new Registry();
  const bucket = `cxr-svc-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    h = await startStorage({
      backend,
      minio: backend === 's3' ? sharedMinio() : undefined,
      bucket,
      maxImageBytes: MAX_IMAGE_BYTES,
      maxImagePixels: MAX_IMAGE_PIXELS,
      s3PartSize: 5 * MiB,
      probeIntervalMs: 500,
      manifestCacheMs: 0, // every read re-reads and re-verifies its manifest
      packBytes: 64 * 1024, // small packs: a stream of a few 40 KB images fills several
      registry,
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Every key the backend holds under a prefix (to prove nothing was stored). */
  const keys = async (prefix: string) => (await listAll(h.service.store, prefix)).map((o) => o.key);

  it('answers health SERVING once the backend is reachable', async () => {
    await waitForHealth(h, Serving.SERVING);
    expect(await servingStatus(h)).toBe(Serving.SERVING);
  });

  it('dataset round trip: create → put (streams, chunks, duplicates) → commit → get/list/page → get image → splits → delete', async () => {
    const id = 'rt-1';
    const created = await callUnary(h.client, 'createDataset', { datasetId: id, description: 'round trip', source: 'phantom' });
    expect(created).toMatchObject({ datasetId: id, state: CollectionState.OPEN, imageCount: 0, source: 'phantom' });
    const imgs = [
      { png: testPng(1), finding: Finding.HEALTHY, patientId: 'p-1' },
      { png: testPng(2, 40, 30, 16), finding: Finding.VIRAL, patientId: 'p-1' },
      { png: testPng(3, 64, 64), finding: Finding.BACTERIAL, patientId: 'p-2', split: Split.TEST },
    ];
    // Small chunks: one image spans many messages.
    const r1 = await putImages(h, dataset(id), imgs, 700);
    expect(r1.stored).toBe(3);
    expect(r1.duplicates).toBe(0);
    expect(r1.images.map((i) => i.sha256).sort()).toEqual(imgs.map((i) => sha(i.png)).sort());
    const r16 = r1.images.find((i) => i.sha256 === sha(imgs[1]!.png))!;
    expect(r16).toMatchObject({ width: 40, height: 30, bitDepth: 16, finding: Finding.VIRAL, patientId: 'p-1', sizeBytes: imgs[1]!.png.length });
    // A second stream: one new image, one already recorded, one repeated within the stream.
    const extra = { png: testPng(4), finding: Finding.COVID19, patientId: 'p-3', sha256: sha(testPng(4)) };
    const r2 = await putImages(h, dataset(id), [extra, imgs[0]!, extra]);
    expect(r2).toMatchObject({ stored: 1, duplicates: 2 });
    // A header in a message of its own, its bytes in the messages after it, is the same image.
    const [alone, ...rest] = [...imageMessages(dataset(id), [imgs[2]!], 500)];
    const r3 = await callClientStream(h.client, 'putImages', [{ header: alone!.header, chunk: Buffer.alloc(0) }, { chunk: alone!.chunk }, ...rest]);
    expect(r3).toMatchObject({ stored: 0, duplicates: 1 });

    const open = await callUnary(h.client, 'getDataset', { datasetId: id });
    expect(open).toMatchObject({ state: CollectionState.OPEN, imageCount: 4, committedUnixMs: 0 });
    // Not visible to readers until committed.
    expect((await callUnary(h.client, 'listDatasets', { pageSize: 0, pageToken: '' })).datasets.map((d) => d.datasetId)).not.toContain(id);
    const early = await grpcError(callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: 0, findings: [] }, pageSize: 0, pageToken: '' }));
    expect(early.code).toBe(status.FAILED_PRECONDITION);
    expect(early.details).toMatch(/not committed/);
    expect(await keys(`datasets/${id}/manifest.json`)).toEqual([]);

    const committed = await callUnary(h.client, 'commitDataset', { datasetId: id });
    expect(committed).toMatchObject({ state: CollectionState.COMMITTED, imageCount: 4, patientCount: 3 });
    expect(committed.committedUnixMs).toBeGreaterThan(0);
    expect(committed.counts).toContainEqual({ split: Split.TEST, finding: Finding.BACTERIAL, count: 1 });
    expect(await keys(`staging/datasets/${id}/`)).toEqual([]); // staging cleaned up

    const again = await grpcError(callUnary(h.client, 'commitDataset', { datasetId: id }));
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(again.details).toMatch(/already committed/);
    const more = await grpcError(putImages(h, dataset(id), [{ png: testPng(9) }]));
    expect(more.code).toBe(status.FAILED_PRECONDITION);
    expect(more.details).toMatch(/is committed/);
    const dup = await grpcError(callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' }));
    expect(dup.code).toBe(status.ALREADY_EXISTS);

    // Images: list, filter, page.
    const all = await callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: 0, findings: [] }, pageSize: 0, pageToken: '' });
    expect(all.totalSize).toBe(4);
    const shas = all.images.map((i) => i.sha256);
    expect(shas).toEqual([...shas].sort());
    const paged: string[] = [];
    let token = '';
    do {
      const page = await callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: 0, findings: [] }, pageSize: 3, pageToken: token });
      expect(page.images.length).toBeLessThanOrEqual(3);
      paged.push(...page.images.map((i) => i.sha256));
      token = page.nextPageToken;
    } while (token !== '');
    expect(paged).toEqual(shas);
    const viral = await callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: 0, findings: [Finding.VIRAL, Finding.COVID19] }, pageSize: 0, pageToken: '' });
    expect(viral.images.map((i) => i.finding).sort()).toEqual([Finding.VIRAL, Finding.COVID19].sort());
    const test = await callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: Split.TEST, findings: [] }, pageSize: 0, pageToken: '' });
    expect(test.images.map((i) => i.sha256)).toEqual([sha(imgs[2]!.png)]);

    // Image bytes come back identical, in the header's own message (the image is under 1 MiB).
    const got = await getImage(h, dataset(id), sha(imgs[1]!.png));
    expect(got.bytes.equals(imgs[1]!.png)).toBe(true);
    expect(got.header).toMatchObject({ sha256: sha(imgs[1]!.png), bitDepth: 16, collection: dataset(id) });
    expect(got.messages).toBe(1);

    // Splits: every image assigned, k folds.
    const splits = await callUnary(h.client, 'setSplits', {
      datasetId: id,
      folds: 2,
      seed: 7,
      assignments: shas.map((s, i) => ({ sha256: s, split: i === 0 ? Split.TEST : Split.TRAIN, fold: i === 0 ? 0 : (i % 2) + 1 })),
    });
    expect(splits).toMatchObject({ folds: 2, splitSeed: 7 });
    const train = await callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: Split.TRAIN, findings: [] }, pageSize: 0, pageToken: '' });
    expect(train.images.map((i) => i.sha256)).toEqual(shas.slice(1));
    expect(train.images.map((i) => i.fold)).toEqual([2, 1, 2]);
    const partial = await grpcError(callUnary(h.client, 'setSplits', { datasetId: id, folds: 0, seed: 0, assignments: [{ sha256: shas[0]!, split: Split.TRAIN, fold: 0 }] }));
    expect(partial.code).toBe(status.INVALID_ARGUMENT);
    expect(partial.details).toMatch(/every image must be assigned/);

    // Stored: the manifest and one pack for each of the two streams that added images.
    const stored = (await keys(`datasets/${id}/`)).map((k) => k.replace(/\/packs\/[0-9a-z-]+\.tar$/, '/packs/*.tar'));
    expect(stored).toEqual([`datasets/${id}/manifest.json`, `datasets/${id}/packs/*.tar`, `datasets/${id}/packs/*.tar`]);
    // Delete: gone for readers and from the store.
    const del = await callUnary(h.client, 'deleteDataset', { datasetId: id });
    expect(del.deletedObjects).toBe(3);
    expect((await grpcError(callUnary(h.client, 'getDataset', { datasetId: id }))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(getImage(h, dataset(id), shas[0]!))).code).toBe(status.NOT_FOUND);
    expect(await keys(`datasets/${id}/`)).toEqual([]);
  });

  it('counts its pack I/O on its Prometheus registry: packs written, ranged reads, the bytes each carried', async () => {
    const names = ['pack_writes', 'pack_write_bytes', 'pack_reads', 'pack_read_bytes', 'images_served', 'image_served_bytes'];
    const read = async () => {
      const values = await Promise.all(names.map(async (n) => (await registry.getSingleMetric(`cxr_synth_storage_${n}_total`)!.get()).values[0]?.value ?? 0));
      return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
    };
    const id = 'metered';
    await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
    // Two 40 KB images fill the first 64 KiB pack; the third goes into a second one, written as the stream ends.
    const pngs = [testPng(400, 200, 200), testPng(401, 200, 200), testPng(402, 200, 200)];
    const before = await read();
    await putImages(h, dataset(id), pngs.map((png) => ({ png })));
    await callUnary(h.client, 'commitDataset', { datasetId: id });
    const written = await read();
    const packs = await listAll(h.service.store, `datasets/${id}/packs/`);
    expect(written.pack_writes! - before.pack_writes!).toBe(2);
    expect(written.pack_write_bytes! - before.pack_write_bytes!).toBe(packs.reduce((sum, p) => sum + p.size, 0));
    let got = 0;
    for await (const _image of new StorageClient(h.client).getImages(dataset(id), pngs.map(sha))) got++;
    expect(got).toBe(3);
    const after = await read();
    const imageBytes = pngs.reduce((sum, p) => sum + p.byteLength, 0);
    expect(after.pack_reads! - written.pack_reads!).toBe(2); // one coalesced read per pack
    expect(after.images_served! - written.images_served!).toBe(3);
    expect(after.image_served_bytes! - written.image_served_bytes!).toBe(imageBytes);
    // The first read runs through the tar header and padding between its two images: more bytes, under a KiB more.
    const readBytes = after.pack_read_bytes! - written.pack_read_bytes!;
    expect(readBytes).toBeGreaterThan(imageBytes);
    expect(readBytes).toBeLessThanOrEqual(imageBytes + 1024);
    await callUnary(h.client, 'deleteDataset', { datasetId: id });
  });

  it('GetImages streams many images in one call, each header naming its image', async () => {
    const id = 'batch-read';
    await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
    const pngs = Array.from({ length: 40 }, (_, i) => testPng(500 + i, 20 + i, 30));
    const put = await putImages(h, dataset(id), pngs.map((png) => ({ png })));
    await callUnary(h.client, 'commitDataset', { datasetId: id });
    const wanted = [...put.images.map((i) => i.sha256).reverse(), put.images[0]!.sha256];
    const got = await getImages(h, dataset(id), wanted);
    expect(got.map((g) => g.header.sha256).sort()).toEqual([...wanted].sort());
    for (const g of got) {
      expect(sha(g.bytes)).toBe(g.header.sha256);
      expect(g.bytes.length).toBe(g.header.sizeBytes);
    }
    const unknown = await grpcError(getImages(h, dataset(id), [wanted[0]!, 'd'.repeat(64)]));
    expect(unknown.code).toBe(status.NOT_FOUND);
    expect((await grpcError(getImages(h, dataset(id), []))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(getImages(h, dataset(id), ['../x']))).code).toBe(status.INVALID_ARGUMENT);
    await callUnary(h.client, 'deleteDataset', { datasetId: id });
  });

  it('StorageClient.getImages reads in bulk: several calls at once, every image once and intact, abort and unknown images fail the read', async () => {
    const reader = new StorageClient(h.client);
    const stored = new Map<string, Buffer>();
    const refs: ImageRef[] = [];
    for (const [id, count] of [['bulk-a', 23], ['bulk-b', 4]] as const) {
      await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
      const pngs = Array.from({ length: count }, (_, i) => testPng(700 + i + (id === 'bulk-b' ? 100 : 0), 18 + i, 12));
      const put = await putImages(h, dataset(id), pngs.map((png) => ({ png })));
      await callUnary(h.client, 'commitDataset', { datasetId: id });
      put.images.forEach((ref, i) => stored.set(ref.sha256, pngs[i]!));
      refs.push(...put.images);
    }
    const a = refs.slice(0, 23).map((r) => r.sha256);
    const got: string[] = [];
    // 23 images in batches of 5 over 3 calls at a time: five calls, merged as they arrive.
    for await (const { header, png } of reader.getImages(dataset('bulk-a'), a, { batch: 5, calls: 3 })) {
      expect(png.equals(stored.get(header.sha256)!)).toBe(true);
      expect(header.collection).toEqual(dataset('bulk-a'));
      got.push(header.sha256);
    }
    expect(got.sort()).toEqual([...a].sort());

    // Across collections, a ref named twice is read once.
    const across: string[] = [];
    for await (const { header } of reader.getImagesOf([...refs, refs[0]!], { batch: 10 })) across.push(`${header.collection!.id}/${header.sha256}`);
    expect(across.sort()).toEqual(refs.map((r) => `${r.collection!.id}/${r.sha256}`).sort());
    // mapImages answers in the order of the refs asked for, repeats included.
    const picked = [refs[25]!, refs[3]!, refs[25]!, refs[0]!];
    expect(await reader.mapImages(picked, ({ png }) => sha(png))).toEqual(picked.map((r) => r.sha256));

    const stop = new AbortController();
    const aborted = (async () => {
      for await (const _image of reader.getImages(dataset('bulk-a'), a, { batch: 2, calls: 1, signal: stop.signal })) stop.abort(new Error('caller stopped'));
    })();
    await expect(aborted).rejects.toThrow('caller stopped');
    const unknown = await grpcError((async () => {
      for await (const _image of reader.getImages(dataset('bulk-a'), [a[0]!, 'e'.repeat(64)]));
    })());
    expect(unknown.code).toBe(status.NOT_FOUND);
    for (const id of ['bulk-a', 'bulk-b']) await callUnary(h.client, 'deleteDataset', { datasetId: id });
  });

  it('lists committed datasets in pages', async () => {
    for (const id of ['pg-a', 'pg-b', 'pg-c', 'pg-open']) {
      await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
      await putImages(h, dataset(id), [{ png: testPng(id.charCodeAt(3)) }]);
      if (id !== 'pg-open') await callUnary(h.client, 'commitDataset', { datasetId: id });
    }
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await callUnary(h.client, 'listDatasets', { pageSize: 2, pageToken: token });
      expect(page.datasets.length).toBeLessThanOrEqual(2);
      seen.push(...page.datasets.map((d) => d.datasetId));
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 10);
    expect(seen.filter((s) => s.startsWith('pg-'))).toEqual(['pg-a', 'pg-b', 'pg-c']);
    expect(pages).toBeGreaterThanOrEqual(2);
    const open = await callUnary(h.client, 'deleteDataset', { datasetId: 'pg-open' });
    expect(open.deletedObjects).toBeGreaterThanOrEqual(2); // image + staging records
  });

  it('synthetic set round trip keeps its provenance', async () => {
    const provenance = { modelKind: 'gan', modelId: 'gan-viral-1', checkpointStep: 432000, seed: 42, finding: Finding.VIRAL, backend: 'cpu', params: { truncation: '0.7' } };
    const created = await callUnary(h.client, 'createSyntheticSet', { setId: 'syn-1', description: 'gan samples', provenance });
    expect(created).toMatchObject({ setId: 'syn-1', state: CollectionState.OPEN, provenance });
    const put = await putImages(h, syntheticSet('syn-1'), [0, 1, 2].map((i) => ({ png: testPng(100 + i), finding: Finding.VIRAL, patientId: '', split: Split.TRAIN })));
    expect(put.stored).toBe(3);
    const committed = await callUnary(h.client, 'commitSyntheticSet', { setId: 'syn-1' });
    expect(committed).toMatchObject({ state: CollectionState.COMMITTED, imageCount: 3, provenance });
    expect((await callUnary(h.client, 'listSyntheticSets', { pageSize: 0, pageToken: '' })).sets.map((s) => s.setId)).toContain('syn-1');
    const img = await getImage(h, syntheticSet('syn-1'), put.images[0]!.sha256);
    expect(sha(img.bytes)).toBe(put.images[0]!.sha256);
    expect((await grpcError(callUnary(h.client, 'commitSyntheticSet', { setId: 'syn-1' }))).code).toBe(status.FAILED_PRECONDITION);
    const noProv = await grpcError(callUnary(h.client, 'createSyntheticSet', { setId: 'syn-2', description: '' }));
    expect(noProv.code).toBe(status.INVALID_ARGUMENT);
    expect(noProv.details).toMatch(/provenance is required/);
    expect((await callUnary(h.client, 'deleteSyntheticSet', { setId: 'syn-1' })).deletedObjects).toBe(2); // manifest + 1 pack
    expect((await grpcError(callUnary(h.client, 'getSyntheticSet', { setId: 'syn-1' }))).code).toBe(status.NOT_FOUND);
  });

  it('blobs: a multi-MiB blob streams in ≤ 1 MiB chunks both ways (multipart on S3), lists, stats, deletes', async () => {
    const big = randomBytes(12 * MiB + 777);
    const ref = { namespace: BlobNamespace.MODELS, path: 'gan/m-1/1000/weights.bin' };
    const put = await putBlob(h, ref, big, { sha256: sha(big) });
    expect(put).toMatchObject({ ref, sizeBytes: big.length, sha256: sha(big), contentType: 'application/octet-stream' });
    const back = await getBlob(h, ref);
    expect(back.header).toMatchObject({ sizeBytes: big.length, sha256: sha(big) });
    expect(back.maxChunk).toBeLessThanOrEqual(MiB);
    expect(back.bytes.equals(big)).toBe(true);
    // Without a caller checksum the service computes one.
    const json = Buffer.from('{"format":"layers-model"}');
    const putJson = await putBlob(h, { namespace: BlobNamespace.MODELS, path: 'gan/m-1/1000/model.json' }, json, { contentType: 'application/json', sha256: '' });
    expect(putJson.sha256).toBe(sha(json));
    await putBlob(h, { namespace: BlobNamespace.MODELS, path: 'gan/m-1/2000/model.json' }, json);
    await putBlob(h, { namespace: BlobNamespace.MODELS, path: 'gan/m-10/1/model.json' }, json);
    const stat = await callUnary(h.client, 'statBlob', { ref: { namespace: BlobNamespace.MODELS, path: 'gan/m-1/1000/model.json' } });
    expect(stat).toMatchObject({ sizeBytes: json.length, contentType: 'application/json', sha256: sha(json) });
    const listed: string[] = [];
    let token = '';
    do {
      const page = await callUnary(h.client, 'listBlobs', { namespace: BlobNamespace.MODELS, prefix: 'gan/m-1', pageSize: 2, pageToken: token });
      listed.push(...page.blobs.map((b) => b.ref!.path));
      token = page.nextPageToken;
    } while (token !== '');
    // Whole segments: gan/m-10 is not under gan/m-1.
    expect(listed).toEqual(['gan/m-1/1000/model.json', 'gan/m-1/1000/weights.bin', 'gan/m-1/2000/model.json']);
    await callUnary(h.client, 'deleteBlob', { ref });
    expect((await grpcError(callUnary(h.client, 'statBlob', { ref }))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(getBlob(h, ref))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(callUnary(h.client, 'deleteBlob', { ref }))).code).toBe(status.NOT_FOUND);
  });

  it('blob puts that end wrong store nothing', async () => {
    const ref = { namespace: BlobNamespace.ASSESSMENTS, path: 'a-1/report.md' };
    const data = randomBytes(3 * MiB);
    const wrongSha = await grpcError(putBlob(h, ref, data, { sha256: sha(Buffer.from('other')) }));
    expect(wrongSha.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongSha.details).toMatch(/do not match header.sha256/);
    const short = await grpcError(putBlob(h, ref, data, { sizeBytes: data.length + 10 }));
    expect(short.code).toBe(status.INVALID_ARGUMENT);
    expect(short.details).toMatch(/ended after 3145728 bytes/);
    const long = await grpcError(putBlob(h, ref, data, { sizeBytes: 1000 }));
    expect(long.code).toBe(status.INVALID_ARGUMENT);
    expect(long.details).toMatch(/more bytes than header.size_bytes/);
    const bigMultipart = await grpcError(putBlob(h, { namespace: BlobNamespace.ASSESSMENTS, path: 'a-1/big.bin' }, randomBytes(11 * MiB), { sha256: '0'.repeat(64) }));
    expect(bigMultipart.code).toBe(status.INVALID_ARGUMENT);
    expect(await keys('assessments/')).toEqual([]);
    const noHeader = await grpcError(callClientStream(h.client, 'putBlob', [{ item: { $case: 'chunk' as const, chunk: Buffer.from('x') } }]));
    expect(noHeader.code).toBe(status.INVALID_ARGUMENT);
    expect(noHeader.details).toMatch(/must start with a header/);
  });

  it('presigned GET: the URL serves the bytes on S3; the filesystem backend refuses with a reason', async () => {
    await callUnary(h.client, 'createDataset', { datasetId: 'presign', description: '', source: '' });
    const png = testPng(55);
    await putImages(h, dataset('presign'), [{ png }]);
    await callUnary(h.client, 'commitDataset', { datasetId: 'presign' });
    const blobRef = { namespace: BlobNamespace.FEATURES, path: 'inception/real.json' };
    await putBlob(h, blobRef, Buffer.from('{"mu":[]}'));
    const imageReq = { target: { $case: 'image' as const, image: { collection: dataset('presign'), sha256: sha(png) } }, expirySeconds: 60 };
    if (backend === 's3') {
      const res = await callUnary(h.client, 'presignGet', imageReq);
      expect(res.expiresUnixMs).toBeGreaterThan(Date.now());
      const body = Buffer.from(await (await fetch(res.url)).arrayBuffer());
      expect(body.equals(png)).toBe(true);
      const blob = await callUnary(h.client, 'presignGet', { target: { $case: 'blob', blob: blobRef }, expirySeconds: 0 });
      expect(await (await fetch(blob.url)).text()).toBe('{"mu":[]}');
    } else {
      const err = await grpcError(callUnary(h.client, 'presignGet', imageReq));
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toMatch(/presigned URLs need an S3 backend/);
    }
    const missing = await grpcError(callUnary(h.client, 'presignGet', { target: { $case: 'image', image: { collection: dataset('presign'), sha256: 'a'.repeat(64) } }, expirySeconds: 60 }));
    expect(missing.code).toBe(status.NOT_FOUND);
    const badExpiry = await grpcError(callUnary(h.client, 'presignGet', { ...imageReq, expirySeconds: -5 }));
    expect(badExpiry.code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(callUnary(h.client, 'presignGet', { expirySeconds: 1 }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('an upload the client cuts off midway records nothing', async () => {
    const id = 'cut-off';
    await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
    const controller = new AbortController();
    const until = async (done: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 10_000; !(await done()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    };
    const packs = () => keys(`datasets/${id}/packs/`);
    async function* upload() {
      // Two 40 KB images fill a 64 KiB pack, which the server writes at once.
      yield* imageMessages(dataset(id), [{ png: testPng(90, 200, 200) }, { png: testPng(91, 200, 200) }, { png: testPng(92) }]);
      const png = testPng(93, 64, 64);
      const [header] = imageMessages(dataset(id), [{ png }], 100); // the header with 100 bytes, then the client goes away
      yield header!;
      await until(async () => (await packs()).length > 0);
      expect(await packs()).toHaveLength(1);
      controller.abort();
    }
    const err = await grpcError(callClientStream(h.client, 'putImages', upload(), { signal: controller.signal }));
    expect(err.code).toBe(status.CANCELLED);
    // The server notices the cancellation and removes the pack it wrote; nothing of the stream is recorded.
    await until(async () => (await packs()).length === 0);
    expect(await packs()).toEqual([]);
    expect(await callUnary(h.client, 'getDataset', { datasetId: id })).toMatchObject({ state: CollectionState.OPEN, imageCount: 0 });
    expect((await grpcError(callUnary(h.client, 'commitDataset', { datasetId: id }))).details).toMatch(/has no images/);
  });

  it('integrity is checked on read: a tampered image or manifest → DATA_LOSS, never wrong bytes', async () => {
    const id = 'tamper';
    await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
    const png = testPng(77);
    await putImages(h, dataset(id), [{ png }, { png: testPng(78) }]);
    await callUnary(h.client, 'commitDataset', { datasetId: id });
    expect((await getImage(h, dataset(id), sha(png))).bytes.equals(png)).toBe(true);
    // Someone changes the stored pack behind the service's back: one byte of one image, then the pack's tail.
    const [packKey, ...others] = await keys(`datasets/${id}/packs/`);
    expect(others).toEqual([]);
    const pack = await h.service.store.getBytes(packKey!);
    const at = pack.indexOf(png);
    expect(at).toBeGreaterThan(0);
    const flipped = Buffer.from(pack);
    flipped[at + 40]! ^= 0x01;
    await h.service.store.put(packKey!, flipped);
    const bad = await grpcError(getImage(h, dataset(id), sha(png)));
    expect(bad.code).toBe(status.DATA_LOSS);
    expect(bad.details).toMatch(/image [0-9a-f]{64} of tamper failed its integrity check \(sha256 mismatch\)/);
    expect((await getImage(h, dataset(id), sha(testPng(78)))).bytes.equals(testPng(78))).toBe(true); // its neighbour is intact
    await h.service.store.put(packKey!, pack.subarray(0, at + 10));
    const short = await grpcError(getImage(h, dataset(id), sha(png)));
    expect(short.code).toBe(status.DATA_LOSS);
    expect(short.details).toMatch(new RegExp(`pack [0-9a-z-]+ holds 10 of its ${png.byteLength} bytes`));
    await h.service.store.deleteMany([packKey!]);
    const gone = await grpcError(getImage(h, dataset(id), sha(png)));
    expect(gone.code).toBe(status.DATA_LOSS);
    expect(gone.details).toMatch(/listed in the manifest of tamper but its pack [0-9a-z-]+ is missing/);
    const manifestKey = `datasets/${id}/manifest.json`;
    const manifest = await h.service.store.getBytes(manifestKey);
    await h.service.store.put(manifestKey, Buffer.from(manifest.toString().replace('"patientId":"p-1"', '"patientId":"p-9"')));
    const badManifest = await grpcError(callUnary(h.client, 'getDataset', { datasetId: id }));
    expect(badManifest.code).toBe(status.DATA_LOSS);
    expect(badManifest.details).toMatch(/manifest of dataset tamper failed its integrity check/);
    await h.service.store.put(manifestKey, Buffer.from('{"not":"json'));
    expect((await grpcError(callUnary(h.client, 'listImages', { selection: { collection: dataset(id), split: 0, findings: [] }, pageSize: 0, pageToken: '' }))).code).toBe(status.DATA_LOSS);
    await callUnary(h.client, 'deleteDataset', { datasetId: id });
  });

  describe('bad images are refused with INVALID_ARGUMENT and nothing is stored', () => {
    const id = 'bad-input';
    beforeAll(async () => {
      await callUnary(h.client, 'createDataset', { datasetId: id, description: '', source: '' });
    });

    const corrupt = Buffer.from(testPng(7, 32, 32));
    corrupt[corrupt.length - 20] ^= 0xff; // inside IDAT
    const rgb = Buffer.from(fastEncode({ width: 4, height: 4, data: new Uint8Array(48), channels: 3, depth: 8 }));
    const noisy = testPng(8, 512, 512); // ~262 KB of noise > MAX_IMAGE_BYTES

    const cases: [string, () => Parameters<typeof putImages>[2], RegExp][] = [
      ['corrupt PNG (bad checksum)', () => [{ png: corrupt }], /corrupt PNG: checksum mismatch/],
      ['non-image bytes', () => [{ png: Buffer.from('%PDF-1.4 definitely not a png') }], /not a PNG/],
      ['empty image', () => [{ png: Buffer.alloc(0), sizeBytes: 0 }], /size_bytes must be > 0/],
      ['over the byte limit', () => [{ png: noisy }], new RegExp(`exceeds the image limit of ${MAX_IMAGE_BYTES} bytes`)],
      ['a header claiming 100000×100000 pixels', () => [{ png: claimingPng(100_000, 100_000) }], /100000×100000.*limit is 1000000/],
      ['colour instead of grayscale', () => [{ png: rgb }], /expected an 8- or 16-bit grayscale PNG, got 8-bit RGB/],
      ['bytes not matching header.sha256', () => [{ png: testPng(9), sha256: 'b'.repeat(64) }], /do not match header.sha256/],
      ['fewer bytes than header.size_bytes', () => [{ png: testPng(10), sizeBytes: testPng(10).length + 1 }], /header.size_bytes says/],
      ['more bytes than header.size_bytes', () => [{ png: testPng(11), sizeBytes: 10 }], /more bytes than header.size_bytes/],
      ['an unspecified finding', () => [{ png: testPng(12), finding: Finding.UNSPECIFIED }], /header.finding must be a finding/],
      ['a raw patient identifier with spaces', () => [{ png: testPng(13), patientId: 'Doe, John' }], /patient_id/],
      ['good images followed by a corrupt one', () => [{ png: testPng(14) }, { png: testPng(15) }, { png: corrupt }], /image #3: corrupt PNG/],
    ];
    it.each(cases)('%s', async (_name, images, message) => {
      const err = await grpcError(putImages(h, dataset(id), images()));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(message);
      expect(await keys(`datasets/${id}/`)).toEqual([]);
      expect(await keys(`staging/datasets/${id}/batches/`)).toEqual([]);
    });

    it('malformed streams', async () => {
      const chunkFirst = await grpcError(callClientStream(h.client, 'putImages', [{ chunk: Buffer.from('x') }]));
      expect(chunkFirst.code).toBe(status.INVALID_ARGUMENT);
      expect(chunkFirst.details).toMatch(/chunk arrived before any image header/);
      const neither = await grpcError(callClientStream(h.client, 'putImages', [...imageMessages(dataset(id), [{ png: testPng(19) }]), { chunk: Buffer.alloc(0) }]));
      expect(neither.code).toBe(status.INVALID_ARGUMENT);
      expect(neither.details).toMatch(/must carry a header or a chunk/);
      const empty = await grpcError(callClientStream(h.client, 'putImages', []));
      expect(empty.code).toBe(status.INVALID_ARGUMENT);
      expect(empty.details).toMatch(/no images/);
      const mixed = await grpcError(
        callClientStream(h.client, 'putImages', [...imageMessages(dataset(id), [{ png: testPng(20) }]), ...imageMessages(dataset('other'), [{ png: testPng(21) }])]),
      );
      expect(mixed.code).toBe(status.INVALID_ARGUMENT);
      expect(mixed.details).toMatch(/one PutImages stream writes into one collection/);
      const noKind = await grpcError(putImages(h, { kind: CollectionKind.UNSPECIFIED, id }, [{ png: testPng(22) }]));
      expect(noKind.code).toBe(status.INVALID_ARGUMENT);
      expect(await keys(`datasets/${id}/`)).toEqual([]);
    });

    it('the dataset stays empty: committing it is refused', async () => {
      const err = await grpcError(callUnary(h.client, 'commitDataset', { datasetId: id }));
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toMatch(/has no images/);
      expect(await keys(`datasets/${id}/`)).toEqual([]);
    });
  });

  it('unknown ids → NOT_FOUND', async () => {
    const calls = [
      () => callUnary(h.client, 'getDataset', { datasetId: 'nope' }),
      () => callUnary(h.client, 'commitDataset', { datasetId: 'nope' }),
      () => callUnary(h.client, 'deleteDataset', { datasetId: 'nope' }),
      () => callUnary(h.client, 'getSyntheticSet', { setId: 'nope' }),
      () => callUnary(h.client, 'listImages', { selection: { collection: dataset('nope'), split: 0, findings: [] }, pageSize: 0, pageToken: '' }),
      () => putImages(h, dataset('nope'), [{ png: testPng(30) }]),
      () => getImage(h, dataset('nope'), 'c'.repeat(64)),
      () => callUnary(h.client, 'statBlob', { ref: { namespace: BlobNamespace.MODELS, path: 'gan/none/1/model.json' } }),
    ];
    for (const c of calls) {
      const err = await grpcError(c());
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).toMatch(/no (dataset|synthetic set|blob) /);
    }
    expect(await keys('datasets/nope/')).toEqual([]);
  });

  it('negative or foreign paging values → INVALID_ARGUMENT', async () => {
    const calls = [
      () => callUnary(h.client, 'listDatasets', { pageSize: -1, pageToken: '' }),
      () => callUnary(h.client, 'listSyntheticSets', { pageSize: -5, pageToken: '' }),
      () => callUnary(h.client, 'listImages', { selection: { collection: dataset('x'), split: 0, findings: [] }, pageSize: -1, pageToken: '' }),
      () => callUnary(h.client, 'listBlobs', { namespace: BlobNamespace.MODELS, prefix: '', pageSize: -2, pageToken: '' }),
    ];
    for (const c of calls) {
      const err = await grpcError(c());
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/page_size must be >= 0/);
    }
    for (const pageToken of ['garbage', Buffer.from('{"v":1,"s":"blobs:models/","a":"x"}').toString('base64url')]) {
      const err = await grpcError(callUnary(h.client, 'listDatasets', { pageSize: 10, pageToken }));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/page_token is not a token this listing issued/);
    }
  });

  it('path-traversal and malformed ids → INVALID_ARGUMENT, nothing written', async () => {
    const badIds = ['../etc', '..', 'a/b', '.hidden', 'Upper', '', 'x'.repeat(64), 'a\u0000b', 'a b', '%2e%2e'];
    for (const bad of badIds) {
      const create = await grpcError(callUnary(h.client, 'createDataset', { datasetId: bad, description: '', source: '' }));
      expect(create.code).toBe(status.INVALID_ARGUMENT);
      expect(create.details).toMatch(/is not a valid dataset id/);
      expect((await grpcError(callUnary(h.client, 'getDataset', { datasetId: bad }))).code).toBe(status.INVALID_ARGUMENT);
      expect((await grpcError(putImages(h, dataset(bad), [{ png: testPng(40) }]))).code).toBe(status.INVALID_ARGUMENT);
      expect((await grpcError(callUnary(h.client, 'createSyntheticSet', { setId: bad, description: '' }))).code).toBe(status.INVALID_ARGUMENT);
    }
    for (const bad of ['../x', 'a/../b', '/abs', 'a//b', 'a/', '.', 'a/./b', 'a\\b', '']) {
      const err = await grpcError(putBlob(h, { namespace: BlobNamespace.MODELS, path: bad }, Buffer.from('x')));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(/not a valid blob path/);
    }
    const ns = await grpcError(putBlob(h, { namespace: BlobNamespace.UNSPECIFIED, path: 'a' }, Buffer.from('x')));
    expect(ns.code).toBe(status.INVALID_ARGUMENT);
    const badSha = await grpcError(getImage(h, dataset('presign'), '../../etc/passwd'));
    expect(badSha.code).toBe(status.INVALID_ARGUMENT);
    expect(badSha.details).toMatch(/is not a sha256/);
    // Nothing outside the layout's roots was created.
    const roots = new Set((await listAll(h.service.store, '')).map((o) => o.key.split('/')[0]));
    for (const r of roots) expect(['datasets', 'synthetic', 'staging', 'models', 'assessments', 'features', 'evaluations']).toContain(r);
  });
});

describe('an image over 1 MiB', () => {
  it('travels in chunks of at most 1 MiB both ways, the first in the header message', async () => {
    const h = await startStorage({ backend: 'fs', maxImageBytes: 4 * MiB });
    try {
      const png = testPng(5, 1100, 1100); // noise: ~1.2 MB
      expect(png.byteLength).toBeGreaterThan(MiB);
      await callUnary(h.client, 'createDataset', { datasetId: 'big', description: '', source: '' });
      expect((await putImages(h, dataset('big'), [{ png }])).stored).toBe(1);
      await callUnary(h.client, 'commitDataset', { datasetId: 'big' });
      const got = await getImage(h, dataset('big'), sha(png));
      expect(got).toMatchObject({ messages: 2, maxChunk: MiB, header: { sha256: sha(png), width: 1100 } });
      expect(got.bytes.equals(png)).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe('MinIO stopped during an upload, then started again', () => {
  let minio: MinioServer;
  let h: StorageHarness;
  beforeAll(async () => {
    minio = await startMinio();
    // A pack per image, so the stream that MinIO's crash cuts off has already written some.
    h = await startStorage({ backend: 's3', minio, bucket: 'fault', probeIntervalMs: 200, putConcurrency: 2, packBytes: 1 });
    await waitForHealth(h, Serving.SERVING);
  });
  afterAll(async () => {
    await h?.close();
    await minio?.dispose();
  });

  it('answers UNAVAILABLE naming the cause, goes NOT_SERVING, recovers without restart, leaves no partial dataset', async () => {
    await callUnary(h.client, 'createDataset', { datasetId: 'fault-1', description: '', source: '' });
    const first = Array.from({ length: 5 }, (_, i) => ({ png: testPng(200 + i) }));
    const rest = Array.from({ length: 20 }, (_, i) => ({ png: testPng(300 + i) }));
    async function* upload() {
      yield* imageMessages(dataset('fault-1'), first);
      await minio.stop('SIGKILL'); // mid-stream: the server has some of the images, the store is gone
      yield* imageMessages(dataset('fault-1'), rest);
    }
    const err = await grpcError(callClientStream(h.client, 'putImages', upload()));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(/storage backend unavailable: .*(ECONNREFUSED|ECONNRESET)/);
    await waitForHealth(h, Serving.NOT_SERVING);
    const read = await grpcError(callUnary(h.client, 'getDataset', { datasetId: 'fault-1' }));
    expect(read.code).toBe(status.UNAVAILABLE);

    await minio.start();
    await waitForHealth(h, Serving.SERVING);
    // The cut-off stream recorded nothing: the dataset is open and empty, and not listed.
    expect(await callUnary(h.client, 'getDataset', { datasetId: 'fault-1' })).toMatchObject({ state: CollectionState.OPEN, imageCount: 0 });
    expect((await callUnary(h.client, 'listDatasets', { pageSize: 0, pageToken: '' })).datasets).toEqual([]);
    // Uploads work again; the commit holds exactly what the successful stream sent.
    const ok = await putImages(h, dataset('fault-1'), rest.slice(0, 3));
    expect(ok.stored).toBe(3);
    const committed = await callUnary(h.client, 'commitDataset', { datasetId: 'fault-1' });
    expect(committed.imageCount).toBe(3);
    const listed = await callUnary(h.client, 'listImages', { selection: { collection: dataset('fault-1'), split: 0, findings: [] }, pageSize: 0, pageToken: '' });
    expect(listed.images.map((i) => i.sha256).sort()).toEqual(rest.slice(0, 3).map((r) => sha(r.png)).sort());
    // Orphans of the failed stream were swept at commit: one pack per image of the stream that succeeded is left.
    expect((await listAll(h.service.store, 'datasets/fault-1/packs/')).length).toBe(3);
  });
});
