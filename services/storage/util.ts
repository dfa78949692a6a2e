// Small helpers the storage domain modules share.
import { randomBytes } from 'node:crypto';
import type { ListedObject, ObjectStore } from './backends/object-store.js';

/** Runs fn over items with at most `limit` in flight, preserving order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Tasks running at once, bounded by count and by the bytes they hold (a task bigger than the byte budget runs
 * alone). The first failure is kept rather than thrown, for the owner to report where it can (`check`).
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();
  private bytes = 0;
  failure: { err: unknown } | undefined;

  constructor(private readonly limits: { concurrency: number; budgetBytes: number }) {}

  /** Waits until a task holding `size` bytes may start. */
  async waitForRoom(size: number): Promise<void> {
    while (this.running.size > 0 && (this.running.size >= this.limits.concurrency || this.bytes + size > this.limits.budgetBytes)) {
      await Promise.race(this.running);
    }
  }

  /** Counts a started task, holding `size` bytes, until it settles. */
  track(task: Promise<unknown>, size: number): void {
    this.bytes += size;
    const run: Promise<void> = task
      .then(
        () => undefined,
        (err: unknown) => {
          this.failure ??= { err };
        },
      )
      .finally(() => {
        this.running.delete(run);
        this.bytes -= size;
      });
    this.running.add(run);
  }

  /** Waits for every task counted so far to settle. */
  async settled(): Promise<void> {
    await Promise.all(this.running);
  }

  /** Rethrows the first failure, if there was one. */
  check(): void {
    if (this.failure) throw this.failure.err;
  }
}

/**
 * Runs fn over items within InFlight's limits. Stops starting items after the first failure and rethrows it once
 * the running ones have settled.
 */
export async function forEachWithin<T>(
  items: readonly T[],
  limits: { concurrency: number; budgetBytes: number; size: (item: T) => number },
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const tasks = new InFlight(limits);
  for (const item of items) {
    const size = limits.size(item);
    await tasks.waitForRoom(size);
    if (tasks.failure) break;
    tasks.track(fn(item), size);
  }
  await tasks.settled();
  tasks.check();
}

/** Every object under prefix (all pages). For bounded prefixes: a collection's images or staging records. */
export async function listAll(store: ObjectStore, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { limit: 1000, startAfter: after });
    out.push(...page.items);
    if (!page.next) return out;
    after = page.next;
  }
}

/** Removes every object under prefix; returns how many there were. */
export async function deletePrefix(store: ObjectStore, prefix: string): Promise<number> {
  const keys = (await listAll(store, prefix)).map((o) => o.key);
  if (keys.length > 0) await store.deleteMany(keys);
  return keys.length;
}

/** Time-ordered, collision-resistant id for staging records. */
export function timeId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(5).toString('hex')}`;
}
