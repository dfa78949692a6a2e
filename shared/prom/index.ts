// Public surface of shared/prom: import from here.
export { createRegistry, counter, gauge, histogram, Registry } from './registry.js';
export type { RegistryOptions } from './registry.js';
export { GrpcServerMetrics } from './grpc-metrics.js';
export type { CallLabels, GrpcType } from './grpc-metrics.js';
export { startMetricsServer } from './http.js';
export type { MetricsServer, MetricsServerOptions } from './http.js';
export { packageVersion } from './version.js';
