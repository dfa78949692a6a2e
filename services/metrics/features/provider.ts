// Feature networks from storage: inception-v3 from the operator's converted weights, domain from a
// stored classifier (models/classifier/<feature_model_id>, where the id may carry "/<step>").
// Loaded networks are kept per (name, id) so a service does not rebuild a 22M-parameter graph per call;
// the handle given out must not be disposed by the caller (dispose is a no-op on it).
import { blobIOHandler, type BlobIO } from '../../../shared/tf/index.js';
import { loadDomainNetwork, type DomainOptions } from './domain.js';
import { INCEPTION_INPUT_SIZE, INCEPTION_WEIGHTS_PREFIX, loadInceptionV3 } from './inception-v3.js';
import { MissingWeightsError, type FeatureNetwork, type FeatureNetworkName } from './network.js';
import type { FeatureNetworkProvider } from '../sources.js';

export interface StorageNetworksOptions {
  /** Inception input size; 299 for standard FID (smaller only for tests). */
  inceptionInputSize?: number;
  domain?: DomainOptions;
  /** classifier prefix in the models namespace; default "models/classifier" */
  classifierPrefix?: string;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9._-]+)?$/;

export function storageNetworks(blobs: BlobIO, options: StorageNetworksOptions = {}): FeatureNetworkProvider {
  const loaded = new Map<string, Promise<FeatureNetwork>>();
  const load = (name: FeatureNetworkName, id: string): Promise<FeatureNetwork> => {
    if (name === 'inception-v3') {
      return loadInceptionV3(blobIOHandler(blobs, INCEPTION_WEIGHTS_PREFIX), options.inceptionInputSize ?? INCEPTION_INPUT_SIZE);
    }
    if (id.trim() === '') {
      return Promise.reject(new MissingWeightsError('feature network "domain" needs feature_model_id: the classifier trained on the real training split'));
    }
    if (!SAFE_ID.test(id)) return Promise.reject(new MissingWeightsError(`feature_model_id "${id}" is not a valid model id`));
    return loadDomainNetwork(blobIOHandler(blobs, `${options.classifierPrefix ?? 'models/classifier'}/${id}`), id, options.domain);
  };
  return {
    async get(name, featureModelId) {
      const key = `${name}:${name === 'domain' ? featureModelId : ''}`;
      let p = loaded.get(key);
      if (p === undefined) {
        p = load(name, featureModelId);
        loaded.set(key, p);
        p.catch(() => loaded.delete(key)); // a failure (e.g. weights not yet uploaded) is not remembered
      }
      const net = await p;
      return { ...net, dispose: () => undefined };
    },
  };
}
