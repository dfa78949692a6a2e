import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PackBuilder, planReads } from '../../services/storage/packs.js';
import { forEachWithin } from '../../services/storage/util.js';
import type { ImageEntry } from '../../services/storage/manifest.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe('image packs', () => {
  it('lays images out as a tar file that standard tar reads, each at the offset add() returned', () => {
    // Sizes around the 512-byte block: padding, exact fit, one byte over.
    const images = [bytes(1, 1), bytes(512, 2), bytes(513, 3), bytes(20_000, 4)];
    const pack = new PackBuilder('p1', 1_700_000_000);
    const offsets = images.map((png) => pack.add(sha(png), png));
    const tar = pack.seal();
    expect(pack.count).toBe(4);
    expect(tar.byteLength).toBe(pack.bytes + 1024);
    expect(tar.byteLength % 512).toBe(0);
    expect(tar.subarray(pack.bytes).every((b) => b === 0)).toBe(true);
    images.forEach((png, i) => expect(tar.subarray(offsets[i]!, offsets[i]! + png.byteLength).equals(png)).toBe(true));
    expect(offsets).toEqual([512, 1536, 2560, 4096]);

    const dir = mkdtempSync(join(tmpdir(), 'cxr-pack-'));
    try {
      const file = join(dir, 'p1.tar');
      writeFileSync(file, tar);
      // GNU tar checks every header's checksum and refuses the archive when one is wrong.
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
      expect(listing.map((l) => l.split(/\s+/).pop())).toEqual(images.map((png) => `${sha(png)}.png`));
      expect(listing.map((l) => Number(l.split(/\s+/)[2]))).toEqual(images.map((png) => png.byteLength));
      expect(listing[0]).toMatch(/^-rw-r--r--/);
      const out = execFileSync('tar', ['-xOf', file, `${sha(images[3]!)}.png`]);
      expect(out.equals(images[3]!)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pack read planning', () => {
  const entry = (pack: string, offset: number, sizeBytes: number, n: number): ImageEntry => ({
    sha256: n.toString(16).padStart(64, '0'), finding: 'healthy', patientId: '', split: 'train', fold: 0, width: 8, height: 8,
    bitDepth: 8, sizeBytes, view: '', source: '', pack, offset,
  });

  it('coalesces neighbours within the gap and size limits, each image in exactly one read', () => {
    const a = [entry('a', 512, 1000, 1), entry('a', 2048, 1000, 2), entry('a', 10_000, 1000, 3), entry('a', 11_512, 5000, 4)];
    const b = [entry('b', 512, 100, 5)];
    // Out of order and across packs, as a caller asks for them.
    const reads = planReads([a[2]!, b[0]!, a[0]!, a[3]!, a[1]!], { maxGapBytes: 1000, maxReadBytes: 6000 });
    expect(reads.map((r) => [r.pack, r.start, r.end, r.entries.map((e) => e.sha256.slice(-1))])).toEqual([
      ['a', 512, 3048, ['1', '2']], // gap 536 ≤ 1000
      ['a', 10_000, 11_000, ['3']], // with 4 it would span 6512 > 6000
      ['a', 11_512, 16_512, ['4']],
      ['b', 512, 612, ['5']],
    ]);
    // A gap over the limit splits; a single image bigger than the size limit still gets its read.
    const apart = planReads([entry('a', 0, 10, 1), entry('a', 1011, 10, 2), entry('a', 5000, 9000, 3)], { maxGapBytes: 1000, maxReadBytes: 4000 });
    expect(apart.map((r) => [r.start, r.end])).toEqual([[0, 10], [1011, 1021], [5000, 14_000]]);
    // A whole pack asked for in order is one read.
    const whole = Array.from({ length: 50 }, (_, i) => entry('c', 512 + i * 1536, 1000, i));
    expect(planReads(whole).map((r) => [r.start, r.end, r.entries.length])).toEqual([[512, 512 + 49 * 1536 + 1000, 50]]);
  });
});

describe('pack reads in flight', () => {
  /** Runs sizes through forEachWithin, recording the most items and bytes ever in flight at once. */
  async function peaks(sizes: number[], limits: { concurrency: number; budgetBytes: number }, failAt?: number) {
    let items = 0;
    let bytes = 0;
    const peak = { items: 0, bytes: 0, started: [] as number[] };
    const run = forEachWithin(sizes.map((size, i) => ({ size, i })), { ...limits, size: (x) => x.size }, async ({ size, i }) => {
      peak.started.push(i);
      items++;
      bytes += size;
      peak.items = Math.max(peak.items, items);
      peak.bytes = Math.max(peak.bytes, bytes);
      await new Promise((r) => setTimeout(r, 2 + (i % 3)));
      items--;
      bytes -= size;
      if (i === failAt) throw new Error(`read ${i} failed`);
    });
    return { run, peak };
  }

  it('keeps within the count and the byte budget, and lets an item over the budget run alone', async () => {
    const a = await peaks(Array.from({ length: 40 }, () => 1), { concurrency: 6, budgetBytes: 100 });
    await a.run;
    expect(a.peak).toMatchObject({ items: 6, started: Array.from({ length: 40 }, (_, i) => i) });
    const b = await peaks([40, 40, 40, 40, 250, 10, 10], { concurrency: 16, budgetBytes: 100 });
    await b.run;
    expect(b.peak.items).toBe(2);
    expect(b.peak.bytes).toBe(250);
    expect(b.peak.started).toHaveLength(7);
  });

  it('starts nothing after a failure and rethrows it once the running ones settle', async () => {
    const { run, peak } = await peaks(Array.from({ length: 30 }, () => 1), { concurrency: 2, budgetBytes: 100 }, 3);
    await expect(run).rejects.toThrow('read 3 failed');
    expect(peak.started.length).toBeLessThan(8);
  });
});
