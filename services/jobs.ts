// An in-memory registry of long-running jobs (training, bulk generation): each job has its latest event,
// the subscribers of its event stream and an AbortController that cancellation trips. The RPCs map onto it:
//   Train/Generate   → create() then run the work, publish() progress, stream subscribe() to the caller;
//   WatchJob(id)     → subscribe(): the latest event first, then every later one until a terminal state;
//   CancelJob(id)    → cancel(): the job's signal aborts and its terminal CANCELLED event is published at once
//                      (later publishes from the stopping worker are ignored, so CANCELLED stays final).
// Generic over the event type so the generator service reuses it; jobs live as long as the process (a
// restarted service forgets them — what the work made is in storage, its progress is not).
import { JobState } from '../shared/proto/cxrsynth/v1/common.js';

export interface JobEventLike {
  jobId: string;
  state: JobState;
}

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set([JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED]);

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

interface Job<E extends JobEventLike> {
  latest: E;
  readonly controller: AbortController;
  readonly listeners: Set<(event: E) => void>;
}

export interface JobRegistryOptions {
  /** Finished jobs kept for WatchJob / CancelJob answers; the oldest are forgotten first. Default 256. */
  keepFinished?: number;
}

export class JobRegistry<E extends JobEventLike> {
  private readonly jobs = new Map<string, Job<E>>();
  private readonly finished: string[] = [];
  private readonly keepFinished: number;

  constructor(options: JobRegistryOptions = {}) {
    this.keepFinished = options.keepFinished ?? 256;
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** Registers a job with its first event; returns the signal its worker must honour. */
  create(first: E): AbortSignal {
    if (this.jobs.has(first.jobId)) throw new Error(`job ${first.jobId} already exists`);
    const job: Job<E> = { latest: first, controller: new AbortController(), listeners: new Set() };
    this.jobs.set(first.jobId, job);
    if (isTerminal(first.state)) this.retire(first.jobId);
    return job.controller.signal;
  }

  latest(jobId: string): E | undefined {
    return this.jobs.get(jobId)?.latest;
  }

  /** Records and fans out an event. Ignored (returns false) once the job is in a terminal state. */
  publish(event: E): boolean {
    const job = this.jobs.get(event.jobId);
    if (job === undefined || isTerminal(job.latest.state)) return false;
    job.latest = event;
    for (const l of [...job.listeners]) l(event);
    if (isTerminal(event.state)) {
      job.listeners.clear();
      this.retire(event.jobId);
    }
    return true;
  }

  /**
   * Aborts a running job and publishes `cancelledEvent(latest)` as its final event. A finished job is left
   * as it is. Returns the job's latest event afterwards, or undefined for an unknown id.
   */
  cancel(jobId: string, cancelledEvent: (latest: E) => E): E | undefined {
    const job = this.jobs.get(jobId);
    if (job === undefined) return undefined;
    if (!isTerminal(job.latest.state)) {
      const event = cancelledEvent(job.latest);
      this.publish(event);
      job.controller.abort(new Error('job cancelled'));
    }
    return job.latest;
  }

  /**
   * The job's events: the latest first, then each later one, ending after a terminal event or when `signal`
   * aborts (the subscriber went away; the job itself goes on). Undefined for an unknown id.
   */
  subscribe(jobId: string, signal?: AbortSignal): AsyncIterable<E> | undefined {
    const job = this.jobs.get(jobId);
    if (job === undefined) return undefined;
    const queue: E[] = [job.latest];
    let wake: (() => void) | undefined;
    let ended = isTerminal(job.latest.state);
    const listener = (event: E) => {
      queue.push(event);
      if (isTerminal(event.state)) ended = true;
      wake?.();
    };
    const onAbort = () => {
      ended = true;
      queue.length = 0;
      wake?.();
    };
    if (!ended) job.listeners.add(listener);
    signal?.addEventListener('abort', onAbort, { once: true });
    return {
      [Symbol.asyncIterator]: async function* () {
        try {
          for (;;) {
            const next = queue.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            if (ended || signal?.aborted) return;
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        } finally {
          job.listeners.delete(listener);
          signal?.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  /** Aborts every unfinished job (service shutdown). */
  abortAll(reason = 'service shutting down'): void {
    for (const job of this.jobs.values()) if (!isTerminal(job.latest.state)) job.controller.abort(new Error(reason));
  }

  private retire(jobId: string): void {
    this.finished.push(jobId);
    while (this.finished.length > this.keepFinished) this.jobs.delete(this.finished.shift()!);
  }
}
