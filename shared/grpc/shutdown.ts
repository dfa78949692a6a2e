// Process-level graceful shutdown: on SIGTERM/SIGINT run every closer (gRPC servers drain their in-flight
// calls, metrics endpoints close), then exit 0. A second signal while draining exits at once (status 1), for
// the impatient operator. One handler per process, so `serve all` (four servers in one process) drains them
// all before exiting rather than the first finished server ending the process under the others.
import type { Logger } from '../log/logger.js';

export type Closer = () => Promise<unknown>;

let installed: { closers: Closer[]; remove: () => void } | undefined;

export interface ShutdownHandlerOptions {
  logger?: Logger;
  signals?: readonly NodeJS.Signals[];
  /** Defaults to process.exit; tests pass their own. */
  exit?: (code: number) => void;
}

/** Adds closers to the process's shutdown handler (installing it on first use). Returns an uninstall function. */
export function installShutdownHandler(closers: readonly Closer[], options: ShutdownHandlerOptions = {}): () => void {
  if (installed) {
    installed.closers.push(...closers);
    return installed.remove;
  }
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const list = [...closers];
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      options.logger?.warn('second signal while draining: exiting now', { signal });
      exit(1);
      return;
    }
    shuttingDown = true;
    options.logger?.info('shutting down', { signal });
    Promise.allSettled(list.map((c) => c())).then((results) => {
      const failed = results.filter((r) => r.status === 'rejected');
      for (const f of failed) options.logger?.error('shutdown step failed', { error: String((f as PromiseRejectedResult).reason) });
      options.logger?.info('shutdown complete', { failed: failed.length });
      exit(0);
    });
  };
  for (const s of signals) process.on(s, onSignal);
  const remove = () => {
    for (const s of signals) process.off(s, onSignal);
    installed = undefined;
  };
  installed = { closers: list, remove };
  return remove;
}
