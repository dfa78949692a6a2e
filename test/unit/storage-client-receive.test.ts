// How shared/clients/storage.ts reassembles GetImage / GetImages response streams into checked images, and how a
// bulk read ends when its caller stops early while the service has stalled.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StorageClient, receiveImages } from '../../shared/clients/storage.js';
import type { StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { CollectionKind, Finding, Split, type ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import type { GetImageResponse } from '../../shared/proto/cxrsynth/v1/storage.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function header(bytes: Buffer): ImageRef {
  return {
    collection: { kind: CollectionKind.DATASET, id: 'd' }, sha256: sha(bytes), finding: Finding.HEALTHY, width: 1, height: 1,
    bitDepth: 8, patientId: '', split: Split.UNSPECIFIED, fold: 0, sizeBytes: bytes.byteLength, view: '',
  };
}

async function* stream(messages: GetImageResponse[]): AsyncGenerator<GetImageResponse> {
  yield* messages;
}

async function receive(messages: GetImageResponse[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const { header: h, png } of receiveImages(stream(messages))) {
    expect(h.sha256).toBe(sha(png));
    out.push(png);
  }
  return out;
}

const empty = Buffer.alloc(0);

describe('receiveImages', () => {
  const a = Buffer.from('first image, one message');
  const b = Buffer.from('second image, in three chunks');

  it('yields each image once its size is reached: header with its first chunk, a header alone, further chunks', async () => {
    const got = await receive([
      { header: header(a), chunk: a },
      { header: header(b), chunk: empty },
      { chunk: b.subarray(0, 10) },
      { chunk: b.subarray(10, 20) },
      { chunk: b.subarray(20) },
    ]);
    expect(got.map(String)).toEqual([String(a), String(b)]);
  });

  it('yields an image before the stream ends, so a reader can decode while the rest arrives', async () => {
    let sentSecond = false;
    async function* slow(): AsyncGenerator<GetImageResponse> {
      yield { header: header(a), chunk: a };
      sentSecond = true;
      yield { header: header(b), chunk: b };
    }
    const it = receiveImages(slow());
    const first = await it.next();
    expect(String(first.value!.png)).toBe(String(a));
    expect(sentSecond).toBe(false);
    await it.return(undefined);
  });

  it('refuses truncated, corrupted and header-less bytes', async () => {
    await expect(receive([{ header: header(b), chunk: b.subarray(0, 5) }, { header: header(a), chunk: a }])).rejects.toThrow(/truncated \(5 of/);
    await expect(receive([{ header: header(b), chunk: b.subarray(0, 5) }])).rejects.toThrow(/truncated/);
    const flipped = Buffer.from(a);
    flipped[0]! ^= 1;
    await expect(receive([{ header: header(a), chunk: flipped }])).rejects.toThrow(/corrupted \(sha256 mismatch\)/);
    await expect(receive([{ chunk: a }])).rejects.toThrow(/without a header/);
  });
});

describe('StorageClient.getImages against a stalled service', () => {
  it('leaving the loop early cancels every open call at once instead of waiting for the service', async () => {
    const cancelled: number[] = [];
    let opened = 0;
    // Each call sends its first image, then stalls until cancelled (as a service waiting on a hung object store).
    const raw = {
      getImages(req: { sha256: string[] }) {
        const id = opened++;
        const bytes = Buffer.from(`image of call ${id}`);
        const stream = new Readable({ objectMode: true, read() {} });
        stream.push({ header: header(bytes), chunk: bytes });
        expect(req.sha256.length).toBeGreaterThan(0);
        return Object.assign(stream, { cancel: () => { cancelled.push(id); stream.destroy(new Error('CANCELLED')); } });
      },
    } as unknown as StorageServiceClient;
    const client = new StorageClient(raw);
    const shas = Array.from({ length: 6 }, (_, i) => String(i).repeat(64));
    let seen = 0;
    for await (const _image of client.getImages({ kind: CollectionKind.DATASET, id: 'd' }, shas, { batch: 2, calls: 3 })) {
      if (++seen === 2) break; // two images in: calls 0..2 are open, at least one with a read pending
    }
    expect(opened).toBe(3);
    expect(cancelled.sort()).toEqual([0, 1, 2]);
  });
});
