// Metrics service wiring.
import { MetricsServiceService } from '../../shared/proto/cxrsynth/v1/metrics.js';
import { policyFor } from '../policy.js';
import { unimplementedHandlers } from '../unimplemented.js';
import type { ServiceModule } from '../service-module.js';

export const metricsService: ServiceModule = {
  name: 'metrics',
  async create() {
    return {
      registration: { definition: MetricsServiceService, implementation: unimplementedHandlers(MetricsServiceService, 'being wired'), policy: policyFor(MetricsServiceService) },
      close: async () => {},
    };
  },
};
