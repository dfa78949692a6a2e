// Image packs: a collection's images are stored many to an object, as plain POSIX tar (ustar) files whose members
// are named <sha256>.png, the way WebDataset shards training data.
//
// Why: an S3 request has a fixed cost far above that of moving a 20 KB chest X-ray. On MinIO one PUT of such an
// image costs ~2.6 ms of server CPU, one GET ~0.7 ms, and as much again in the client; a 4 MiB pack costs about the
// same as one image. So PutImages writes one object per ~4 MiB of images, and GetImages reads the images a call
// asks for as a few ranged GETs (coalesced when they lie close together in a pack).
//
// The manifest is the index: every entry records its pack and the byte offset of its PNG in it. Tar framing is
// not needed to read an image back; it keeps a pack readable by standard tools (`mc cat … | tar x`) for operators.
import type { ImageEntry } from './manifest.js';

/** A pack is sealed once it holds this many bytes; an image bigger than this gets a pack to itself. */
export const PACK_TARGET_BYTES = 4 * 1024 * 1024;
/** Pack ids as the service generates them (util.timeId): never '/', '..' or a leading '.'. */
export const PACK_ID_PATTERN = /^[0-9a-z][0-9a-z-]{0,63}$/;

const BLOCK = 512;

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** A ustar header for one regular file (name ≤ 100 bytes, size < 8 GiB). */
function ustarHeader(name: string, size: number, mtimeSeconds: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const field = (offset: number, length: number, value: string) => h.write(value, offset, length, 'ascii');
  const octal = (offset: number, length: number, value: number) => field(offset, length, value.toString(8).padStart(length - 1, '0'));
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, size);
  octal(136, 12, mtimeSeconds);
  field(156, 1, '0'); // regular file
  field(257, 6, 'ustar');
  field(263, 2, '00');
  // The checksum is the byte sum of the header with its own field read as spaces.
  field(148, 8, ' '.repeat(8));
  let sum = 0;
  for (const b of h) sum += b;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** Builds one pack in memory: add images, then seal it into the bytes to store. */
export class PackBuilder {
  private readonly parts: Buffer[] = [];
  private length = 0;
  private members = 0;

  constructor(
    readonly id: string,
    private readonly mtimeSeconds = Math.floor(Date.now() / 1000),
  ) {}

  /** Appends an image; returns the offset of its bytes in the pack. */
  add(sha256: string, png: Buffer): number {
    this.parts.push(ustarHeader(`${sha256}.png`, png.byteLength, this.mtimeSeconds), png);
    const offset = this.length + BLOCK;
    const pad = padded(png.byteLength) - png.byteLength;
    if (pad > 0) this.parts.push(Buffer.alloc(pad));
    this.length = offset + padded(png.byteLength);
    this.members++;
    return offset;
  }

  get bytes(): number {
    return this.length;
  }

  get count(): number {
    return this.members;
  }

  /** The tar file: the members, then the two zero blocks that end an archive. */
  seal(): Buffer {
    return Buffer.concat([...this.parts, Buffer.alloc(2 * BLOCK)]);
  }
}

/** One ranged read of a pack and the images it covers. */
export interface PackRead {
  pack: string;
  /** Byte range [start, end) of the pack. */
  start: number;
  end: number;
  entries: ImageEntry[];
}

export interface ReadPlanOptions {
  /** Neighbouring images at most this many bytes apart are read together: reading the gap is cheaper than a request. */
  maxGapBytes: number;
  /** A coalesced read stops growing at this size (a single image may still exceed it). */
  maxReadBytes: number;
}

export const DEFAULT_READ_PLAN: Readonly<ReadPlanOptions> = Object.freeze({ maxGapBytes: 256 * 1024, maxReadBytes: PACK_TARGET_BYTES });

/** Groups the images to read into as few ranged reads as the options allow, each image in exactly one. */
export function planReads(entries: readonly ImageEntry[], options: ReadPlanOptions = DEFAULT_READ_PLAN): PackRead[] {
  const byPack = new Map<string, ImageEntry[]>();
  for (const e of entries) {
    const list = byPack.get(e.pack);
    if (list) list.push(e);
    else byPack.set(e.pack, [e]);
  }
  const reads: PackRead[] = [];
  for (const [pack, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    let current: PackRead | undefined;
    for (const e of list) {
      const end = e.offset + e.sizeBytes;
      if (current && e.offset - current.end <= options.maxGapBytes && end - current.start <= options.maxReadBytes) {
        current.end = Math.max(current.end, end);
        current.entries.push(e);
      } else {
        current = { pack, start: e.offset, end, entries: [e] };
        reads.push(current);
      }
    }
  }
  return reads;
}
