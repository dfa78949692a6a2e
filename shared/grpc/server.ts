// Starts a gRPC server for one or more services with everything every cxr-synth service needs:
// auth + metrics + logs (interceptor.ts), error → status mapping (wrap.ts), grpc.health.v1 (health.ts),
// reflection (reflection.ts), message size limits, TLS / mTLS (tls.ts) and a graceful drain on shutdown.
import { Server, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { TlsConfig, TokenEntry } from '../config/index.js';
import { createLogger, type Logger } from '../log/logger.js';
import { GrpcServerMetrics } from '../prom/grpc-metrics.js';
import { checkPolicy, createAuthenticator, type MethodPolicy } from './auth.js';
import { HealthRegistry, HealthService, ServingStatus } from './health.js';
import { createServerInterceptor, grpcType, splitPath, type InFlight, type MethodInfo } from './interceptor.js';
import { addReflection } from './reflection.js';
import { installShutdownHandler, type ShutdownHandlerOptions } from './shutdown.js';
import { serverCredentials } from './tls.js';
import { wrapImplementation } from './wrap.js';

export interface ServiceRegistration {
  /** The ts-proto service definition, e.g. StorageServiceService. */
  definition: ServiceDefinition;
  /** Handlers keyed like the definition (ts-proto: lowerCamel method names), e.g. a StorageServiceServer. */
  implementation: UntypedServiceImplementation;
  /** Method name as in the .proto → roles (or 'open'); must list exactly the service's methods. */
  policy: MethodPolicy;
  /** Fully qualified name ('cxrsynth.v1.StorageService'); taken from the definition's paths when omitted. */
  name?: string;
}

export interface StartServerOptions {
  services: readonly ServiceRegistration[];
  /** 0 picks a free port; see RunningServer.port. */
  port: number;
  host?: string;
  tls?: Pick<TlsConfig, 'certFile' | 'keyFile' | 'caFile' | 'clientAuth'>;
  auth?: { enabled: boolean; tokens: readonly TokenEntry[] };
  limits?: { maxMessageBytes: number };
  /** Registry for the grpc_server_* metrics (one set per registry, shared by servers using the same one). */
  metrics?: Registry;
  logger?: Logger;
  /** Default drain deadline for shutdown(). */
  drainDeadlineMs?: number;
  /** Serve grpc.reflection (default true). */
  reflection?: boolean;
  /** Services start SERVING once bound unless this is false; then they call health.set themselves. */
  servingOnStart?: boolean;
}

export interface ShutdownResult {
  /** True when the deadline passed and remaining calls were cancelled. */
  forced: boolean;
  /** Calls still in flight when the drain began. */
  inFlightAtStart: number;
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  /** The service names registered on this server (for health.set). */
  readonly serviceNames: readonly string[];
  readonly server: Server;
  readonly health: HealthRegistry;
  inFlight(): number;
  /** NOT_SERVING, stop accepting, wait for in-flight calls (streams too) up to the deadline, then force. Idempotent. */
  shutdown(drainDeadlineMs?: number): Promise<ShutdownResult>;
  /** Shut down on SIGTERM/SIGINT, then exit 0 (see shutdown.ts). Returns an uninstall function. */
  installSignalHandlers(options?: ShutdownHandlerOptions): () => void;
}

const metricsByRegistry = new WeakMap<Registry, GrpcServerMetrics>();

function metricsFor(registry: Registry): GrpcServerMetrics {
  let m = metricsByRegistry.get(registry);
  if (!m) {
    m = new GrpcServerMetrics(registry);
    metricsByRegistry.set(registry, m);
  }
  return m;
}

function serviceNameOf(reg: ServiceRegistration): string {
  if (reg.name) return reg.name;
  const first = Object.values(reg.definition)[0];
  if (!first) throw new Error('service definition has no methods');
  return splitPath(first.path).service;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ component: 'grpc' });
  const host = options.host ?? '127.0.0.1';
  const metrics = options.metrics ? metricsFor(options.metrics) : undefined;
  const health = new HealthRegistry();
  const inFlight: InFlight = { count: 0 };

  const methods = new Map<string, MethodInfo>();
  const registered: { name: string; reg: ServiceRegistration }[] = [];
  for (const reg of options.services) {
    const name = serviceNameOf(reg);
    const methodNames = Object.values(reg.definition).map((m) => splitPath(m.path).method);
    checkPolicy(name, methodNames, reg.policy);
    for (const m of Object.values(reg.definition)) {
      const info: MethodInfo = { service: name, method: splitPath(m.path).method, type: grpcType(m.requestStream, m.responseStream), policy: reg.policy };
      methods.set(m.path, info);
      metrics?.declare({ grpc_service: info.service, grpc_method: info.method, grpc_type: info.type });
    }
    registered.push({ name, reg });
  }

  const authenticate = options.auth?.enabled ? createAuthenticator(options.auth.tokens) : undefined;
  if (options.auth?.enabled && options.auth.tokens.length === 0) logger.warn('auth is on but no tokens are configured: every protected call will be refused');

  const maxBytes = options.limits?.maxMessageBytes;
  const server = new Server({
    interceptors: [createServerInterceptor({ methods, authenticate, metrics, logger, inFlight })],
    ...(maxBytes ? { 'grpc.max_receive_message_length': maxBytes, 'grpc.max_send_message_length': maxBytes } : {}),
  });

  for (const { name, reg } of registered) {
    server.addService(reg.definition, wrapImplementation(reg.definition, reg.implementation, logger.child({ service: name })));
    health.register(name);
  }
  server.addService(HealthService, health.implementation() as unknown as UntypedServiceImplementation);
  const names = registered.map((r) => r.name);
  if (options.reflection !== false) addReflection(server, [...names, 'grpc.health.v1.Health']);

  const credentials = serverCredentials(options.tls ?? { certFile: undefined, keyFile: undefined, caFile: undefined, clientAuth: 'none' });
  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${bindHost}:${options.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  if (options.servingOnStart !== false) for (const n of names) health.set(n, ServingStatus.SERVING);
  logger.info('grpc server listening', {
    host, port, services: names, tls: Boolean(options.tls?.certFile), mtls: options.tls?.clientAuth === 'require', auth: Boolean(authenticate),
  });

  let shutdownPromise: Promise<ShutdownResult> | undefined;
  const shutdown = (drainDeadlineMs = options.drainDeadlineMs ?? 25_000): Promise<ShutdownResult> => {
    shutdownPromise ??= new Promise<ShutdownResult>((resolve) => {
      const inFlightAtStart = inFlight.count;
      health.shutdown();
      logger.info('draining', { in_flight: inFlightAtStart, deadline_ms: drainDeadlineMs });
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        logger.warn('drain deadline passed: cancelling remaining calls', { in_flight: inFlight.count });
        server.forceShutdown();
      }, drainDeadlineMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        logger.info('grpc server stopped', { forced });
        resolve({ forced, inFlightAtStart });
      });
    });
    return shutdownPromise;
  };

  return {
    port,
    host,
    serviceNames: names,
    server,
    health,
    inFlight: () => inFlight.count,
    shutdown,
    installSignalHandlers: (o = {}) => installShutdownHandler([() => shutdown()], { logger, ...o }),
  };
}
