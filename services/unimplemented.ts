// Handlers for a service whose RPCs are not built yet: each answers UNIMPLEMENTED with a message saying
// what is missing, so callers get a clear status (not a hang) while health, auth and metrics already work.
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { bidiStream, clientStream, serverStream, unary, unimplemented } from '../shared/grpc/index.js';

export function unimplementedHandlers(definition: ServiceDefinition, what: string): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const fail = async (): Promise<never> => {
      throw unimplemented(`${method.path} is not available yet: ${what}`);
    };
    handlers[key] =
      method.requestStream && method.responseStream ? bidiStream(fail)
      : method.requestStream ? clientStream(fail)
      : method.responseStream ? serverStream(fail)
      : unary(fail);
  }
  return handlers;
}
