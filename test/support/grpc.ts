// A small, real implementation of the ClassifierService contract for exercising the gRPC runtime over loopback
// before (and independently of) the real classifier: every handler kind is present.
//   Classify (unary): echoes request_id; answers backend = the server's tag (to count round-robin calls);
//     request_id 'fail:<n>:<key>' answers UNAVAILABLE to the first n attempts of <key>; 'boom' throws a plain
//     Error (must reach the caller as a generic INTERNAL); 'bad' throws INVALID_ARGUMENT; 'slow:<ms>' waits first.
//   Train (server stream): `epochs` events, `batch_size` ms apart: a slow stream for the drain test.
//   ClassifyStream (bidi): one answer per request.
import type { Metadata } from '@grpc/grpc-js';
import { Finding, JobState } from '../../shared/proto/cxrsynth/v1/common.js';
import { ClassifierServiceService, type ClassifierServiceServer, type ClassifyRequest, type ClassifyResponse } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { bidiStream, invalidArgument, serverStream, unary, unavailable, unimplemented, type MethodPolicy, type ServiceRegistration } from '../../shared/grpc/index.js';

export const CLASSIFIER = 'cxrsynth.v1.ClassifierService';

export const TEST_POLICY: MethodPolicy = {
  Classify: ['hospital', 'researcher', 'service', 'admin'],
  ClassifyStream: ['hospital', 'researcher', 'service', 'admin'],
  Train: ['researcher', 'service', 'admin'],
  Evaluate: ['researcher', 'service', 'admin'],
  WatchJob: ['researcher', 'service', 'admin'],
  CancelJob: ['researcher', 'service', 'admin'],
  GetModel: 'open',
  ListModels: ['researcher', 'service', 'admin'],
};

export interface TestServiceState {
  /** Attempts seen per request_id key (the 'fail:' case) and the retry header of the last attempt. */
  attempts: Map<string, number>;
  lastPreviousAttempts: Map<string, string>;
  classifyCalls: number;
  /** Resolves when a Train handler noticed its call was cancelled (ctx.signal aborted). */
  trainAborted: Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function testClassifier(tag: string): { registration: ServiceRegistration; state: TestServiceState } {
  let aborted!: () => void;
  const state: TestServiceState = {
    attempts: new Map(), lastPreviousAttempts: new Map(), classifyCalls: 0, trainAborted: new Promise<void>((r) => (aborted = r)),
  };
  const answer = (req: ClassifyRequest): ClassifyResponse => ({
    modelId: 'test', probabilities: [{ finding: Finding.HEALTHY, probability: 1 }], topFinding: Finding.HEALTHY,
    requestId: req.requestId, backend: tag,
  });
  const no = () => Promise.reject(unimplemented('not part of the test service'));
  const implementation: ClassifierServiceServer = {
    classify: unary(async (req, ctx) => {
      state.classifyCalls++;
      const fail = /^fail:(\d+):(.+)$/.exec(req.requestId);
      if (fail) {
        const key = fail[2]!;
        const n = (state.attempts.get(key) ?? 0) + 1;
        state.attempts.set(key, n);
        state.lastPreviousAttempts.set(key, String((ctx.metadata as Metadata).get('grpc-previous-rpc-attempts')[0] ?? '0'));
        if (n <= Number(fail[1])) throw unavailable(`test: attempt ${n} refused`);
      }
      const slow = /^slow:(\d+)$/.exec(req.requestId);
      if (slow) await sleep(Number(slow[1]));
      if (req.requestId === 'boom') throw new Error('secret internal detail /etc/passwd');
      if (req.requestId === 'bad') throw invalidArgument('request_id "bad" is not accepted', { field: 'request_id' });
      if (req.requestId === 'whoami') return { ...answer(req), modelId: ctx.subject ?? '' };
      return answer(req);
    }),
    classifyStream: bidiStream(async (requests, send) => {
      for await (const r of requests) await send(answer(r));
    }),
    train: serverStream(async (req, send, ctx) => {
      ctx.signal.addEventListener('abort', () => aborted(), { once: true });
      for (let i = 1; i <= req.epochs; i++) {
        await sleep(req.batchSize);
        await send({
          jobId: 'job', state: i === req.epochs ? JobState.SUCCEEDED : JobState.RUNNING, phase: 'train',
          step: i, totalSteps: req.epochs, scalars: {}, message: '', timeUnixMs: 0, resultId: '', backend: tag,
        });
      }
    }),
    evaluate: () => no(),
    watchJob: serverStream(() => no()),
    cancelJob: () => no(),
    getModel: () => no(),
    listModels: () => no(),
  };
  return {
    registration: { definition: ClassifierServiceService, implementation, policy: TEST_POLICY },
    state,
  };
}
