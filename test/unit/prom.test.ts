import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { counter, createRegistry, gauge, GrpcServerMetrics, histogram, packageVersion } from '../../shared/prom/index.js';

const promtool = (text: string) => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });

describe('service registry', () => {
  it('exposes process metrics, build info and no promtool-rejected gauges', async () => {
    const r = createRegistry({ service: 'storage' });
    const text = await r.metrics();
    promtool(text);
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(new RegExp(`cxr_synth_build_info\\{service="storage",version="${packageVersion().replace(/\./g, '\\.')}",node_version="v\\d+`));
    expect(text).not.toMatch(/^nodejs_active_(handles|requests|resources)_total/m);
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('helpers create cxr_synth_* metrics on the same registry and enforce naming', async () => {
    const r = createRegistry({ service: 'generator', processMetrics: false });
    const images = counter(r, 'cxr_synth_generated_images_total', 'Images generated.', ['model_kind', 'backend']);
    images.inc({ model_kind: 'gan', backend: 'cpu' }, 3);
    gauge(r, 'cxr_synth_jobs_running', 'Jobs running.').set(2);
    histogram(r, 'cxr_synth_step_seconds', 'Training step time.', ['model_kind'], [0.1, 1]).observe({ model_kind: 'gan' }, 0.5);
    const text = await r.metrics();
    promtool(text);
    expect(text).toContain('cxr_synth_generated_images_total{model_kind="gan",backend="cpu"} 3');
    expect(text).toContain('cxr_synth_jobs_running 2');
    expect(text).toContain('cxr_synth_step_seconds_bucket{le="1",model_kind="gan"} 1');
    expect(() => counter(r, 'generated_total', 'x')).toThrow(/cxr_synth_/);
    expect(() => counter(r, 'cxr_synth_generated', 'x')).toThrow(/_total/);
    expect(() => gauge(r, 'cxr_synth_queue_total', 'x')).toThrow(/must not end with _total/);
    expect(() => gauge(r, 'cxr_synth_Bad', 'x')).toThrow(/snake_case/);
  });

  it('gRPC server metrics carry service, method, type and code labels', async () => {
    const r = createRegistry({ service: 'x', processMetrics: false });
    const m = new GrpcServerMetrics(r);
    const labels = { grpc_service: 'cxrsynth.v1.StorageService', grpc_method: 'PutImages', grpc_type: 'client_stream' as const };
    m.declare(labels);
    m.start(labels);
    m.received1(labels);
    m.received1(labels);
    m.sent1(labels);
    m.finish(labels, 'OK', 0.02);
    const text = await r.metrics();
    promtool(text);
    const l = 'grpc_service="cxrsynth.v1.StorageService",grpc_method="PutImages",grpc_type="client_stream"';
    expect(text).toContain(`grpc_server_started_total{${l}} 1`);
    expect(text).toContain(`grpc_server_handled_total{${l},grpc_code="OK"} 1`);
    expect(text).toContain(`grpc_server_msg_received_total{${l}} 2`);
    expect(text).toContain(`grpc_server_msg_sent_total{${l}} 1`);
    expect(text).toContain(`grpc_server_handling_seconds_bucket{le="0.025",${l}} 1`);
    expect(text).toContain(`cxr_synth_grpc_server_in_flight_calls{${l}} 0`);
  });
});
