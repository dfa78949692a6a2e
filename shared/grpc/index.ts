// Public surface of shared/grpc: import from here.
export { startServer } from './server.js';
export type { RunningServer, ServiceRegistration, ShutdownResult, StartServerOptions } from './server.js';
export { installShutdownHandler } from './shutdown.js';
export type { Closer, ShutdownHandlerOptions } from './shutdown.js';
export { createClient, clientOptionsFromConfig, onAbort, targetFor, unary as callUnary, clientStream as callClientStream } from './client.js';
export type { CallExtras, ClientConstructor, ClientFactoryOptions, RequestOf, ResponseOf, RetryOptions } from './client.js';
export { unary, clientStream, serverStream, bidiStream } from './handlers.js';
export type { CallContext } from './handlers.js';
export {
  ServiceError, Status, toStatus, codeName, isGrpcStatusError, GENERIC_INTERNAL_MESSAGE,
  invalidArgument, notFound, alreadyExists, failedPrecondition, resourceExhausted, unavailable, unauthenticated,
  permissionDenied, deadlineExceeded, cancelled, unimplemented, outOfRange, aborted, internal,
} from './errors.js';
export type { ErrorDetails } from './errors.js';
export { authorize, checkPolicy, createAuthenticator } from './auth.js';
export type { Authenticator, MethodPolicy, Principal, Role } from './auth.js';
export { HealthRegistry, ServingStatus } from './health.js';
export { SUBJECT_METADATA_KEY } from './interceptor.js';
export { addReflection, findProtoDir, loadPackageDefinition } from './reflection.js';
export { channelCredentials, serverCredentials } from './tls.js';
