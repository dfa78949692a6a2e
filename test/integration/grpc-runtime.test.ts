// The shared gRPC runtime over real gRPC on loopback: health, reflection, error mapping, auth and roles,
// message size limits, and the Prometheus output (checked with promtool).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { loadConfig } from '../../shared/config/index.js';
import { callUnary, createClient, GENERIC_INTERNAL_MESSAGE, ServingStatus, startServer, type RunningServer } from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';
import { createRegistry, startMetricsServer, type MetricsServer } from '../../shared/prom/index.js';
import { ClassifierServiceClient, TrainClassifierRequest, type ClassifyResponse } from '../../shared/proto/cxrsynth/v1/classifier.js';
import type { JobEvent } from '../../shared/proto/cxrsynth/v1/common.js';
import { check, healthClient, noRetry, reflect, statusOf } from '../support/grpc-clients.js';
import { CLASSIFIER, testClassifier } from '../support/grpc.js';

const logLines: string[] = [];
const logger = createLogger({ test: 'grpc-runtime' }, { level: 'debug', write: (l) => logLines.push(l) });
const HOSPITAL = 'hospital-token-0123456789';
const RESEARCHER = 'researcher-token-0123456789';

function classifier(port: number, token?: string, extra: { maxMessageBytes?: number } = {}): ClassifierServiceClient {
  return createClient(ClassifierServiceClient, { addresses: [`127.0.0.1:${port}`], token, retry: noRetry, ...extra });
}

function trainEvents(client: ClassifierServiceClient, epochs: number, ms: number, metadata = new Metadata()): Promise<JobEvent[]> {
  return new Promise((resolve, reject) => {
    const events: JobEvent[] = [];
    const call = client.train(TrainClassifierRequest.fromPartial({ modelId: 'm', datasetId: 'd', epochs, batchSize: ms }), metadata);
    call.on('data', (e: JobEvent) => events.push(e));
    call.on('error', reject);
    call.on('end', () => resolve(events));
  });
}

const classify = (c: ClassifierServiceClient, requestId: string, image = Buffer.alloc(0)): Promise<ClassifyResponse> =>
  callUnary(c, 'classify', { modelId: '', image, contentType: '', requestId });

describe('open server (auth off)', () => {
  let server: RunningServer;
  let metrics: MetricsServer;
  const registry = createRegistry({ service: 'classifier' });

  beforeAll(async () => {
    server = await startServer({
      services: [testClassifier('a').registration], port: 0, logger, metrics: registry, limits: { maxMessageBytes: 64 * 1024 },
    });
    metrics = await startMetricsServer({ registry, port: 0 });
  });
  afterAll(async () => {
    await server.shutdown(1000);
    await metrics.close();
  });

  it('answers grpc.health.v1 Check, List and Watch, per service and overall', async () => {
    const h = healthClient({ addresses: [`127.0.0.1:${server.port}`] });
    expect((await check(h, '')).status).toBe(ServingStatus.SERVING);
    expect((await check(h, CLASSIFIER)).status).toBe(ServingStatus.SERVING);
    expect((await statusOf(check(h, 'no.such.Service'))).code).toBe(status.NOT_FOUND);

    const seen: ServingStatus[] = [];
    const watch = h.watch({ service: CLASSIFIER });
    const gotTwo = new Promise<void>((resolve) => watch.on('data', (r: { status: ServingStatus }) => {
      seen.push(r.status);
      if (seen.length === 2) resolve();
    }));
    watch.on('error', () => {});
    await new Promise<void>((r) => watch.once('data', () => r()));
    server.health.setServing(CLASSIFIER, false);
    await gotTwo;
    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect((await check(h, '')).status).toBe(ServingStatus.NOT_SERVING);
    const list = await callUnary(h, 'list', {});
    expect(list.statuses[CLASSIFIER]?.status).toBe(ServingStatus.NOT_SERVING);
    server.health.setServing(CLASSIFIER, true);
    expect((await check(h, '')).status).toBe(ServingStatus.SERVING);
    watch.cancel();
    h.close();
  });

  it('answers server reflection from the repository protos', async () => {
    const address = `127.0.0.1:${server.port}`;
    const list = await reflect(address, { list_services: '' });
    const names = list.list_services_response!.service.map((s) => s.name);
    expect(names).toContain(CLASSIFIER);
    expect(names).toContain('grpc.health.v1.Health');
    const file = await reflect(address, { file_containing_symbol: CLASSIFIER });
    const descriptors = file.file_descriptor_response!.file_descriptor_proto;
    expect(descriptors.length).toBeGreaterThan(0);
    const text = Buffer.concat(descriptors).toString('latin1');
    expect(text).toContain('ClassifierService');
    expect(text).toContain('ClassifyRequest');
    const missing = await reflect(address, { file_containing_symbol: 'no.such.Symbol' });
    expect(missing.error_response?.error_code).toBe(status.NOT_FOUND);
  });

  it('maps ServiceError to its code and hides unexpected errors behind a generic INTERNAL', async () => {
    const c = classifier(server.port);
    expect((await classify(c, 'hello')).requestId).toBe('hello');
    const bad = await statusOf(classify(c, 'bad'));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toBe('request_id "bad" is not accepted');
    expect(bad.metadata.get('cxr-detail-field')).toEqual(['request_id']);
    const boom = await statusOf(classify(c, 'boom'));
    expect(boom.code).toBe(status.INTERNAL);
    expect(boom.details).toBe(GENERIC_INTERNAL_MESSAGE);
    expect(boom.message).not.toContain('passwd');
    // ...while the server log has the real error, and one line per call without payloads.
    expect(logLines.some((l) => l.includes('unhandled error in handler') && l.includes('secret internal detail'))).toBe(true);
    const rpcLine = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'rpc' && r.code === 'INVALID_ARGUMENT');
    expect(rpcLine).toMatchObject({ service: CLASSIFIER, method: 'Classify', type: 'unary', details: 'request_id "bad" is not accepted' });
    expect(typeof rpcLine!.duration_ms).toBe('number');
    expect((await statusOf(callUnary(c, 'getModel', { modelId: 'x' }))).code).toBe(status.UNIMPLEMENTED);
    c.close();
  });

  it('streams in both directions', async () => {
    const c = classifier(server.port);
    const events = await trainEvents(c, 3, 1);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3]);
    const bidi = c.classifyStream();
    const answers: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      bidi.on('data', (r: ClassifyResponse) => answers.push(r.requestId));
      bidi.on('end', () => resolve());
      bidi.on('error', reject);
    });
    for (const id of ['x', 'y', 'z']) bidi.write({ modelId: '', image: Buffer.alloc(0), contentType: '', requestId: id });
    bidi.end();
    await done;
    expect(answers).toEqual(['x', 'y', 'z']);
    c.close();
  });

  it('refuses a message over the limit with RESOURCE_EXHAUSTED', async () => {
    const c = classifier(server.port);
    const err = await statusOf(classify(c, 'big', Buffer.alloc(100 * 1024)));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await classify(c, 'small', Buffer.alloc(1024))).requestId).toBe('small');
    c.close();
  });

  it('serves /metrics that pass promtool, with labelled gRPC server metrics', async () => {
    const c = classifier(server.port);
    for (let i = 0; i < 3; i++) await classify(c, `m${i}`);
    await statusOf(classify(c, 'big', Buffer.alloc(100 * 1024)));
    await statusOf(classify(c, 'bad'));
    await trainEvents(c, 2, 1);
    c.close();
    const res = await fetch(`${metrics.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const dir = mkdtempSync(join(tmpdir(), 'cxr-prom-'));
    writeFileSync(join(dir, 'metrics.txt'), text);
    // promtool exits non-zero (and execFileSync throws) on any lint problem.
    execFileSync('promtool', ['check', 'metrics'], { input: text });

    const value = (name: string, labels: Record<string, string>): number => {
      const line = text.split('\n').find((l) => l.startsWith(name + '{') && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const classifyLabels = { grpc_service: CLASSIFIER, grpc_method: 'Classify', grpc_type: 'unary' };
    expect(value('grpc_server_handled_total', { ...classifyLabels, grpc_code: 'OK' })).toBeGreaterThanOrEqual(3);
    expect(value('grpc_server_handled_total', { ...classifyLabels, grpc_code: 'INVALID_ARGUMENT' })).toBeGreaterThanOrEqual(1);
    // Refused by the transport before any handler ran, still counted with its real code.
    expect(value('grpc_server_handled_total', { ...classifyLabels, grpc_code: 'RESOURCE_EXHAUSTED' })).toBeGreaterThanOrEqual(1);
    expect(value('cxr_synth_grpc_server_in_flight_calls', classifyLabels)).toBe(0);
    expect(value('grpc_server_started_total', classifyLabels)).toBeGreaterThanOrEqual(4);
    expect(value('grpc_server_handling_seconds_count', classifyLabels)).toBeGreaterThanOrEqual(4);
    const trainLabels = { grpc_service: CLASSIFIER, grpc_method: 'Train', grpc_type: 'server_stream' };
    expect(value('grpc_server_msg_sent_total', trainLabels)).toBeGreaterThanOrEqual(2);
    expect(value('grpc_server_msg_received_total', trainLabels)).toBeGreaterThanOrEqual(1);
    // Declared at start-up: a method never called still has its series at 0.
    expect(value('grpc_server_started_total', { grpc_service: CLASSIFIER, grpc_method: 'ListModels' })).toBe(0);
    expect(value('cxr_synth_build_info', { service: 'classifier' })).toBe(1);
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).not.toMatch(/^nodejs_active_\w+_total/m);
    expect((await fetch(`${metrics.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${metrics.url}/nope`)).status).toBe(404);
  });
});

describe('auth on: bearer tokens and roles per method', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-auth-'));
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify([
      { token: HOSPITAL, subject: 'hospital-1', roles: ['hospital'] },
      { token: RESEARCHER, subject: 'lab', roles: ['researcher'] },
    ]));
    const config = loadConfig({ CXR_SYNTH_AUTH_TOKENS_FILE: tokensFile, HOME: dir });
    server = await startServer({ services: [testClassifier('auth').registration], port: 0, logger, auth: config.auth });
  });
  afterAll(() => server.shutdown(1000));

  it('no token or a wrong one → UNAUTHENTICATED; valid token without the role → PERMISSION_DENIED; right role → OK', async () => {
    const none = classifier(server.port);
    const none1 = await statusOf(classify(none, 'x'));
    expect(none1.code).toBe(status.UNAUTHENTICATED);
    expect(none1.details).toMatch(/missing bearer token/);
    const wrong = classifier(server.port, 'not-a-valid-token-at-all');
    expect((await statusOf(classify(wrong, 'x'))).code).toBe(status.UNAUTHENTICATED);

    const hospital = classifier(server.port, HOSPITAL);
    expect((await classify(hospital, 'x')).requestId).toBe('x');
    const denied = await statusOf(trainEvents(hospital, 1, 1));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toMatch(/hospital-1 may not call cxrsynth\.v1\.ClassifierService\/Train/);

    const researcher = classifier(server.port, RESEARCHER);
    expect((await trainEvents(researcher, 2, 1)).length).toBe(2);
    // The handler sees the authenticated subject, never the token.
    expect((await classify(researcher, 'whoami')).modelId).toBe('lab');
    // A client can't pose as someone else through the subject metadata key.
    const forged = new Metadata();
    forged.set('x-cxr-synth-subject', 'admin');
    expect((await callUnary(researcher, 'classify', { modelId: '', image: Buffer.alloc(0), contentType: '', requestId: 'whoami' }, { metadata: forged })).modelId).toBe('lab');
    for (const c of [none, wrong, hospital, researcher]) c.close();
  });

  it('keeps open methods and health open without a token', async () => {
    const none = classifier(server.port);
    expect((await statusOf(callUnary(none, 'getModel', { modelId: 'x' }))).code).toBe(status.UNIMPLEMENTED);
    const h = healthClient({ addresses: [`127.0.0.1:${server.port}`] });
    expect((await check(h, '')).status).toBe(ServingStatus.SERVING);
    expect((await reflect(`127.0.0.1:${server.port}`, { list_services: '' })).list_services_response).toBeDefined();
    none.close();
    h.close();
  });

  it('refuses to start with a policy that misses a method', async () => {
    const { registration } = testClassifier('x');
    const { Train: _omit, ...partial } = registration.policy;
    await expect(startServer({ services: [{ ...registration, policy: partial }], port: 0, logger })).rejects.toThrow(/missing: Train/);
  });
});
