// The client factory over real gRPC on loopback: retries on UNAVAILABLE, reconnecting to a server that starts
// late, round-robin over several addresses, the default deadline, cancellation, and the streaming helper.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectivityState, Metadata, status } from '@grpc/grpc-js';
import { callClientStream, callUnary, createClient, startServer, targetFor, type RunningServer } from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';
import { ClassifierServiceClient, TrainClassifierRequest } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { statusOf } from '../support/grpc-clients.js';
import { testClassifier } from '../support/grpc.js';

const logger = createLogger({ test: 'grpc-client' }, { level: 'error' });

const classify = (c: ClassifierServiceClient, requestId: string, extras = {}) =>
  callUnary(c, 'classify', { modelId: '', image: Buffer.alloc(0), contentType: '', requestId }, extras);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('retry on UNAVAILABLE', () => {
  let server: RunningServer;
  let state: ReturnType<typeof testClassifier>['state'];
  beforeAll(async () => {
    const svc = testClassifier('retry');
    state = svc.state;
    server = await startServer({ services: [svc.registration], port: 0, logger });
  });
  afterAll(() => server.shutdown(1000));

  it('retries a call the server answers UNAVAILABLE, with the attempt count on the wire', async () => {
    const c = createClient(ClassifierServiceClient, {
      addresses: [`127.0.0.1:${server.port}`], retry: { maxAttempts: 4, initialBackoffMs: 20, maxBackoffMs: 100 },
    });
    expect((await classify(c, 'fail:2:k1')).requestId).toBe('fail:2:k1');
    expect(state.attempts.get('k1')).toBe(3);
    expect(state.lastPreviousAttempts.get('k1')).toBe('2'); // grpc-previous-rpc-attempts on the 3rd attempt
    // More failures than attempts: the caller sees UNAVAILABLE after exactly maxAttempts tries.
    const err = await statusOf(classify(c, 'fail:9:k2'));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(state.attempts.get('k2')).toBe(4);
    // Other codes are not retried.
    const before = state.classifyCalls;
    expect((await statusOf(classify(c, 'bad'))).code).toBe(status.INVALID_ARGUMENT);
    expect(state.classifyCalls).toBe(before + 1);
    c.close();
  });

  it('does not retry when maxAttempts is 1', async () => {
    const c = createClient(ClassifierServiceClient, {
      addresses: [`127.0.0.1:${server.port}`], retry: { maxAttempts: 1, initialBackoffMs: 20, maxBackoffMs: 100 },
    });
    expect((await statusOf(classify(c, 'fail:1:k3'))).code).toBe(status.UNAVAILABLE);
    expect(state.attempts.get('k3')).toBe(1);
    c.close();
  });

  it('reaches a server that starts after the first attempt failed', async () => {
    const port = await freePort();
    const c = createClient(ClassifierServiceClient, {
      addresses: [`127.0.0.1:${port}`], retry: { maxAttempts: 5, initialBackoffMs: 300, maxBackoffMs: 2000 },
    });
    const svc = testClassifier('late');
    const channel = c.getChannel();
    // Start the call, then start the server once the channel has seen the connection refused.
    const pending = classify(c, 'late-call');
    await new Promise<void>((resolve) => {
      const waitFor = () => {
        const s = channel.getConnectivityState(true);
        if (s === connectivityState.TRANSIENT_FAILURE) resolve();
        else channel.watchConnectivityState(s, Infinity, waitFor);
      };
      waitFor();
    });
    const late = await startServer({ services: [svc.registration], port, logger });
    try {
      expect((await pending).backend).toBe('late');
      expect(svc.state.classifyCalls).toBe(1);
    } finally {
      c.close();
      await late.shutdown(1000);
    }
  });
});

describe('round-robin over several addresses', () => {
  const servers: RunningServer[] = [];
  const states: ReturnType<typeof testClassifier>['state'][] = [];
  beforeAll(async () => {
    for (const tag of ['a', 'b']) {
      const svc = testClassifier(tag);
      states.push(svc.state);
      servers.push(await startServer({ services: [svc.registration], port: 0, logger }));
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.shutdown(1000);
  });

  it('builds one ipv4: target and spreads calls over both servers', async () => {
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    expect(targetFor(addresses)).toBe(`ipv4:${addresses.join(',')}`);
    expect(targetFor([`localhost:1`, `localhost:2`])).toBe('ipv4:127.0.0.1:1,127.0.0.1:2');
    expect(() => targetFor(['storage-0:1', 'storage-1:1'])).toThrow(/IP:port/);
    const c = createClient(ClassifierServiceClient, { addresses });
    const seen = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 40; i++) seen[(await classify(c, `rr${i}`)).backend]!++;
    expect(seen.a! + seen.b!).toBe(40);
    expect(seen.a).toBeGreaterThanOrEqual(10);
    expect(seen.b).toBeGreaterThanOrEqual(10);
    expect(states[0]!.classifyCalls + states[1]!.classifyCalls).toBe(40);
    c.close();
  });
});

describe('deadlines and cancellation', () => {
  let server: RunningServer;
  let svc: ReturnType<typeof testClassifier>;
  beforeAll(async () => {
    svc = testClassifier('d');
    server = await startServer({ services: [svc.registration], port: 0, logger });
  });
  afterAll(() => server.shutdown(1000));

  const train = (c: ClassifierServiceClient, epochs: number, ms: number, deadline?: number) =>
    new Promise<number>((resolve, reject) => {
      let n = 0;
      const call = c.train(TrainClassifierRequest.fromPartial({ epochs, batchSize: ms }), new Metadata(), deadline === undefined ? {} : { deadline });
      call.on('data', () => n++);
      call.on('error', reject);
      call.on('end', () => resolve(n));
    });

  it('puts the default deadline on every call; streams get their own default; a call can pass its own', async () => {
    const c = createClient(ClassifierServiceClient, { addresses: [`127.0.0.1:${server.port}`], deadlineMs: 60_000, streamDeadlineMs: 150 });
    // 10 events 100 ms apart cannot finish within 150 ms.
    const err = await statusOf(train(c, 10, 100));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(await train(c, 3, 100, Infinity)).toBe(3);
    expect((await classify(c, 'fast')).requestId).toBe('fast'); // unary default is 60 s here
    c.close();
    const u = createClient(ClassifierServiceClient, { addresses: [`127.0.0.1:${server.port}`], deadlineMs: 100 });
    expect((await statusOf(classify(u, 'slow:1000'))).code).toBe(status.DEADLINE_EXCEEDED);
    u.close();
  });

  it('a client cancel reaches the stream handler as an aborted ctx.signal', async () => {
    const c = createClient(ClassifierServiceClient, { addresses: [`127.0.0.1:${server.port}`] });
    const call = c.train(TrainClassifierRequest.fromPartial({ epochs: 1000, batchSize: 20 }), new Metadata());
    call.on('error', () => {});
    await new Promise<void>((r) => call.once('data', () => r()));
    call.cancel();
    await svc.state.trainAborted; // hangs (test timeout) if the handler never learns of the cancel
    c.close();
  });

  it('cancels a call through an AbortSignal', async () => {
    const c = createClient(ClassifierServiceClient, { addresses: [`127.0.0.1:${server.port}`] });
    const controller = new AbortController();
    controller.abort();
    expect((await statusOf(classify(c, 'x', { signal: controller.signal }))).code).toBe(status.CANCELLED);
    c.close();
  });

  it('client-stream helper: writes all messages and resolves with the answer, or rejects with the status', async () => {
    // ClassifierService has no client-stream method; StorageService.PutBlob is one, served UNIMPLEMENTED here.
    const { StorageServiceClient, StorageServiceService } = await import('../../shared/proto/cxrsynth/v1/storage.js');
    const implementation = Object.fromEntries(Object.keys(StorageServiceService).map((k) => [k, (_call: unknown, cb?: (e: Error) => void) => {
      const err = Object.assign(new Error('nope'), { code: status.UNIMPLEMENTED });
      if (cb) cb(err);
      else (_call as { emit(e: string, x: Error): void }).emit('error', err);
    }]));
    implementation.putBlob = ((call: AsyncIterable<unknown> & object, cb: (e: Error | null, r?: unknown) => void) => {
      (async () => {
        let n = 0;
        for await (const _ of call) n++;
        cb(null, { ref: undefined, sizeBytes: n, sha256: '', contentType: '', modifiedUnixMs: 0 });
      })();
    }) as never;
    const policy = Object.fromEntries(Object.values(StorageServiceService).map((m) => [m.path.split('/').pop()!, 'open' as const]));
    const s = await startServer({ services: [{ definition: StorageServiceService, implementation, policy }], port: 0, logger });
    const c = createClient(StorageServiceClient, { addresses: [`127.0.0.1:${s.port}`] });
    const messages = Array.from({ length: 50 }, () => ({ item: { $case: 'chunk' as const, chunk: Buffer.alloc(1000) } }));
    expect((await callClientStream(c, 'putBlob', messages)).sizeBytes).toBe(50);
    c.close();
    await s.shutdown(1000);
  });
});
