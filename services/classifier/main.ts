// Classifier service wiring. Until its models land, every RPC answers UNIMPLEMENTED with a message
// (services/unimplemented.ts), while health, reflection, auth and metrics already work like on every service.
import { ClassifierServiceService } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { policyFor } from '../policy.js';
import { unimplementedHandlers } from '../unimplemented.js';
import type { ServiceModule } from '../service-module.js';

export const classifierService: ServiceModule = {
  name: 'classifier',
  async create() {
    return {
      registration: {
        definition: ClassifierServiceService,
        implementation: unimplementedHandlers(ClassifierServiceService, 'the classifier families land with their own issue'),
        policy: policyFor(ClassifierServiceService, ['Classify', 'ClassifyStream', 'GetModel', 'ListModels']),
      },
      close: async () => {},
    };
  },
};
