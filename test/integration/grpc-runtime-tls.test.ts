// TLS and mutual TLS from cert files (made by openssl in test setup), over real gRPC on loopback.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../shared/config/index.js';
import { callUnary, createClient, startServer, type RunningServer } from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';
import { ClassifierServiceClient } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { generateCerts, type TestCerts } from '../support/certs.js';
import { noRetry, reflect, statusOf } from '../support/grpc-clients.js';
import { testClassifier } from '../support/grpc.js';

const logger = createLogger({ test: 'grpc-tls' }, { level: 'error' });
const TOKEN = 'tls-hospital-token-0123456789';
let certs: TestCerts;

const classify = (c: ClassifierServiceClient, requestId: string) =>
  callUnary(c, 'classify', { modelId: '', image: Buffer.alloc(0), contentType: '', requestId });

type ClientTls = { caFile?: string; clientCertFile?: string; clientKeyFile?: string; serverName?: string };
function client(port: number, tls: ClientTls, token?: string, host = 'localhost'): ClassifierServiceClient {
  return createClient(ClassifierServiceClient, {
    addresses: [`${host}:${port}`],
    tls: { caFile: tls.caFile, clientCertFile: tls.clientCertFile, clientKeyFile: tls.clientKeyFile, serverName: tls.serverName },
    token,
    retry: noRetry,
  });
}

beforeAll(() => {
  certs = generateCerts();
});

describe('TLS', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const config = loadConfig({ HOME: certs.dir, CXR_SYNTH_TLS_CERT: certs.serverCert, CXR_SYNTH_TLS_KEY: certs.serverKey });
    server = await startServer({ services: [testClassifier('tls').registration], port: 0, logger, tls: config.tls });
  });
  afterAll(() => server.shutdown(1000));

  it('serves clients that trust the CA, and refuses plaintext clients', async () => {
    const ok = client(server.port, { caFile: certs.caCert });
    expect((await classify(ok, 'a')).requestId).toBe('a');
    // Dialled by IP, verified against the certificate's IP SAN.
    const byIp = client(server.port, { caFile: certs.caCert }, undefined, '127.0.0.1');
    expect((await classify(byIp, 'b')).requestId).toBe('b');
    const plain = client(server.port, {});
    expect((await statusOf(classify(plain, 'c'))).code).toBe(status.UNAVAILABLE);
    // A client that trusts another CA refuses the server.
    const other = client(server.port, { caFile: certs.rogueClientCert });
    expect((await statusOf(classify(other, 'd'))).code).toBe(status.UNAVAILABLE);
    // Reflection works over TLS too.
    const tlsCreds = credentials.createSsl(readFileSync(certs.caCert));
    expect((await reflect(`localhost:${server.port}`, { list_services: '' }, tlsCreds)).list_services_response).toBeDefined();
    for (const c of [ok, byIp, plain, other]) c.close();
  });
});

describe('mutual TLS with bearer tokens as call credentials', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cxr-mtls-'));
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify([{ token: TOKEN, subject: 'hospital-tls', roles: ['hospital'] }]));
    const config = loadConfig({
      HOME: dir,
      CXR_SYNTH_TLS_CERT: certs.serverCert, CXR_SYNTH_TLS_KEY: certs.serverKey, CXR_SYNTH_TLS_CA: certs.caCert,
      CXR_SYNTH_TLS_CLIENT_AUTH: 'require', CXR_SYNTH_AUTH_TOKENS_FILE: tokensFile,
    });
    server = await startServer({ services: [testClassifier('mtls').registration], port: 0, logger, tls: config.tls, auth: config.auth });
  });
  afterAll(() => server.shutdown(1000));

  it('accepts a client certificate from the CA and refuses clients without one or with a foreign one', async () => {
    const good = client(server.port, { caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey }, TOKEN);
    expect((await classify(good, 'whoami')).modelId).toBe('hospital-tls');
    const noCert = client(server.port, { caFile: certs.caCert }, TOKEN);
    expect((await statusOf(classify(noCert, 'x'))).code).toBe(status.UNAVAILABLE);
    const rogue = client(server.port, { caFile: certs.caCert, clientCertFile: certs.rogueClientCert, clientKeyFile: certs.rogueClientKey }, TOKEN);
    expect((await statusOf(classify(rogue, 'x'))).code).toBe(status.UNAVAILABLE);
    // mTLS identifies the machine; the token still decides: without one, UNAUTHENTICATED.
    const noToken = client(server.port, { caFile: certs.caCert, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey });
    expect((await statusOf(classify(noToken, 'x'))).code).toBe(status.UNAUTHENTICATED);
    for (const c of [good, noCert, rogue, noToken]) c.close();
  });
});
