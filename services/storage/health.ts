// Backend health: a periodic probe (ping the bucket or directory) that flips the service between SERVING and
// NOT_SERVING without a restart. Handlers that see the backend fail report it, so health drops at once instead
// of waiting for the next probe; recovery is always confirmed by a probe.
import type { Logger } from '../../shared/log/logger.js';
import type { ObjectStore } from './backends/object-store.js';

export type HealthListener = (serving: boolean, reason: string) => void;

export class BackendHealth {
  private timer: NodeJS.Timeout | undefined;
  private serving: boolean | undefined;
  private probing: Promise<void> | undefined;
  private readonly listeners = new Set<HealthListener>();
  /** The bucket/directory is created by the first successful probe, so a service started while its backend is
   *  down comes up NOT_SERVING and finishes initialising once the backend appears. */
  private initialized = false;
  lastError = '';

  constructor(
    private readonly store: ObjectStore,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  get isServing(): boolean {
    return this.serving === true;
  }

  onChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    if (this.serving !== undefined) listener(this.serving, this.lastError);
    return () => this.listeners.delete(listener);
  }

  /** Probes once now, then every intervalMs. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A handler saw the backend fail. */
  reportFailure(reason: string): void {
    this.set(false, reason);
  }

  /** One probe (concurrent callers share it). */
  probe(): Promise<void> {
    this.probing ??= (this.initialized ? this.store.ping() : this.store.init())
      .then(
        () => {
          this.initialized = true;
          this.set(true, '');
        },
        (err: unknown) => {
          this.initialized = false;
          this.set(false, err instanceof Error ? err.message : String(err));
        },
      )
      .finally(() => {
        this.probing = undefined;
      });
    return this.probing;
  }

  private set(serving: boolean, reason: string): void {
    this.lastError = reason;
    if (this.serving === serving) return;
    this.serving = serving;
    if (serving) this.logger.info('storage backend reachable: SERVING', { backend: this.store.location });
    else this.logger.warn('storage backend unreachable: NOT_SERVING', { backend: this.store.location, reason });
    for (const l of this.listeners) l(serving, reason);
  }
}
