// grpc.health.v1 (Check, List, Watch) over a status table the services update.
// "" is the whole server: SERVING only while not shutting down and every registered service is SERVING, so a
// Kubernetes readiness probe on "" takes a replica out of rotation when any part of it can't do its work.
import { status as Status, type handleServerStreamingCall, type handleUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthService,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthListRequest,
  type HealthListResponse,
  type HealthServer,
} from '../proto/grpc/health/v1/health.js';

export { ServingStatus, HealthService };

export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<{ service: string; call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>; last: ServingStatus }>();
  private shuttingDown = false;

  /** Registers a service (initially NOT_SERVING until it says otherwise). */
  register(service: string, initial: ServingStatus = ServingStatus.NOT_SERVING): void {
    this.statuses.set(service, initial);
    this.notify();
  }

  set(service: string, status: ServingStatus.SERVING | ServingStatus.NOT_SERVING): void {
    if (!this.statuses.has(service)) throw new Error(`health: unknown service ${service}`);
    if (this.shuttingDown) return; // once draining, stay NOT_SERVING
    this.statuses.set(service, status);
    this.notify();
  }

  /** Convenience for services: true → SERVING, false → NOT_SERVING. */
  setServing(service: string, serving: boolean): void {
    this.set(service, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  get(service: string): ServingStatus {
    if (service === '') {
      if (this.shuttingDown) return ServingStatus.NOT_SERVING;
      for (const s of this.statuses.values()) if (s !== ServingStatus.SERVING) return ServingStatus.NOT_SERVING;
      return ServingStatus.SERVING;
    }
    if (this.shuttingDown && this.statuses.has(service)) return ServingStatus.NOT_SERVING;
    return this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
  }

  /** Everything NOT_SERVING from now on; Watch streams get that status and are ended so they don't hold up the drain. */
  shutdown(): void {
    this.shuttingDown = true;
    this.notify();
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  private notify(): void {
    for (const w of this.watchers) {
      const now = this.get(w.service);
      if (now !== w.last) {
        w.last = now;
        w.call.write({ status: now });
      }
    }
  }

  implementation(): HealthServer {
    const check: handleUnaryCall<HealthCheckRequest, HealthCheckResponse> = (call, callback) => {
      const status = this.get(call.request.service);
      if (status === ServingStatus.SERVICE_UNKNOWN) {
        callback({ code: Status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
        return;
      }
      callback(null, { status });
    };
    const list: handleUnaryCall<HealthListRequest, HealthListResponse> = (_call, callback) => {
      const statuses: Record<string, HealthCheckResponse> = { '': { status: this.get('') } };
      for (const name of this.statuses.keys()) statuses[name] = { status: this.get(name) };
      callback(null, { statuses });
    };
    const watch: handleServerStreamingCall<HealthCheckRequest, HealthCheckResponse> = (call) => {
      const service = call.request.service;
      const last = this.get(service);
      call.write({ status: last });
      if (this.shuttingDown) {
        call.end();
        return;
      }
      const entry = { service, call, last };
      this.watchers.add(entry);
      call.on('cancelled', () => this.watchers.delete(entry));
      call.on('close', () => this.watchers.delete(entry));
    };
    return { check, list, watch };
  }
}
