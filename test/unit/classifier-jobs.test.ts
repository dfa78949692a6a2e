// The job registry behind Train / WatchJob / CancelJob (services/jobs.ts): latest event first on re-attach,
// fan-out to every subscriber, terminal events end streams, CANCELLED stays final, subscribers can leave.
import { describe, expect, it } from 'vitest';
import { JobRegistry } from '../../services/jobs.js';
import { JobState, type JobEvent } from '../../shared/proto/cxrsynth/v1/common.js';

const ev = (state: JobState, step = 0, jobId = 'j1'): JobEvent => ({
  jobId, state, phase: JobState[state].toLowerCase(), step, totalSteps: 10, scalars: {}, message: '', timeUnixMs: step, resultId: '', backend: 'cpu',
});

async function drain(events: AsyncIterable<JobEvent>): Promise<number[]> {
  const steps: number[] = [];
  for await (const e of events) steps.push(e.step);
  return steps;
}

describe('JobRegistry', () => {
  it('streams the latest event first, then later ones, ending at a terminal state', async () => {
    const jobs = new JobRegistry<JobEvent>();
    jobs.create(ev(JobState.QUEUED, 0));
    jobs.publish(ev(JobState.RUNNING, 1));
    jobs.publish(ev(JobState.RUNNING, 2));
    const a = drain(jobs.subscribe('j1')!);
    const b = drain(jobs.subscribe('j1')!);
    jobs.publish(ev(JobState.RUNNING, 3));
    jobs.publish(ev(JobState.SUCCEEDED, 4));
    expect(await a).toEqual([2, 3, 4]);
    expect(await b).toEqual([2, 3, 4]);
    // A finished job still answers with its final event, and nothing is published after it.
    expect(await drain(jobs.subscribe('j1')!)).toEqual([4]);
    expect(jobs.publish(ev(JobState.RUNNING, 5))).toBe(false);
    expect(jobs.subscribe('nope')).toBeUndefined();
  });

  it('cancel aborts the worker signal, publishes CANCELLED at once and keeps it final', async () => {
    const jobs = new JobRegistry<JobEvent>();
    const signal = jobs.create(ev(JobState.RUNNING, 1));
    const stream = drain(jobs.subscribe('j1')!);
    const latest = jobs.cancel('j1', (prev) => ({ ...prev, state: JobState.CANCELLED, step: prev.step + 100 }));
    expect(latest?.state).toBe(JobState.CANCELLED);
    expect(signal.aborted).toBe(true);
    expect(await stream).toEqual([1, 101]);
    // The stopping worker's late FAILED/SUCCEEDED is ignored; cancelling again changes nothing.
    expect(jobs.publish(ev(JobState.FAILED, 7))).toBe(false);
    expect(jobs.cancel('j1', (p) => ({ ...p, step: -1 }))?.step).toBe(101);
    expect(jobs.cancel('unknown', (p) => p)).toBeUndefined();
  });

  it('a subscriber that leaves stops receiving without stopping the job', async () => {
    const jobs = new JobRegistry<JobEvent>();
    const signal = jobs.create(ev(JobState.RUNNING, 1));
    const leave = new AbortController();
    const seen: number[] = [];
    const done = (async () => {
      for await (const e of jobs.subscribe('j1', leave.signal)!) {
        seen.push(e.step);
        if (e.step === 2) leave.abort();
      }
    })();
    await new Promise((r) => setImmediate(r));
    jobs.publish(ev(JobState.RUNNING, 2));
    await done;
    jobs.publish(ev(JobState.RUNNING, 3));
    expect(seen).toEqual([1, 2]);
    expect(signal.aborted).toBe(false);
    expect(jobs.latest('j1')?.step).toBe(3);
  });

  it('forgets the oldest finished jobs beyond its limit, never running ones', () => {
    const jobs = new JobRegistry<JobEvent>({ keepFinished: 2 });
    jobs.create(ev(JobState.RUNNING, 0, 'running'));
    for (const id of ['a', 'b', 'c']) {
      jobs.create(ev(JobState.RUNNING, 0, id));
      jobs.publish(ev(JobState.SUCCEEDED, 1, id));
    }
    expect(['running', 'a', 'b', 'c'].map((id) => jobs.has(id))).toEqual([true, false, true, true]);
    expect(() => jobs.create(ev(JobState.QUEUED, 0, 'b'))).toThrow(/exists/);
  });
});
