// A real storage service on loopback for tests and the benchmark: the production factory (createStorageService) on
// a filesystem directory or a real MinIO, served by the shared gRPC runtime, with a promise-style client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ServiceError as GrpcError } from '@grpc/grpc-js';
import { loadConfig } from '../../shared/config/index.js';
import { callClientStream, callUnary, createClient, startServer, type RunningServer } from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';
import { encodePng } from '../../shared/images/png.js';
import { CollectionKind, Finding, Split, type ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import {
  StorageServiceClient, type Blob, type BlobRef, type GetImageResponse, type PutImagesRequest, type PutImagesResponse,
} from '../../shared/proto/cxrsynth/v1/storage.js';
import { HealthClient, HealthCheckResponse_ServingStatus } from '../../shared/proto/grpc/health/v1/health.js';
import { createStorageService, STORAGE_SERVICE_NAME, type StorageService, type StorageServiceOptions } from '../../services/storage/index.js';
import type { MinioInfo } from './minio.js';

export interface StorageHarness {
  service: StorageService;
  server: RunningServer;
  client: StorageServiceClient;
  health: HealthClient;
  address: string;
  close(): Promise<void>;
}

export interface HarnessOptions extends StorageServiceOptions {
  backend: 'fs' | 's3';
  minio?: MinioInfo;
  bucket?: string;
  maxImageBytes?: number;
  maxImagePixels?: number;
}

export async function startStorage(options: HarnessOptions): Promise<StorageHarness> {
  let dir: string | undefined;
  const env: Record<string, string> = {
    HOME: tmpdir(),
    CXR_SYNTH_MAX_IMAGE_BYTES: String(options.maxImageBytes ?? 32 * 1024 * 1024),
    CXR_SYNTH_MAX_IMAGE_PIXELS: String(options.maxImagePixels ?? 40_000_000),
  };
  if (options.backend === 'fs') {
    dir = mkdtempSync(join(tmpdir(), 'cxr-storage-'));
    env.CXR_SYNTH_STORAGE_URL = pathToFileURL(dir).href;
  } else {
    const m = options.minio;
    if (!m) throw new Error('s3 backend needs a MinIO');
    env.CXR_SYNTH_STORAGE_URL = `s3://${options.bucket ?? 'cxr-test'}`;
    env.MINIO_ENDPOINT = `${m.host}:${m.port}`;
    env.MINIO_ACCESS_KEY = m.accessKey;
    env.MINIO_SECRET_KEY = m.secretKey;
  }
  const config = loadConfig(env);
  const logger = createLogger({ test: 'storage' }, { level: (process.env.CXR_SYNTH_TEST_LOG as 'debug' | undefined) ?? 'error' });
  const service = createStorageService(config, logger, options);
  const server = await startServer({ services: [service.registration], port: 0, logger, servingOnStart: false, reflection: false });
  await service.start(server.health);
  const address = `127.0.0.1:${server.port}`;
  const clientOptions = {
    addresses: [address],
    retry: { maxAttempts: 1, initialBackoffMs: 100, maxBackoffMs: 200 },
    deadlineMs: 120_000,
  };
  const client = createClient(StorageServiceClient, clientOptions);
  const health = createClient(HealthClient, clientOptions);
  return {
    service,
    server,
    client,
    health,
    address,
    async close() {
      client.close();
      health.close();
      await server.shutdown(2000);
      await service.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function servingStatus(h: StorageHarness): Promise<HealthCheckResponse_ServingStatus> {
  return (await callUnary(h.health, 'check', { service: STORAGE_SERVICE_NAME })).status;
}

/** Polls health until it reads `want` (or throws after `ms`); health changes on a probe, not instantly. */
export async function waitForHealth(h: StorageHarness, want: HealthCheckResponse_ServingStatus, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last: HealthCheckResponse_ServingStatus | undefined;
  while (Date.now() < deadline) {
    last = await servingStatus(h).catch(() => undefined);
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`health stayed ${last} instead of ${want}`);
}

/** A deterministic grayscale PNG: the seed picks the pattern. */
export function testPng(seed: number, width = 24, height = 16, bitDepth: 8 | 16 = 8): Buffer {
  const n = width * height;
  let x = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  if (bitDepth === 16) {
    const data = new Uint16Array(n);
    for (let i = 0; i < n; i++) data[i] = next() & 0xffff;
    return Buffer.from(encodePng({ width, height, bitDepth: 16, data }));
  }
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = next() & 0xff;
  return Buffer.from(encodePng({ width, height, bitDepth: 8, data }));
}

export interface TestImage {
  png: Buffer;
  finding?: Finding;
  patientId?: string;
  split?: Split;
  view?: string;
  /** Override the declared size (bad-input tests). */
  sizeBytes?: number;
  sha256?: string;
}

export const dataset = (id: string) => ({ kind: CollectionKind.DATASET, id });
export const syntheticSet = (id: string) => ({ kind: CollectionKind.SYNTHETIC_SET, id });

/** The PutImages messages for images: per image its header with the first chunkBytes of the PNG, then the rest in chunks. */
export function* imageMessages(
  collection: { kind: CollectionKind; id: string },
  images: readonly TestImage[],
  chunkBytes = 1024 * 1024,
): Generator<PutImagesRequest> {
  for (const img of images) {
    const header = {
      collection,
      finding: img.finding ?? Finding.HEALTHY,
      patientId: img.patientId ?? 'p-1',
      split: img.split ?? Split.UNSPECIFIED,
      view: img.view ?? 'PA',
      sizeBytes: img.sizeBytes ?? img.png.byteLength,
      sha256: img.sha256 ?? '',
    };
    yield { header, chunk: img.png.subarray(0, chunkBytes) };
    for (let i = chunkBytes; i < img.png.byteLength; i += chunkBytes) yield { chunk: img.png.subarray(i, i + chunkBytes) };
  }
}

/** Anything with a storage client: a harness, or a client to a storage service in another process. */
export type HasClient = Pick<StorageHarness, 'client'>;

export function putImages(
  h: HasClient,
  collection: { kind: CollectionKind; id: string },
  images: readonly TestImage[],
  chunkBytes?: number,
): Promise<PutImagesResponse> {
  return callClientStream(h.client, 'putImages', imageMessages(collection, images, chunkBytes));
}

/** GetImage as one header and the concatenated bytes; also reports the largest chunk and the messages seen. */
export function getImage(h: HasClient, collection: { kind: CollectionKind; id: string }, sha256: string) {
  return new Promise<{ header: ImageRef | undefined; bytes: Buffer; maxChunk: number; messages: number }>((resolve, reject) => {
    const call = h.client.getImage({ collection, sha256 });
    let header: ImageRef | undefined;
    const parts: Buffer[] = [];
    let maxChunk = 0;
    let messages = 0;
    call.on('data', (m: GetImageResponse) => {
      messages++;
      if (m.header) header = m.header;
      parts.push(m.chunk);
      maxChunk = Math.max(maxChunk, m.chunk.byteLength);
    });
    call.on('error', reject);
    call.on('end', () => resolve({ header, bytes: Buffer.concat(parts), maxChunk, messages }));
  });
}

export function putBlob(h: HasClient, ref: BlobRef, bytes: Buffer, extra: { sizeBytes?: number; sha256?: string; contentType?: string; chunkBytes?: number } = {}): Promise<Blob> {
  const chunk = extra.chunkBytes ?? 1024 * 1024;
  function* messages() {
    yield {
      item: {
        $case: 'header' as const,
        header: { ref, contentType: extra.contentType ?? 'application/octet-stream', sizeBytes: extra.sizeBytes ?? bytes.byteLength, sha256: extra.sha256 ?? '' },
      },
    };
    for (let i = 0; i < bytes.byteLength; i += chunk) yield { item: { $case: 'chunk' as const, chunk: bytes.subarray(i, i + chunk) } };
  }
  return callClientStream(h.client, 'putBlob', messages());
}

export function getBlob(h: HasClient, ref: BlobRef) {
  return new Promise<{ header: Blob | undefined; bytes: Buffer; maxChunk: number }>((resolve, reject) => {
    const call = h.client.getBlob({ ref });
    let header: Blob | undefined;
    const parts: Buffer[] = [];
    let maxChunk = 0;
    call.on('data', (m: { part?: { $case: 'header'; header: Blob } | { $case: 'chunk'; chunk: Buffer } }) => {
      if (m.part?.$case === 'header') header = m.part.header;
      else if (m.part?.$case === 'chunk') {
        parts.push(m.part.chunk);
        maxChunk = Math.max(maxChunk, m.part.chunk.byteLength);
      }
    });
    call.on('error', reject);
    call.on('end', () => resolve({ header, bytes: Buffer.concat(parts), maxChunk }));
  });
}

/** The gRPC error a call failed with (fails the test when it succeeded). */
export async function grpcError(p: Promise<unknown>): Promise<GrpcError> {
  try {
    await p;
  } catch (err) {
    return err as GrpcError;
  }
  throw new Error('expected the call to fail');
}

/** GetImages: many images in one call, as (header, bytes) in the order the service sent them. */
export function getImages(h: HasClient, collection: { kind: CollectionKind; id: string }, sha256: string[]) {
  return new Promise<{ header: ImageRef; bytes: Buffer }[]>((resolve, reject) => {
    const call = h.client.getImages({ collection, sha256 });
    const out: { header: ImageRef; parts: Buffer[] }[] = [];
    call.on('data', (m: GetImageResponse) => {
      if (m.header) out.push({ header: m.header, parts: [] });
      out[out.length - 1]?.parts.push(m.chunk);
    });
    call.on('error', reject);
    call.on('end', () => resolve(out.map((o) => ({ header: o.header, bytes: o.parts.length === 1 ? o.parts[0]! : Buffer.concat(o.parts) }))));
  });
}
