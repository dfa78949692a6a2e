// One prom-client Registry per service: process/Node.js metrics, a build-info gauge, and helpers for the
// service's own `cxr_synth_*` metrics. prom-client's `nodejs_active_{handles,requests,resources}_total`
// are gauges with a `_total` suffix, which `promtool check metrics` rejects; the unsuffixed per-type gauges
// carry the same numbers (sum them), so the `_total` ones are dropped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { packageVersion } from './version.js';

export { Registry };

const PROMTOOL_REJECTED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface RegistryOptions {
  /** Service name, e.g. 'storage': a `service` label on cxr_synth_build_info. */
  service: string;
  /** Defaults to the package.json version. */
  version?: string;
  /** Whether to collect process and Node.js metrics (default true). */
  processMetrics?: boolean;
}

export function createRegistry(options: RegistryOptions): Registry {
  const registry = new Registry();
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of PROMTOOL_REJECTED) registry.removeSingleMetric(name);
  }
  const build = new Gauge({
    name: 'cxr_synth_build_info',
    help: 'Always 1; labels say which build of which service this is.',
    labelNames: ['service', 'version', 'node_version'] as const,
    registers: [registry],
  });
  build.set({ service: options.service, version: options.version ?? packageVersion(), node_version: process.version }, 1);
  return registry;
}

const PREFIX = 'cxr_synth_';

function checkName(name: string, kind: 'counter' | 'gauge' | 'histogram'): void {
  if (!name.startsWith(PREFIX)) throw new Error(`metric ${name} must start with ${PREFIX}`);
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`metric ${name}: use lowercase snake_case`);
  if (kind === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end with _total`);
  if (kind !== 'counter' && name.endsWith('_total')) throw new Error(`${kind} ${name} must not end with _total`);
}

/** A `cxr_synth_*_total` counter on `registry`. */
export function counter<L extends string = never>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  checkName(name, 'counter');
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

/** A `cxr_synth_*` gauge on `registry`; `collect` runs at every scrape, for values read on demand. */
export function gauge<L extends string = never>(
  registry: Registry, name: string, help: string, labelNames: readonly L[] = [], collect?: () => void | Promise<void>,
): Gauge<L> {
  checkName(name, 'gauge');
  return new Gauge<L>({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) });
}

/** A `cxr_synth_*` histogram on `registry`; `buckets` in the metric's unit (seconds for `_seconds`). */
export function histogram<L extends string = never>(
  registry: Registry, name: string, help: string, labelNames: readonly L[] = [], buckets?: number[],
): Histogram<L> {
  checkName(name, 'histogram');
  return new Histogram<L>({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });
}
