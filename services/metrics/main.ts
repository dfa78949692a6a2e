// Metrics service wiring: images, model weights, cached features and evaluations all come from the
// storage service over gRPC; TensorFlow.js (for the feature networks) starts on the best backend.
import { StorageClient, storageBlobStore } from '../../shared/clients/storage.js';
import { MetricsServiceService } from '../../shared/proto/cxrsynth/v1/metrics.js';
import { StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { initTf } from '../../shared/tf/index.js';
import type { ServiceModule } from '../service-module.js';
import { FeatureCache } from './features/feature-cache.js';
import { storageNetworks } from './features/provider.js';
import { createMetricsService, METRICS_POLICY } from './service.js';
import { storageEvaluations, storageImageSource } from './storage-client.js';

export const metricsService: ServiceModule = {
  name: 'metrics',
  async create({ logger, connect }) {
    await initTf();
    const storage = new StorageClient(connect('storage', StorageServiceClient));
    const blobs = storageBlobStore(storage);
    const implementation = createMetricsService({
      images: storageImageSource(storage),
      networks: storageNetworks(blobs),
      cache: new FeatureCache(blobs),
      evaluations: storageEvaluations(blobs),
      logger,
    });
    return {
      registration: { definition: MetricsServiceService, implementation, policy: METRICS_POLICY },
      close: async () => {},
    };
  },
};
