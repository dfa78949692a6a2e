// Storage service wiring: the backend named by CXR_SYNTH_STORAGE_URL, health driven by a backend probe.
import type { ServiceModule } from '../service-module.js';
import { createStorageService } from './index.js';

export const storageService: ServiceModule = {
  name: 'storage',
  async create({ config, logger, registry }) {
    const storage = createStorageService(config, logger, { registry });
    return {
      registration: storage.registration,
      started: (health) => storage.start(health),
      close: () => storage.close(),
    };
  },
};
