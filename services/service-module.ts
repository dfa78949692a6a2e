// What every service folder's main.ts exports: how to build the service from configuration, so that
// `cxr-synth serve <name>`, `serve all` and the demo start services the same way.
import type { Client } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Config, ServiceName } from '../shared/config/index.js';
import type { ClientConstructor, HealthRegistry, ServiceRegistration } from '../shared/grpc/index.js';
import type { Logger } from '../shared/log/logger.js';

export interface ServiceContext {
  config: Readonly<Config>;
  logger: Logger;
  /** This service's Prometheus registry (served on its own /metrics port). */
  registry: Registry;
  /** A client for another service of the mesh; in-process peers are reached over loopback like remote ones. */
  connect<C extends Client>(service: ServiceName, ctor: ClientConstructor<C>): C;
}

export interface ServiceInstance {
  registration: ServiceRegistration;
  /**
   * Called once the gRPC server is bound. A service that has it starts NOT_SERVING and drives its own
   * health from here (e.g. storage follows its backend); one without it is SERVING as soon as it is bound.
   */
  started?(health: HealthRegistry): Promise<void> | void;
  close(): Promise<void>;
}

export interface ServiceModule {
  name: ServiceName;
  create(ctx: ServiceContext): Promise<ServiceInstance>;
}
