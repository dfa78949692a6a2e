// cxr-synth serve <storage|generator|classifier|metrics|all>: runs services until SIGTERM/SIGINT,
// then drains in-flight calls (CXR_SYNTH_SHUTDOWN_DRAIN) and exits.
import { loadConfig, SERVICE_NAMES, type ServiceName } from '../../shared/config/index.js';
import { installShutdownHandler } from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';
import { startHost } from '../../services/host.js';
import { intOpt, parse, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { table } from '../output.js';

const USAGE = `usage: cxr-synth serve <${SERVICE_NAMES.join('|')}|all> [--port N] [--metrics-port N] [--json]

Runs the service(s) until SIGTERM or SIGINT. With "all", --port N and --metrics-port M give
storage N / M, generator N+1 / M+1, classifier N+2 / M+2, metrics N+3 / M+3; 0 picks free ports.
Without them the ports come from the configuration (see README: CXR_SYNTH_<SERVICE>_PORT).`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run one service, or all four in one process',
  usage: USAGE,
  async run(argv, out) {
    const p = parse(argv, { port: { type: 'string' }, 'metrics-port': { type: 'string' } });
    const [which, ...extra] = p.positionals;
    if (which === undefined || extra.length > 0) throw new UsageError('name exactly one service, or all');
    if (which !== 'all' && !(SERVICE_NAMES as readonly string[]).includes(which)) {
      throw new UsageError(`unknown service "${which}"; one of ${SERVICE_NAMES.join(', ')}, all`);
    }
    const names: ServiceName[] = which === 'all' ? [...SERVICE_NAMES] : [which as ServiceName];
    const port = intOpt(p, 'port', { min: 0, max: 65535 });
    const metricsPort = intOpt(p, 'metrics-port', { min: 0, max: 65535 });
    const offset = (base: number | undefined, i: number) => (base === undefined ? undefined : base === 0 ? 0 : base + i);
    const ports = Object.fromEntries(names.map((n, i) => [n, { grpc: offset(port, i), metrics: offset(metricsPort, i) }]));

    const config = loadConfig();
    const logger = createLogger({ app: 'cxr-synth' }, { level: config.logLevel });
    const host = await startHost({ config, logger, names, ports });
    const listening = host.services.map((s) => ({ service: s.name, grpc: s.address, metrics: s.metrics.url }));
    out.result({ listening }, () => table(['service', 'grpc', 'metrics'], listening.map((l) => [l.service, l.grpc, l.metrics])));

    // The handler drains and exits the process; until a signal comes, serving is the command's whole job.
    installShutdownHandler([() => host.close()], { logger });
    return new Promise<number>(() => {});
  },
};
