// Generator service wiring. Until its models land, every RPC answers UNIMPLEMENTED with a message
// (services/unimplemented.ts), while health, reflection, auth and metrics already work like on every service.
import { GeneratorServiceService } from '../../shared/proto/cxrsynth/v1/generator.js';
import { policyFor } from '../policy.js';
import { unimplementedHandlers } from '../unimplemented.js';
import type { ServiceModule } from '../service-module.js';

export const generatorService: ServiceModule = {
  name: 'generator',
  async create() {
    return {
      registration: {
        definition: GeneratorServiceService,
        implementation: unimplementedHandlers(GeneratorServiceService, 'the generative models (GAN, DDPM, conditional diffusion, DreamBooth, LoRA) land with their own issue'),
        policy: policyFor(GeneratorServiceService, ['Generate', 'WatchJob', 'GetModel', 'ListModels']),
      },
      close: async () => {},
    };
  },
};
