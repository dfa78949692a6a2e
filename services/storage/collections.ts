// The lifecycle shared by datasets and synthetic sets:
//   create  → staging/<kind>/<id>/open.json
//   put     → packs/<pack>.tar (images many to a pack, packs.ts) + one batch record per PutImages stream, written at its end
//   commit  → manifest.json from the batches, written LAST: only then does the collection exist for readers
//   delete  → manifest first (invisible at once), then packs, copied-out images and staging.
// A stream cut off midway writes no batch, so its packs are never part of any manifest (and are removed).
import type { Logger } from '../../shared/log/logger.js';
import { ServiceError, Status, alreadyExists, failedPrecondition, invalidArgument, notFound } from '../../shared/grpc/errors.js';
import { ObjectNotFoundError, type ObjectStore } from './backends/object-store.js';
import { dataLoss } from './errors.js';
import { sha256Hex } from './images.js';
import { kindNoun, layout, packIdFromKey, ID_PATTERN, type CollectionKind } from './layout.js';
import {
  MANIFEST_VERSION, mergeEntries, parseBatch, parseManifest, parseOpenMarker, serializeRecord,
  type CollectionHeader, type ImageEntry, type ImageFacts, type Manifest, type OpenMarker, type SplitName,
} from './manifest.js';
import { StorageMetrics } from './metrics.js';
import { PACK_TARGET_BYTES, PackBuilder } from './packs.js';
import { InFlight, deletePrefix, listAll, mapLimit, timeId } from './util.js';

const JSON_TYPE = { contentType: 'application/json' };
/** Per PutImages stream: bytes of packs held while their writes are in flight. */
const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export interface CollectionsOptions {
  /** How long a committed manifest read is reused without re-reading (other replicas' changes show up after this). */
  manifestCacheMs?: number;
  /** Pack writes in flight per PutImages stream. */
  putConcurrency?: number;
  /** A pack is written once it holds this many bytes. */
  packBytes?: number;
  metrics?: StorageMetrics;
  now?: () => number;
}

/** What GetDataset / GetSyntheticSet show: a committed manifest, or an open collection's header and images so far. */
export type CollectionView =
  | { state: 'committed'; manifest: Manifest }
  | { state: 'open'; header: CollectionHeader; images: ImageEntry[] };

export class Collections {
  private readonly cache = new Map<string, { manifest: Manifest; bySha: Map<string, ImageEntry>; at: number }>();
  /** Loads in progress, shared so that concurrent readers of an expired entry cause one read, not one each. */
  private readonly loading = new Map<string, Promise<{ manifest: Manifest; bySha: Map<string, ImageEntry> }>>();
  private readonly cacheMs: number;
  readonly putConcurrency: number;
  private readonly packBytes: number;
  private readonly metrics: StorageMetrics;
  private readonly now: () => number;

  constructor(
    private readonly store: ObjectStore,
    private readonly logger: Logger,
    options: CollectionsOptions = {},
  ) {
    this.cacheMs = options.manifestCacheMs ?? 5000;
    this.putConcurrency = options.putConcurrency ?? 16;
    this.packBytes = options.packBytes ?? PACK_TARGET_BYTES;
    this.metrics = options.metrics ?? new StorageMetrics();
    this.now = options.now ?? Date.now;
  }

  async create(header: Omit<CollectionHeader, 'createdUnixMs'>): Promise<OpenMarker> {
    const { kind, id } = header;
    const [manifest, marker] = await Promise.all([
      this.store.stat(layout.manifest(kind, id)),
      this.store.stat(layout.openMarker(kind, id)),
    ]);
    if (manifest) throw alreadyExists(`${kindNoun(kind)} ${id} already exists (committed)`);
    if (marker) throw alreadyExists(`${kindNoun(kind)} ${id} already exists (open: put images, then commit it)`);
    const record: OpenMarker = { format: 'cxr-synth/open', version: MANIFEST_VERSION, ...header, createdUnixMs: this.now() };
    await this.store.put(layout.openMarker(kind, id), serializeRecord(record), JSON_TYPE);
    return record;
  }

  /** The open marker, or FAILED_PRECONDITION when already committed, NOT_FOUND when unknown. */
  async openMarker(kind: CollectionKind, id: string): Promise<OpenMarker> {
    try {
      return parseOpenMarker(await this.store.getBytes(layout.openMarker(kind, id)), kind, id);
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
    }
    if (await this.store.stat(layout.manifest(kind, id))) {
      throw failedPrecondition(`${kindNoun(kind)} ${id} is committed: images can only be added before it is committed`);
    }
    throw notFound(`no ${kindNoun(kind)} ${id}: create it first`);
  }

  /** Starts recording one PutImages stream into an open collection. */
  async beginIngest(kind: CollectionKind, id: string): Promise<Ingest> {
    const marker = await this.openMarker(kind, id);
    const recorded = new Set((await this.recordedEntries(kind, id)).map((e) => e.sha256));
    const limits = { concurrency: this.putConcurrency, packBytes: this.packBytes };
    return new Ingest(this.store, this.logger, this.metrics, marker, recorded, limits, () => this.recordedEntries(kind, id));
  }

  async commit(kind: CollectionKind, id: string): Promise<Manifest> {
    const noun = kindNoun(kind);
    if (await this.store.stat(layout.manifest(kind, id))) {
      throw failedPrecondition(`${noun} ${id} is already committed; a committed ${noun} cannot change (delete it and create it again)`);
    }
    const marker = await this.openMarker(kind, id);
    const images = await this.recordedEntries(kind, id);
    if (images.length === 0) throw failedPrecondition(`${noun} ${id} has no images: put images before committing it`);
    const stored = new Set(
      (await listAll(this.store, layout.packsPrefix(kind, id))).map((o) => packIdFromKey(o.key)).filter((p) => p !== undefined),
    );
    const missing = images.filter((e) => !stored.has(e.pack));
    if (missing.length > 0) {
      throw dataLoss(`${missing.length} recorded image(s) of ${noun} ${id} are missing from storage (first: ${missing[0]!.sha256}, pack ${missing[0]!.pack})`);
    }
    const { format: _f, version: _v, ...header } = marker;
    const manifest: Manifest = {
      format: 'cxr-synth/manifest',
      version: MANIFEST_VERSION,
      ...header,
      committedUnixMs: this.now(),
      splits: { folds: 0, seed: 0 },
      images,
    };
    await this.store.put(layout.manifest(kind, id), serializeRecord(manifest), JSON_TYPE);
    this.remember(manifest);
    // The collection is committed; what follows is housekeeping and may fail without harm.
    const referenced = new Set(images.map((e) => e.pack));
    const orphans = [...stored].filter((p) => !referenced.has(p)).map((p) => layout.pack(kind, id, p));
    try {
      if (orphans.length > 0) await this.store.deleteMany(orphans);
      await deletePrefix(this.store, layout.stagingPrefix(kind, id));
    } catch (err) {
      this.logger.warn('commit cleanup failed; leftovers are ignored by readers', { kind, id, error: err });
    }
    return manifest;
  }

  /** A committed manifest (cached briefly), or NOT_FOUND / FAILED_PRECONDITION (still open). */
  async manifest(kind: CollectionKind, id: string): Promise<{ manifest: Manifest; bySha: Map<string, ImageEntry> }> {
    const key = `${kind}/${id}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.cacheMs) return hit;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.loadManifest(kind, id).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async loadManifest(kind: CollectionKind, id: string): Promise<{ manifest: Manifest; bySha: Map<string, ImageEntry> }> {
    let bytes: Buffer;
    try {
      bytes = await this.store.getBytes(layout.manifest(kind, id));
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
      this.cache.delete(`${kind}/${id}`);
      if (await this.store.stat(layout.openMarker(kind, id))) {
        throw failedPrecondition(`${kindNoun(kind)} ${id} is not committed yet: commit it before reading its images`);
      }
      throw notFound(`no ${kindNoun(kind)} ${id}`);
    }
    return this.remember(parseManifest(bytes, kind, id));
  }

  async view(kind: CollectionKind, id: string): Promise<CollectionView> {
    try {
      return { state: 'committed', manifest: (await this.manifest(kind, id)).manifest };
    } catch (err) {
      if (!(err instanceof ServiceError && err.code === Status.FAILED_PRECONDITION)) throw err; // still open
    }
    const marker = await this.openMarker(kind, id);
    const { format: _f, version: _v, ...header } = marker;
    return { state: 'open', header, images: await this.recordedEntries(kind, id) };
  }

  /** Committed collections in id order. Open ones are not listed (they are not visible until committed). */
  async list(kind: CollectionKind, pageSize: number, after: string | undefined): Promise<{ manifests: Manifest[]; next?: string }> {
    const page = await this.store.listChildren(layout.collectionsRoot(kind), { limit: pageSize, startAfter: after });
    const ids = page.items.filter((i) => ID_PATTERN.test(i));
    const found = await mapLimit(ids, 8, async (id) => {
      try {
        return (await this.manifest(kind, id)).manifest;
      } catch (err) {
        // Deleted meanwhile, or open (images written, not committed): not listed.
        if (err instanceof ServiceError && (err.code === Status.NOT_FOUND || err.code === Status.FAILED_PRECONDITION)) return undefined;
        throw err;
      }
    });
    const manifests = found.filter((m): m is Manifest => m !== undefined);
    return page.next ? { manifests, next: page.next } : { manifests };
  }

  async delete(kind: CollectionKind, id: string): Promise<number> {
    const [manifest, marker] = await Promise.all([
      this.store.stat(layout.manifest(kind, id)),
      this.store.stat(layout.openMarker(kind, id)),
    ]);
    if (!manifest && !marker) throw notFound(`no ${kindNoun(kind)} ${id}`);
    let deleted = 0;
    if (manifest) deleted += await this.store.deleteMany([layout.manifest(kind, id)]); // invisible from here on
    this.cache.delete(`${kind}/${id}`);
    deleted += await deletePrefix(this.store, layout.collectionPrefix(kind, id));
    deleted += await deletePrefix(this.store, layout.stagingPrefix(kind, id));
    return deleted;
  }

  /** Rewrites a committed dataset's manifest with new split and fold assignments (atomic replace). */
  async setSplits(
    id: string,
    assignments: readonly { sha256: string; split: SplitName; fold: number }[],
    folds: number,
    seed: number,
  ): Promise<Manifest> {
    const { manifest, bySha } = await this.manifest('dataset', id);
    const seen = new Map<string, { split: SplitName; fold: number }>();
    for (const a of assignments) {
      if (!bySha.has(a.sha256)) throw invalidArgument(`assignment for ${a.sha256}: no such image in dataset ${id}`);
      if (seen.has(a.sha256)) throw invalidArgument(`image ${a.sha256} is assigned more than once`);
      if (a.fold > folds) throw invalidArgument(`image ${a.sha256}: fold ${a.fold} exceeds folds=${folds}`);
      seen.set(a.sha256, a);
    }
    if (seen.size !== manifest.images.length) {
      throw invalidArgument(`every image must be assigned: ${manifest.images.length - seen.size} of ${manifest.images.length} have no assignment`);
    }
    const next: Manifest = {
      ...manifest,
      splits: { folds, seed },
      images: manifest.images.map((e) => ({ ...e, split: seen.get(e.sha256)!.split, fold: seen.get(e.sha256)!.fold })),
    };
    await this.store.put(layout.manifest('dataset', id), serializeRecord(next), JSON_TYPE);
    return this.remember(next).manifest;
  }

  private remember(manifest: Manifest) {
    const entry = { manifest, bySha: new Map(manifest.images.map((e) => [e.sha256, e])), at: this.now() };
    this.cache.set(`${manifest.kind}/${manifest.id}`, entry);
    return entry;
  }

  /** Images recorded by finished PutImages streams, merged. */
  private async recordedEntries(kind: CollectionKind, id: string): Promise<ImageEntry[]> {
    const keys = (await listAll(this.store, layout.batchesPrefix(kind, id))).map((o) => o.key);
    const batches = await mapLimit(keys, 8, async (key) => parseBatch(await this.store.getBytes(key), `batch ${key}`).images);
    return mergeEntries(batches);
  }
}

/**
 * One PutImages stream's writes: images are gathered into packs, and each pack goes up as soon as it is full, with
 * several in flight; the last one and then the batch record are written when the stream ends.
 */
export class Ingest {
  /** Pack writes in flight, bounded in count and in bytes held, so a fast stream cannot exhaust memory. */
  private readonly writes: InFlight;
  private pack = new PackBuilder(timeId());
  /** Ids of the packs this stream wrote. */
  private readonly written: string[] = [];
  private readonly entries = new Map<string, ImageEntry>();
  duplicates = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly logger: Logger,
    private readonly metrics: StorageMetrics,
    readonly marker: OpenMarker,
    private readonly alreadyRecorded: Set<string>,
    private readonly limits: { concurrency: number; packBytes: number },
    private readonly reloadRecorded: () => Promise<ImageEntry[]>,
  ) {
    this.writes = new InFlight({ concurrency: limits.concurrency, budgetBytes: MAX_IN_FLIGHT_BYTES });
  }

  /** Adds one validated image to the pack being filled; rethrows an earlier write failure. */
  async add(facts: ImageFacts, png: Buffer): Promise<void> {
    this.writes.check();
    if (this.entries.has(facts.sha256) || this.alreadyRecorded.has(facts.sha256)) {
      this.duplicates++;
      return;
    }
    this.entries.set(facts.sha256, { ...facts, pack: this.pack.id, offset: this.pack.add(facts.sha256, png) });
    if (this.pack.bytes >= this.limits.packBytes) await this.flush();
  }

  /** Waits for every write, then records the batch. Returns the entries this stream added. */
  async finish(): Promise<ImageEntry[]> {
    await this.flush();
    await this.writes.settled();
    this.writes.check();
    const images = [...this.entries.values()];
    if (images.length > 0) {
      const { kind, id } = this.marker;
      const batch = { format: 'cxr-synth/batch' as const, version: MANIFEST_VERSION, images };
      await this.store.put(layout.batch(kind, id, timeId()), serializeRecord(batch), JSON_TYPE);
      if (await this.store.stat(layout.manifest(kind, id))) {
        throw failedPrecondition(`${kindNoun(kind)} ${id} was committed while these images were being put; they are not part of it`);
      }
    }
    return images;
  }

  /** After a failure: waits for writes to settle and removes the packs no finished stream recorded. */
  async abort(): Promise<void> {
    await this.writes.settled();
    if (this.written.length === 0) return;
    const { kind, id } = this.marker;
    try {
      const recorded = new Set((await this.reloadRecorded()).map((e) => e.pack));
      const orphans = this.written.filter((p) => !recorded.has(p)).map((p) => layout.pack(kind, id, p));
      if (orphans.length > 0) await this.store.deleteMany(orphans);
    } catch (err) {
      // The backend is likely down; the orphans are invisible (in no manifest) and commit or delete removes them.
      this.logger.warn('could not remove the packs of a failed upload', { kind, id, count: this.written.length, error: err });
    }
  }

  /** Sends the pack being filled on its way (once there is room for it) and starts a new one. */
  private async flush(): Promise<void> {
    if (this.pack.count > 0) {
      const packId = this.pack.id;
      const bytes = this.pack.seal();
      this.pack = new PackBuilder(timeId());
      await this.writes.waitForRoom(bytes.byteLength);
      const key = layout.pack(this.marker.kind, this.marker.id, packId);
      const write = this.store.put(key, bytes, { contentType: 'application/x-tar', sha256: sha256Hex(bytes) }).then(() => {
        this.written.push(packId);
        this.metrics.packWritten(bytes.byteLength);
      });
      this.writes.track(write, bytes.byteLength);
    }
    this.writes.check();
  }
}
