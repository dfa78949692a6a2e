// gRPC handlers of cxrsynth.v1.MetricsService: ImageQuality (server-streaming progress, then the
// result) and ScoreClassification. Assessments (RunAssessment, GetAssessment, ListAssessments,
// WatchJob, CancelJob) are a later issue and answer UNIMPLEMENTED. Handlers throw ServiceError; the
// shared/grpc wrapper turns anything else into a generic INTERNAL and logs it.
import { randomUUID } from 'node:crypto';
import { invalidArgument, serverStream, unary, unimplemented, type MethodPolicy } from '../../shared/grpc/index.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';
import type { MetricsServiceServer } from '../../shared/proto/cxrsynth/v1/metrics.js';
import { backendName } from './features/tf.js';
import { computeImageQuality, progressEvent, type ImageQualityDeps } from './image-quality.js';
import { scoreRequest } from './score.js';
import type { EvaluationSource } from './sources.js';

export interface MetricsServiceDeps extends ImageQualityDeps {
  evaluations?: EvaluationSource;
  logger?: Logger;
}

/** Who may call what (roles from shared/config/tokens.ts). */
export const METRICS_POLICY: MethodPolicy = {
  ImageQuality: ['researcher', 'service', 'admin'],
  ScoreClassification: ['researcher', 'service', 'admin'],
  RunAssessment: ['researcher', 'admin'],
  GetAssessment: ['researcher', 'service', 'admin'],
  ListAssessments: ['researcher', 'service', 'admin'],
  WatchJob: ['researcher', 'service', 'admin'],
  CancelJob: ['researcher', 'admin'],
};

/** Math-level RangeErrors that reach a handler are caused by the request's data: INVALID_ARGUMENT. */
function asInvalidArgument(err: unknown): never {
  if (err instanceof RangeError) throw invalidArgument(err.message);
  throw err;
}

export function createMetricsService(deps: MetricsServiceDeps): MetricsServiceServer {
  const logger = deps.logger ?? createLogger({ service: 'metrics' });
  const notYet = (what: string) => unimplemented(`${what} is not implemented yet in this metrics service`);
  return {
    imageQuality: serverStream(async (req, send, ctx) => {
      const jobId = `iq-${randomUUID()}`;
      const backend = backendName();
      const started = Date.now();
      const result = await computeImageQuality(
        req,
        deps,
        (e) => send({ event: { $case: 'progress', progress: progressEvent(jobId, backend, e) } }),
        ctx.signal,
      ).catch(asInvalidArgument);
      logger.info('image quality computed', {
        job_id: jobId,
        feature_network: result.featureNetwork,
        groups: result.scores.length,
        n_real: result.scores[0]?.nReal,
        n_synthetic: result.scores[0]?.nSynthetic,
        ms: Date.now() - started,
      });
      await send({ event: { $case: 'result', result } });
    }),
    scoreClassification: unary(async (req) => scoreRequest(req, deps.evaluations).catch(asInvalidArgument)),
    runAssessment: serverStream(async () => {
      throw notYet('RunAssessment');
    }),
    getAssessment: unary(async () => {
      throw notYet('GetAssessment');
    }),
    listAssessments: unary(async () => {
      throw notYet('ListAssessments');
    }),
    watchJob: serverStream(async () => {
      throw notYet('WatchJob');
    }),
    cancelJob: unary(async () => {
      throw notYet('CancelJob');
    }),
  };
}
