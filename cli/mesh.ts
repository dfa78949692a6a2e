// How a CLI command reaches the mesh. With CXR_SYNTH_<SERVICE>_ADDR set (or --addr) it calls the running
// services; without, it starts the services it needs in this process on loopback over the configured
// storage (a file:// directory by default) and calls them over gRPC all the same.
import type { Client } from '@grpc/grpc-js';
import { loadConfig, type Config, type ServiceName } from '../shared/config/index.js';
import { clientOptionsFromConfig, createClient, type ClientConstructor } from '../shared/grpc/index.js';
import { createLogger, type Logger } from '../shared/log/logger.js';
import { startHost, type Host } from '../services/host.js';

export interface Mesh {
  config: Readonly<Config>;
  logger: Logger;
  connect<C extends Client>(service: ServiceName, ctor: ClientConstructor<C>): C;
  close(): Promise<void>;
  /** True when the services run inside this process. */
  embedded: boolean;
}

const addrKey = (s: ServiceName) => `CXR_SYNTH_${s.toUpperCase()}_ADDR`;

export async function openMesh(needs: readonly ServiceName[], env: NodeJS.ProcessEnv = process.env): Promise<Mesh> {
  const config = loadConfig(env);
  // Quiet by default: a CLI user wants the result (errors reach them as the command's message), not request logs.
  const logger = createLogger({ app: 'cxr-synth' }, { level: env.CXR_SYNTH_LOG_LEVEL ? config.logLevel : 'error' });
  const remote = needs.every((s) => env[addrKey(s)] !== undefined);
  let host: Host | undefined;
  if (!remote) {
    const ports = Object.fromEntries(needs.map((n) => [n, { grpc: 0, metrics: 0 }]));
    host = await startHost({ config, logger, names: needs, ports });
  }
  const clients: Client[] = [];
  return {
    config,
    logger,
    embedded: host !== undefined,
    connect(service, ctor) {
      const base = clientOptionsFromConfig(config, service);
      const local = host?.address(service);
      const client = createClient(ctor, local ? { ...base, addresses: [local] } : base);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await host?.close(1000);
    },
  };
}
