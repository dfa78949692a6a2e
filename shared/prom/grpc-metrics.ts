// The usual gRPC server metrics, with the names and labels of go-grpc-prometheus so existing dashboards
// and alerts work: started / handled (by code) / handling seconds / messages received and sent.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

export interface CallLabels {
  /** Fully qualified service, e.g. 'cxrsynth.v1.StorageService'. */
  grpc_service: string;
  /** Method as in the .proto, e.g. 'PutImages'. */
  grpc_method: string;
  grpc_type: GrpcType;
}

// Up to ~10 min: training streams are long; sub-millisecond unary calls land in the first bucket.
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

export class GrpcServerMetrics {
  private readonly started: Counter<keyof CallLabels>;
  private readonly handled: Counter<keyof CallLabels | 'grpc_code'>;
  private readonly seconds: Histogram<keyof CallLabels>;
  private readonly received: Counter<keyof CallLabels>;
  private readonly sent: Counter<keyof CallLabels>;
  private readonly inFlight: Gauge<keyof CallLabels>;

  constructor(registry: Registry) {
    const labelNames = ['grpc_service', 'grpc_method', 'grpc_type'] as const;
    const registers = [registry];
    this.started = new Counter({ name: 'grpc_server_started_total', help: 'RPCs started on the server.', labelNames, registers });
    this.handled = new Counter({
      name: 'grpc_server_handled_total', help: 'RPCs completed on the server, by status code.',
      labelNames: [...labelNames, 'grpc_code'] as const, registers,
    });
    this.seconds = new Histogram({
      name: 'grpc_server_handling_seconds', help: 'Time from the start of an RPC to its status.', labelNames, buckets: BUCKETS, registers,
    });
    this.received = new Counter({ name: 'grpc_server_msg_received_total', help: 'Stream messages received by the server.', labelNames, registers });
    this.sent = new Counter({ name: 'grpc_server_msg_sent_total', help: 'Stream messages sent by the server.', labelNames, registers });
    this.inFlight = new Gauge({ name: 'cxr_synth_grpc_server_in_flight_calls', help: 'RPCs in progress on the server.', labelNames, registers });
  }

  /** Pre-creates the label sets of a method so its series exist (at 0) before the first call. */
  declare(labels: CallLabels): void {
    this.started.inc(labels, 0);
    this.received.inc(labels, 0);
    this.sent.inc(labels, 0);
    this.inFlight.set(labels, 0);
  }

  start(labels: CallLabels): void {
    this.started.inc(labels);
    this.inFlight.inc(labels);
  }

  received1(labels: CallLabels): void {
    this.received.inc(labels);
  }

  sent1(labels: CallLabels): void {
    this.sent.inc(labels);
  }

  finish(labels: CallLabels, code: string, seconds: number): void {
    this.inFlight.dec(labels);
    this.handled.inc({ ...labels, grpc_code: code });
    this.seconds.observe(labels, seconds);
  }
}
