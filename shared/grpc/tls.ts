// gRPC credentials from the configured PEM files: TLS when a server certificate is set, mutual TLS when
// client auth is required (the server then refuses any client without a certificate signed by the CA).
// Clients use TLS when a CA is configured, presenting their own certificate when they have one.
import { readFileSync } from 'node:fs';
import { ChannelCredentials, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { TlsConfig } from '../config/index.js';

const read = (path: string): Buffer => readFileSync(path);

export function serverCredentials(tls: Pick<TlsConfig, 'certFile' | 'keyFile' | 'caFile' | 'clientAuth'>): ServerCredentials {
  if (!tls.certFile || !tls.keyFile) return ServerCredentials.createInsecure();
  const ca = tls.caFile ? read(tls.caFile) : null;
  const requireClient = tls.clientAuth === 'require';
  if (requireClient && !ca) throw new Error('mutual TLS needs a CA (CXR_SYNTH_TLS_CA)');
  return ServerCredentials.createSsl(ca, [{ private_key: read(tls.keyFile), cert_chain: read(tls.certFile) }], requireClient);
}

export function isSecure(tls: Pick<TlsConfig, 'caFile'>): boolean {
  return Boolean(tls.caFile);
}

export function channelCredentials(tls: Pick<TlsConfig, 'caFile' | 'clientCertFile' | 'clientKeyFile'>): ChannelCredentials {
  if (!tls.caFile) return ChannelCredentials.createInsecure();
  const key = tls.clientKeyFile ? read(tls.clientKeyFile) : null;
  const cert = tls.clientCertFile ? read(tls.clientCertFile) : null;
  return ChannelCredentials.createSsl(read(tls.caFile), key, cert);
}

/** When certificates name a host other than the one dialled (e.g. dialling an IP). */
export function serverNameOptions(tls: Pick<TlsConfig, 'serverName'>): ChannelOptions {
  return tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {};
}
