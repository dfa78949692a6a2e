// Classifier service wiring: TensorFlow.js backend chosen once (shared/tf), storage reached through the mesh,
// training counters on this service's registry.
import { StorageClient } from '../../shared/clients/storage.js';
import { ClassifierServiceService } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { initTf } from '../../shared/tf/index.js';
import { policyFor } from '../policy.js';
import type { ServiceModule } from '../service-module.js';
import { ClassifierCore, classifierHandlers } from './service.js';

export const classifierService: ServiceModule = {
  name: 'classifier',
  async create({ config, logger, registry, connect }) {
    await initTf();
    const storage = new StorageClient(connect('storage', StorageServiceClient));
    const core = new ClassifierCore({ storage, config, logger, registry });
    return {
      registration: {
        definition: ClassifierServiceService,
        implementation: classifierHandlers(core),
        policy: policyFor(ClassifierServiceService, ['Classify', 'ClassifyStream', 'GetModel', 'ListModels']),
      },
      close: () => core.close(),
    };
  },
};
