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
 * Runs fn over items, at most `concurrency` at once and, while more than one runs, within `budgetBytes` of items in
 * flight (an item bigger than the budget runs alone). Stops starting items after the first failure and rethrows it.
 */
export async function forEachWithin<T>(
  items: readonly T[],
  limits: { concurrency: number; budgetBytes: number; size: (item: T) => number },
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let inFlightBytes = 0;
  let failure: { err: unknown } | undefined;
  for (const item of items) {
    const size = limits.size(item);
    while (running.size > 0 && (running.size >= limits.concurrency || inFlightBytes + size > limits.budgetBytes)) await Promise.race(running);
    if (failure) break;
    inFlightBytes += size;
    const run: Promise<void> = fn(item).then(
      () => undefined,
      (err: unknown) => {
        failure ??= { err };
      },
    ).finally(() => {
      running.delete(run);
      inFlightBytes -= size;
    });
    running.add(run);
  }
  await Promise.all(running);
  if (failure) throw failure.err;
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
