// Runs one or more services in this process, each on its own gRPC port with its own /metrics port,
// exactly as they run one per pod: `serve all` and the demo keep the same topology, just on loopback.
// Services start in dependency order (storage first) so a peer's real address is known before its clients.
import type { Client } from '@grpc/grpc-js';
import type { Config, ServiceName } from '../shared/config/index.js';
import {
  clientOptionsFromConfig, createClient, ServingStatus, startServer, type ClientConstructor, type RunningServer,
} from '../shared/grpc/index.js';
import type { Logger } from '../shared/log/logger.js';
import { createRegistry, startMetricsServer, type MetricsServer } from '../shared/prom/index.js';
import { classifierService } from './classifier/main.js';
import { registerComputeMetrics } from './compute-metrics.js';
import { generatorService } from './generator/main.js';
import { metricsService } from './metrics/main.js';
import type { ServiceInstance, ServiceModule } from './service-module.js';
import { storageService } from './storage/main.js';

/** Dependency order: everything reads and writes through storage; metrics drives the other three. */
export const SERVICE_MODULES: readonly ServiceModule[] = [storageService, generatorService, classifierService, metricsService];

export interface HostedService {
  name: ServiceName;
  grpc: RunningServer;
  metrics: MetricsServer;
  instance: ServiceInstance;
  /** host:port clients dial. */
  address: string;
}

export interface Host {
  services: readonly HostedService[];
  address(name: ServiceName): string | undefined;
  close(drainDeadlineMs?: number): Promise<void>;
}

export interface HostOptions {
  config: Readonly<Config>;
  logger: Logger;
  names: readonly ServiceName[];
  /** Per-service port overrides (0 = any free port). */
  ports?: Partial<Record<ServiceName, { grpc?: number; metrics?: number }>>;
}

export async function startHost(options: HostOptions): Promise<Host> {
  const { config, logger } = options;
  const hosted: HostedService[] = [];
  const localAddress = (name: ServiceName) => hosted.find((h) => h.name === name)?.address;
  const clients: Client[] = [];

  const close = async (drainDeadlineMs = config.shutdownDrainMs) => {
    // Reverse order: callers stop before what they call.
    for (const h of [...hosted].reverse()) {
      await h.grpc.shutdown(drainDeadlineMs);
      await h.instance.close();
      await h.metrics.close();
    }
    for (const c of clients) c.close();
  };

  try {
    for (const module of SERVICE_MODULES.filter((m) => options.names.includes(m.name))) {
      const name = module.name;
      const log = logger.child({ service: name });
      const registry = createRegistry({ service: name });
      registerComputeMetrics(registry);
      const connect = <C extends Client>(peer: ServiceName, ctor: ClientConstructor<C>): C => {
        const base = clientOptionsFromConfig(config, peer);
        const local = localAddress(peer);
        const client = createClient(ctor, local ? { ...base, addresses: [local] } : base);
        clients.push(client);
        return client;
      };
      const instance = await module.create({ config, logger: log, registry, connect });
      const ports = options.ports?.[name];
      const grpc = await startServer({
        services: [instance.registration],
        port: ports?.grpc ?? config.ports[name].grpc,
        host: config.host,
        tls: config.tls,
        auth: { enabled: config.auth.enabled, tokens: config.auth.tokens },
        limits: { maxMessageBytes: config.limits.maxMessageBytes },
        metrics: registry,
        logger: log,
        drainDeadlineMs: config.shutdownDrainMs,
        servingOnStart: instance.started === undefined,
      });
      await instance.started?.(grpc.health);
      const metrics = await startMetricsServer({
        registry,
        port: ports?.metrics ?? config.ports[name].metrics,
        host: config.host,
        ready: () => grpc.health.get('') === ServingStatus.SERVING,
        logger: log,
      });
      const dialHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      hosted.push({ name, grpc, metrics, instance, address: `${dialHost}:${grpc.port}` });
      log.info('service ready', { grpc_port: grpc.port, metrics_port: metrics.port });
    }
  } catch (err) {
    await close(0);
    throw err;
  }
  return { services: hosted, address: localAddress, close };
}
