// StorageService gRPC handlers. Each one validates its request, calls a domain module (collections, images, blobs)
// and lets `guard` map whatever fails to a status (errors.ts). Handlers never build object keys: layout.ts does.
//
// Choices worth knowing:
// - A second CommitDataset/CommitSyntheticSet → FAILED_PRECONDITION (the collection exists; the operation does not fit
//   its state). CreateX with a taken id → ALREADY_EXISTS.
// - One PutImages stream writes into one collection and is all-or-nothing: its images are recorded when the stream
//   ends successfully; on any error nothing from it is recorded (and the packs it wrote are removed).
// - Presigned URLs need an S3 backend: on the filesystem backend PresignGet answers FAILED_PRECONDITION.
import type { Logger } from '../../shared/log/logger.js';
import { failedPrecondition, invalidArgument, notFound, cancelled } from '../../shared/grpc/errors.js';
import { clientStream, serverStream, unary, type CallContext } from '../../shared/grpc/handlers.js';
import type { MethodPolicy } from '../../shared/grpc/auth.js';
import type { PngLimits } from '../../shared/images/png.js';
import type { ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import { StorageServiceService } from '../../shared/proto/cxrsynth/v1/storage.js';
import type {
  BlobRef, GetBlobRequest, GetBlobResponse, GetImageRequest, GetImageResponse, GetImagesRequest, Provenance, PutBlobRequest, PutImagesRequest,
  StorageServiceServer,
} from '../../shared/proto/cxrsynth/v1/storage.js';
import type { ObjectStore } from './backends/object-store.js';
import { Blobs } from './blobs.js';
import { CHUNK_BYTES, GET_IMAGES_MAX, imageFrames } from '../../shared/clients/storage-protocol.js';
import type { Collections, Ingest } from './collections.js';
import {
  blobMessage, blobNamespace, collectionKind, datasetMessage, findingIn, imageRef, splitIn, syntheticSetMessage,
} from './convert.js';
import { isUnavailable, toServiceError } from './errors.js';
import type { BackendHealth } from './health.js';
import { checkImage, type ImageMeta, type PackReader } from './images.js';
import { BLOB_SEGMENT_PATTERN, kindNoun, layout, quote, validateId, validateSha256, type CollectionKind } from './layout.js';
import type { FindingName, ProvenanceRecord } from './manifest.js';
import { planReads, type PackRead } from './packs.js';
import { forEachWithin } from './util.js';
import { decodeToken, encodeToken, pageSize } from './paging.js';

export interface StorageDeps {
  store: ObjectStore;
  reader: PackReader;
  collections: Collections;
  blobs: Blobs;
  health: BackendHealth;
  limits: PngLimits;
  logger: Logger;
}

/** Who may call what: every method of the definition (whatever the generated code holds). Hospitals only
 *  classify: they get no storage access. */
const STAFF = ['researcher', 'service', 'admin'] as const;
export const STORAGE_POLICY: MethodPolicy = Object.fromEntries(
  Object.values(StorageServiceService).map((m) => [m.path.slice(m.path.lastIndexOf('/') + 1), STAFF]),
);

/** Pack reads GetImages keeps in flight per call, and the bytes they may hold together. */
const GET_IMAGES_CONCURRENCY = 16;
const GET_IMAGES_BUDGET_BYTES = 16 * 1024 * 1024;

/** The backend's presignGet, or FAILED_PRECONDITION where it has none. */
function presignable(store: ObjectStore): (key: string, expirySeconds: number) => Promise<string> {
  if (!store.presignGet) {
    throw failedPrecondition(`presigned URLs need an S3 backend; this service stores data in ${store.location}: use GetImage/GetBlob instead`);
  }
  return store.presignGet.bind(store);
}

const PATIENT_ID = /^[A-Za-z0-9._:-]{0,128}$/;
const VIEW = /^[A-Za-z0-9_-]{0,16}$/;
const MODEL_KIND = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const BACKEND = /^[a-z0-9_-]{0,32}$/;
const PARAM_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

function text(value: string, field: string, max: number): string {
  if (value.length > max || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) {
    throw invalidArgument(`${field} must be at most ${max} characters of printable text`, { field });
  }
  return value;
}

function matching(value: string, pattern: RegExp, field: string, hint: string): string {
  if (!pattern.test(value)) throw invalidArgument(`${field} ${quote(value)} is invalid: ${hint}`, { field });
  return value;
}

function provenanceIn(p: Provenance | undefined): ProvenanceRecord {
  if (!p) throw invalidArgument('provenance is required: model_kind, model_id, checkpoint_step and seed', { field: 'provenance' });
  const params = Object.entries(p.params ?? {});
  if (params.length > 32) throw invalidArgument('provenance.params: at most 32 entries', { field: 'provenance.params' });
  for (const [k, v] of params) {
    matching(k, PARAM_KEY, 'provenance.params key', 'letters, digits, _ . -; 1 to 64 characters');
    text(v, `provenance.params[${k}]`, 256);
  }
  if (!Number.isSafeInteger(p.checkpointStep) || p.checkpointStep < 0) {
    throw invalidArgument('provenance.checkpoint_step must be >= 0', { field: 'provenance.checkpoint_step' });
  }
  return {
    modelKind: matching(p.modelKind, MODEL_KIND, 'provenance.model_kind', 'lower-case letters, digits, _ or -, e.g. "gan", "ddpm"'),
    modelId: matching(p.modelId, BLOB_SEGMENT_PATTERN, 'provenance.model_id', 'letters, digits, . _ -; 1 to 128 characters'),
    checkpointStep: p.checkpointStep,
    seed: p.seed,
    finding: findingIn(p.finding, 'provenance.finding', { allowUnspecified: true }),
    backend: matching(p.backend, BACKEND, 'provenance.backend', 'e.g. "tensorflow", "wasm", "cpu"'),
    params: Object.fromEntries(params),
  };
}

function blobRefIn(ref: BlobRef | undefined, field: string) {
  if (!ref) throw invalidArgument(`${field} is required`, { field });
  return { namespace: blobNamespace(ref.namespace, `${field}.namespace`), path: ref.path };
}

export function createStorageHandlers(deps: StorageDeps): StorageServiceServer {
  const { collections, blobs, health, limits, reader, store } = deps;

  /** Maps failures; a backend failure also drops health to NOT_SERVING at once. */
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const mapped = toServiceError(err);
      if (isUnavailable(mapped)) health.reportFailure((mapped as Error).message);
      throw mapped;
    }
  };

  const getView = async (kind: CollectionKind, id: string) => collections.view(kind, validateId(kind, id, kind === 'dataset' ? 'dataset_id' : 'set_id'));

  const putImages = async (requests: AsyncIterable<PutImagesRequest>, ctx: CallContext) => {
    let ingest: Ingest | undefined;
    let target: { kind: CollectionKind; id: string } | undefined;
    let current: { parts: Buffer[]; size: number; expected: number; index: number; header: ImageMeta } | undefined;
    let index = 0;
    const finishImage = async () => {
      if (!current || !ingest) return;
      const label = `image #${current.index}`;
      if (current.size !== current.expected) {
        throw invalidArgument(`${label}: got ${current.size} bytes, header.size_bytes says ${current.expected}`);
      }
      const png = current.parts.length === 1 ? current.parts[0]! : Buffer.concat(current.parts, current.size);
      const entry = checkImage(png, current.header, limits, label);
      current = undefined;
      await ingest.add(entry, png);
    };
    try {
      for await (const req of requests) {
        if (req.header) {
          await finishImage();
          const h = req.header;
          index++;
          if (!h.collection) throw invalidArgument(`image #${index}: header.collection is required`);
          const kind = collectionKind(h.collection.kind, 'header.collection.kind');
          const id = validateId(kind, h.collection.id, 'header.collection.id');
          if (target && (target.kind !== kind || target.id !== id)) {
            throw invalidArgument(`image #${index}: one PutImages stream writes into one collection (${target.id}), not ${id}`);
          }
          if (!Number.isSafeInteger(h.sizeBytes) || h.sizeBytes <= 0) {
            throw invalidArgument(`image #${index}: header.size_bytes must be > 0 (the PNG's length); an empty image cannot be stored`);
          }
          if (h.sizeBytes > limits.maxBytes) {
            throw invalidArgument(`image #${index}: ${h.sizeBytes} bytes exceeds the image limit of ${limits.maxBytes} bytes`, { reason: 'too_large' });
          }
          const finding = findingIn(h.finding, `image #${index}: header.finding`);
          const split = splitIn(h.split, `image #${index}: header.split`);
          matching(h.patientId, PATIENT_ID, `image #${index}: header.patient_id`, 'a pseudonymous key of letters, digits, . _ : - (at most 128)');
          matching(h.view, VIEW, `image #${index}: header.view`, 'e.g. PA, AP, LL (letters, digits, _ -; at most 16)');
          if (h.sha256 !== '') validateSha256(h.sha256, `image #${index}: header.sha256`);
          if (!ingest) {
            target = { kind, id };
            ingest = await collections.beginIngest(kind, id);
          }
          const source = ingest.marker.provenance
            ? `${ingest.marker.provenance.modelKind}/${ingest.marker.provenance.modelId}@${ingest.marker.provenance.checkpointStep}`
            : ingest.marker.source;
          current = {
            parts: [],
            size: 0,
            expected: h.sizeBytes,
            index,
            header: { finding: finding as FindingName, patientId: h.patientId, split, view: h.view, source, expectedSha256: h.sha256 },
          };
        }
        const chunk = req.chunk;
        if (chunk.byteLength > 0) {
          if (!current) throw invalidArgument('a chunk arrived before any image header: send header, then its bytes');
          if (chunk.byteLength > CHUNK_BYTES) throw invalidArgument(`chunks must be at most ${CHUNK_BYTES} bytes (got ${chunk.byteLength})`);
          current.size += chunk.byteLength;
          if (current.size > current.expected) {
            throw invalidArgument(`image #${current.index}: more bytes than header.size_bytes (${current.expected}) were sent`);
          }
          current.parts.push(chunk);
        } else if (!req.header) {
          throw invalidArgument('PutImagesRequest must carry a header or a chunk');
        }
      }
      if (ctx.signal.aborted) throw cancelled('upload cancelled by the client: nothing was recorded');
      await finishImage();
      if (!ingest || !target) throw invalidArgument('the stream carried no images: send a header and its bytes for each image');
      const images = await ingest.finish();
      const t = target;
      return { images: images.map((e): ImageRef => imageRef(t.kind, t.id, e)), stored: images.length, duplicates: ingest.duplicates };
    } catch (err) {
      await ingest?.abort();
      throw err;
    }
  };

  const listCollections = async (kind: CollectionKind, requestedSize: number, token: string) => {
    const size = pageSize(requestedSize);
    const scope = `collections:${kind}`;
    const page = await collections.list(kind, size, decodeToken(scope, token));
    return { manifests: page.manifests, nextPageToken: page.next ? encodeToken(scope, page.next) : '' };
  };

  const putBlob = async (requests: AsyncIterable<PutBlobRequest>) => {
    const it = requests[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done || first.value.item?.$case !== 'header') {
      throw invalidArgument('PutBlob must start with a header (ref, content_type, size_bytes), then the bytes in chunks');
    }
    const h = first.value.item.header;
    const ref = blobRefIn(h.ref, 'header.ref');
    async function* chunks(): AsyncGenerator<Buffer> {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        if (r.value.item?.$case !== 'chunk') throw invalidArgument('after the header, PutBlob accepts only chunks');
        yield r.value.item.chunk;
      }
    }
    const info = await blobs.put(ref.namespace, ref.path, { contentType: h.contentType, sizeBytes: h.sizeBytes, sha256: h.sha256 }, chunks());
    return blobMessage(info);
  };

  /**
   * Streams many images of one collection, each as its header then its chunks. The images are read out of their
   * packs in a few ranged reads (packs.planReads), several in flight within a byte budget, and go out in the order
   * the reads complete (each header names its image).
   */
  const getImages = async (req: GetImagesRequest, send: (m: GetImageResponse) => Promise<void>) => {
    if (!req.collection) throw invalidArgument('collection is required', { field: 'collection' });
    const kind = collectionKind(req.collection.kind, 'collection.kind');
    const id = validateId(kind, req.collection.id, 'collection.id');
    if (req.sha256.length === 0 || req.sha256.length > GET_IMAGES_MAX) {
      throw invalidArgument(`sha256 must list 1 to ${GET_IMAGES_MAX} images (got ${req.sha256.length})`, { field: 'sha256' });
    }
    const shas = req.sha256.map((s, i) => validateSha256(s, `sha256[${i}]`));
    const { bySha } = await collections.manifest(kind, id);
    // Every image is checked before the first byte is sent, so an unknown one fails the call cleanly.
    const entries = shas.map((s) => {
      const e = bySha.get(s);
      if (!e) throw notFound(`no image ${s} in ${kindNoun(kind)} ${id}`);
      return e;
    });
    const reads = planReads(entries);
    let sending: Promise<void> = Promise.resolve();
    const sendRead = async (read: PackRead) => {
      const pngs = await reader.read(kind, id, read);
      // One image's messages must be contiguous: sends are chained, reads are not.
      const turn = sending.then(async () => {
        for (const [i, png] of pngs.entries()) {
          for (const message of imageFrames(imageRef(kind, id, read.entries[i]!), png)) await send(message);
        }
      });
      sending = turn.catch(() => undefined);
      await turn;
    };
    await forEachWithin(reads, { concurrency: GET_IMAGES_CONCURRENCY, budgetBytes: GET_IMAGES_BUDGET_BYTES, size: (r) => r.end - r.start }, sendRead);
  };

  return {
    createDataset: unary((req) =>
      guard(async () => {
        const id = validateId('dataset', req.datasetId, 'dataset_id');
        const marker = await collections.create({
          kind: 'dataset',
          id,
          description: text(req.description, 'description', 1024),
          source: text(req.source, 'source', 256),
        });
        const { format: _f, version: _v, ...header } = marker;
        return datasetMessage({ state: 'open', header, images: [] });
      }),
    ),
    putImages: clientStream((requests, ctx) => guard(() => putImages(requests, ctx))),
    commitDataset: unary((req) =>
      guard(async () => datasetMessage({ state: 'committed', manifest: await collections.commit('dataset', validateId('dataset', req.datasetId, 'dataset_id')) })),
    ),
    getDataset: unary((req) => guard(async () => datasetMessage(await getView('dataset', req.datasetId)))),
    listDatasets: unary((req) =>
      guard(async () => {
        const page = await listCollections('dataset', req.pageSize, req.pageToken);
        return { datasets: page.manifests.map((manifest) => datasetMessage({ state: 'committed', manifest })), nextPageToken: page.nextPageToken };
      }),
    ),
    deleteDataset: unary((req) =>
      guard(async () => ({ deletedObjects: await collections.delete('dataset', validateId('dataset', req.datasetId, 'dataset_id')) })),
    ),
    setSplits: unary((req) =>
      guard(async () => {
        const id = validateId('dataset', req.datasetId, 'dataset_id');
        if (!Number.isInteger(req.folds) || req.folds < 0 || req.folds > 100) throw invalidArgument('folds must be 0 to 100', { field: 'folds' });
        const assignments = req.assignments.map((a, i) => ({
          sha256: validateSha256(a.sha256, `assignments[${i}].sha256`),
          split: splitIn(a.split, `assignments[${i}].split`, { allowUnspecified: false }),
          fold: a.fold,
        }));
        return datasetMessage({ state: 'committed', manifest: await collections.setSplits(id, assignments, req.folds, req.seed) });
      }),
    ),
    listImages: unary((req) =>
      guard(async () => {
        const sel = req.selection;
        if (!sel?.collection) throw invalidArgument('selection.collection is required', { field: 'selection.collection' });
        const kind = collectionKind(sel.collection.kind, 'selection.collection.kind');
        const id = validateId(kind, sel.collection.id, 'selection.collection.id');
        const split = splitIn(sel.split, 'selection.split');
        const findings = new Set(sel.findings.map((f, i) => findingIn(f, `selection.findings[${i}]`)));
        const size = pageSize(req.pageSize);
        const scope = `images:${kind}/${id}/${split}/${[...findings].sort().join(',')}`;
        const after = decodeToken(scope, req.pageToken);
        const { manifest } = await collections.manifest(kind, id);
        const selected = manifest.images.filter((e) => (split === 'unspecified' || e.split === split) && (findings.size === 0 || findings.has(e.finding)));
        const start = after === undefined ? 0 : selected.findIndex((e) => e.sha256 > after);
        const pageItems = start < 0 ? [] : selected.slice(start, start + size);
        const more = start >= 0 && start + size < selected.length;
        return {
          images: pageItems.map((e) => imageRef(kind, id, e)),
          nextPageToken: more ? encodeToken(scope, pageItems[pageItems.length - 1]!.sha256) : '',
          totalSize: selected.length,
        };
      }),
    ),
    getImage: serverStream<GetImageRequest, GetImageResponse>((req, send) =>
      guard(async () => {
        if (!req.collection) throw invalidArgument('collection is required', { field: 'collection' });
        const kind = collectionKind(req.collection.kind, 'collection.kind');
        const id = validateId(kind, req.collection.id, 'collection.id');
        const sha = validateSha256(req.sha256);
        const { bySha } = await collections.manifest(kind, id);
        const entry = bySha.get(sha);
        if (!entry) throw notFound(`no image ${sha} in ${kindNoun(kind)} ${id}`);
        const bytes = await reader.image(kind, id, entry);
        for (const message of imageFrames(imageRef(kind, id, entry), bytes)) await send(message);
      }),
    ),
    getImages: serverStream<GetImagesRequest, GetImageResponse>((req, send) => guard(() => getImages(req, send))),
    createSyntheticSet: unary((req) =>
      guard(async () => {
        const id = validateId('synthetic', req.setId, 'set_id');
        const marker = await collections.create({
          kind: 'synthetic',
          id,
          description: text(req.description, 'description', 1024),
          source: 'synthetic',
          provenance: provenanceIn(req.provenance),
        });
        const { format: _f, version: _v, ...header } = marker;
        return syntheticSetMessage({ state: 'open', header, images: [] });
      }),
    ),
    commitSyntheticSet: unary((req) =>
      guard(async () => syntheticSetMessage({ state: 'committed', manifest: await collections.commit('synthetic', validateId('synthetic', req.setId, 'set_id')) })),
    ),
    getSyntheticSet: unary((req) => guard(async () => syntheticSetMessage(await getView('synthetic', req.setId)))),
    listSyntheticSets: unary((req) =>
      guard(async () => {
        const page = await listCollections('synthetic', req.pageSize, req.pageToken);
        return { sets: page.manifests.map((manifest) => syntheticSetMessage({ state: 'committed', manifest })), nextPageToken: page.nextPageToken };
      }),
    ),
    deleteSyntheticSet: unary((req) =>
      guard(async () => ({ deletedObjects: await collections.delete('synthetic', validateId('synthetic', req.setId, 'set_id')) })),
    ),
    putBlob: clientStream((requests) => guard(() => putBlob(requests))),
    getBlob: serverStream<GetBlobRequest, GetBlobResponse>((req, send) =>
      guard(async () => {
        const ref = blobRefIn(req.ref, 'ref');
        const { info, chunks } = await blobs.open(ref.namespace, ref.path);
        await send({ part: { $case: 'header', header: blobMessage(info) } });
        for await (const chunk of chunks) await send({ part: { $case: 'chunk', chunk } });
      }),
    ),
    statBlob: unary((req) =>
      guard(async () => {
        const ref = blobRefIn(req.ref, 'ref');
        return blobMessage(await blobs.stat(ref.namespace, ref.path));
      }),
    ),
    listBlobs: unary((req) =>
      guard(async () => {
        const namespace = blobNamespace(req.namespace, 'namespace');
        const size = pageSize(req.pageSize);
        const scope = `blobs:${namespace}/${req.prefix}`;
        const page = await blobs.list(namespace, req.prefix, size, decodeToken(scope, req.pageToken));
        return { blobs: page.blobs.map(blobMessage), nextPageToken: page.next ? encodeToken(scope, page.next) : '' };
      }),
    ),
    deleteBlob: unary((req) =>
      guard(async () => {
        const ref = blobRefIn(req.ref, 'ref');
        await blobs.delete(ref.namespace, ref.path);
        return {};
      }),
    ),
    presignGet: unary((req) =>
      guard(async () => {
        const expiry = req.expirySeconds === 0 ? 900 : req.expirySeconds;
        if (!Number.isInteger(expiry) || expiry < 1 || expiry > 604_800) {
          throw invalidArgument('expiry_seconds must be 1 to 604800 (0 means 900)', { field: 'expiry_seconds' });
        }
        let key: string;
        if (req.target?.$case === 'image') {
          const loc = req.target.image;
          if (!loc.collection) throw invalidArgument('image.collection is required', { field: 'image.collection' });
          const kind = collectionKind(loc.collection.kind, 'image.collection.kind');
          const id = validateId(kind, loc.collection.id, 'image.collection.id');
          const sha = validateSha256(loc.sha256, 'image.sha256');
          const entry = (await collections.manifest(kind, id)).bySha.get(sha);
          if (!entry) throw notFound(`no image ${sha} in ${kindNoun(kind)} ${id}`);
          presignable(store);
          key = layout.image(kind, id, sha);
          // A URL serves one whole object, so the image is copied out of its pack the first time one is asked for.
          if (!(await store.stat(key))) await store.put(key, await reader.image(kind, id, entry), { contentType: 'image/png', sha256: sha });
        } else if (req.target?.$case === 'blob') {
          const ref = blobRefIn(req.target.blob, 'blob');
          key = blobs.key(ref.namespace, ref.path);
          if (!(await store.stat(key))) throw notFound(`no blob ${ref.namespace}/${ref.path}`);
        } else {
          throw invalidArgument('target is required: an image locator or a blob ref', { field: 'target' });
        }
        const url = await presignable(store)(key, expiry);
        return { url, expiresUnixMs: Date.now() + expiry * 1000 };
      }),
    ),
  };
}
