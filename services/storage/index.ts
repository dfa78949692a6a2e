// The storage service, assembled from configuration: backend (file:// or s3://), domain modules, handlers, health.
//
//   const storage = createStorageService(config, logger);
//   const server = await startServer({ services: [storage.registration], servingOnStart: false, ... });
//   await storage.start(server.health);   // probes the backend now and every few seconds → SERVING / NOT_SERVING
//   ...
//   await server.shutdown(); await storage.close();
import type { Config } from '../../shared/config/index.js';
import { s3Settings } from '../../shared/config/index.js';
import type { ServiceRegistration } from '../../shared/grpc/server.js';
import { ServingStatus, type HealthRegistry } from '../../shared/grpc/health.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Registry } from '../../shared/prom/registry.js';
import { StorageServiceService } from '../../shared/proto/cxrsynth/v1/storage.js';
import { FsObjectStore } from './backends/fs.js';
import type { ObjectStore } from './backends/object-store.js';
import { S3ObjectStore } from './backends/s3.js';
import { Blobs } from './blobs.js';
import { Collections } from './collections.js';
import { PackReader } from './images.js';
import { StorageMetrics } from './metrics.js';
import { BackendHealth } from './health.js';
import { STORAGE_POLICY, createStorageHandlers } from './service.js';

export const STORAGE_SERVICE_NAME = 'cxrsynth.v1.StorageService';

export interface StorageServiceOptions {
  /** Use this store instead of the one CXR_SYNTH_STORAGE_URL names (tests, embedding). */
  store?: ObjectStore;
  /** Backend probe period (default 2 s). */
  probeIntervalMs?: number;
  /** How long committed manifests are reused before re-reading (default 5 s). */
  manifestCacheMs?: number;
  /** Pack writes in flight per PutImages stream (default 16). */
  putConcurrency?: number;
  /** A pack of images is written once it holds this many bytes (default packs.PACK_TARGET_BYTES, 4 MiB). */
  packBytes?: number;
  /** The Prometheus registry for the service's own metrics (metrics.ts); a private one when absent. */
  registry?: Registry;
  /** Largest blob accepted (default 5 GiB: the S3 CopyObject limit that publishing a multipart blob relies on). */
  maxBlobBytes?: number;
  /** S3 multipart part size (default 16 MiB, minimum 5 MiB). */
  s3PartSize?: number;
}

export interface StorageService {
  readonly name: typeof STORAGE_SERVICE_NAME;
  /** Pass to startServer({ services: [...] }). */
  readonly registration: ServiceRegistration;
  readonly store: ObjectStore;
  readonly health: BackendHealth;
  /** Starts the backend probe; with a HealthRegistry, keeps this service's grpc.health status in step with it. */
  start(registry?: HealthRegistry): Promise<void>;
  /** Stops the probe and releases backend connections. */
  close(): Promise<void>;
}

export function createObjectStore(config: Readonly<Config>, options: Pick<StorageServiceOptions, 's3PartSize'> = {}): ObjectStore {
  if (config.storage.kind === 'file') return new FsObjectStore(config.storage.dir);
  return new S3ObjectStore({ ...s3Settings(config), partSize: options.s3PartSize });
}

export function createStorageService(config: Readonly<Config>, logger: Logger, options: StorageServiceOptions = {}): StorageService {
  const log = logger.child({ service: 'storage' });
  const store = options.store ?? createObjectStore(config, options);
  const health = new BackendHealth(store, log, options.probeIntervalMs ?? 2000);
  const metrics = new StorageMetrics(options.registry);
  const collections = new Collections(store, log, {
    manifestCacheMs: options.manifestCacheMs,
    putConcurrency: options.putConcurrency,
    packBytes: options.packBytes,
    metrics,
  });
  const blobs = new Blobs(store, options.maxBlobBytes ?? 5 * 1024 ** 3);
  const limits = { maxBytes: config.limits.maxImageBytes, maxPixels: config.limits.maxImagePixels };
  const implementation = createStorageHandlers({ store, reader: new PackReader(store, metrics), collections, blobs, health, limits, logger: log });
  let unsubscribe: (() => void) | undefined;
  return {
    name: STORAGE_SERVICE_NAME,
    registration: { definition: StorageServiceService, implementation, policy: STORAGE_POLICY, name: STORAGE_SERVICE_NAME },
    store,
    health,
    async start(registry) {
      if (registry) {
        unsubscribe = health.onChange((serving) =>
          registry.set(STORAGE_SERVICE_NAME, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING),
        );
      }
      await health.start();
      log.info('storage service started', { backend: store.location, serving: health.isServing });
    },
    async close() {
      unsubscribe?.();
      health.stop();
      await store.close();
    },
  };
}

export { STORAGE_POLICY };
export type { ObjectStore };
