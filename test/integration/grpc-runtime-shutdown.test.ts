// Graceful shutdown: a real child-process server gets SIGTERM while a slow server stream is in flight.
// The stream must complete, health must turn NOT_SERVING, new calls must be refused, and the process exits 0.
// And in-process: past the drain deadline, remaining calls are cancelled.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { callUnary, createClient, ServingStatus, startServer } from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';
import { ClassifierServiceClient, TrainClassifierRequest } from '../../shared/proto/cxrsynth/v1/classifier.js';
import type { JobEvent } from '../../shared/proto/cxrsynth/v1/common.js';
import { check, healthClient, noRetry, statusOf } from '../support/grpc-clients.js';
import { CLASSIFIER, testClassifier } from '../support/grpc.js';

const logger = createLogger({ test: 'grpc-shutdown' }, { level: 'error' });
const childScript = fileURLToPath(new URL('../support/grpc-server.ts', import.meta.url));

function startChild(drainMs: number): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript], {
    env: { ...process.env, CXR_TEST_DRAIN_MS: String(drainMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ child, port: (JSON.parse(line) as { port: number }).port, exited }));
    child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
}

function train(c: ClassifierServiceClient, epochs: number, ms: number, onEvent: (e: JobEvent) => void): Promise<JobEvent[]> {
  return new Promise((resolve, reject) => {
    const events: JobEvent[] = [];
    const call = c.train(TrainClassifierRequest.fromPartial({ epochs, batchSize: ms }), new Metadata(), { deadline: Infinity });
    call.on('data', (e: JobEvent) => {
      events.push(e);
      onEvent(e);
    });
    call.on('error', reject);
    call.on('end', () => resolve(events));
  });
}

describe('SIGTERM', () => {
  it('drains an in-flight stream, goes NOT_SERVING, refuses new calls and exits 0', async () => {
    const { child, port, exited } = await startChild(20_000);
    const address = `127.0.0.1:${port}`;
    const c = createClient(ClassifierServiceClient, { addresses: [address], retry: noRetry });
    const h = healthClient({ addresses: [address] });
    expect((await check(h, CLASSIFIER)).status).toBe(ServingStatus.SERVING);

    // A Watch stream must not hold up the drain: it sees NOT_SERVING and ends.
    const watched: ServingStatus[] = [];
    const watchEnded = new Promise<void>((resolve) => {
      const w = h.watch({ service: '' });
      w.on('data', (r: { status: ServingStatus }) => watched.push(r.status));
      w.on('end', () => resolve());
      w.on('error', () => resolve());
    });

    let signalled = false;
    const stream = train(c, 6, 150, () => {
      if (!signalled) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const events = await stream;
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    await watchEnded;
    expect(watched).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(await exited).toBe(0);

    // After shutdown nothing is listening: a fresh client is refused.
    const fresh = createClient(ClassifierServiceClient, { addresses: [address], retry: noRetry });
    const err = await statusOf(callUnary(fresh, 'classify', { modelId: '', image: Buffer.alloc(0), contentType: '', requestId: 'late' }));
    expect(err.code).toBe(status.UNAVAILABLE);
    for (const x of [c, h, fresh]) x.close();
  });
});

describe('drain deadline', () => {
  it('cancels calls still running when the deadline passes, and refuses new ones while draining', async () => {
    const server = await startServer({ services: [testClassifier('deadline').registration], port: 0, logger });
    const address = `127.0.0.1:${server.port}`;
    const c = createClient(ClassifierServiceClient, { addresses: [address], retry: noRetry });
    let started!: () => void;
    const first = new Promise<void>((r) => (started = r));
    const stream = train(c, 100, 50, () => started());
    await first;
    expect(server.inFlight()).toBe(1);
    const result = server.shutdown(300);
    expect(server.health.get('')).toBe(ServingStatus.NOT_SERVING);
    const fresh = createClient(ClassifierServiceClient, { addresses: [address], retry: noRetry });
    expect((await statusOf(callUnary(fresh, 'classify', { modelId: '', image: Buffer.alloc(0), contentType: '', requestId: 'x' }))).code)
      .toBe(status.UNAVAILABLE);
    const err = await statusOf(stream);
    expect(err.code).toBe(status.CANCELLED);
    expect(await result).toEqual({ forced: true, inFlightAtStart: 1 });
    expect(server.shutdown()).toBe(server.shutdown()); // idempotent: the same promise
    c.close();
    fresh.close();
  });
});
