// The storage service's own Prometheus metrics: what packing costs and saves on the object store. The S3 requests
// behind the images (pack writes and ranged reads) against the images they carry; pack_read_bytes over
// image_served_bytes is the read amplification that coalescing neighbouring images trades for fewer requests.
import { counter, Registry } from '../../shared/prom/registry.js';
import type { Counter } from 'prom-client';

export class StorageMetrics {
  private readonly packWrites: Counter;
  private readonly packWriteBytes: Counter;
  private readonly packReads: Counter;
  private readonly packReadBytes: Counter;
  private readonly imagesServed: Counter;
  private readonly imageServedBytes: Counter;

  /** Without a registry (embedding, tests) the counters still count, on a registry of their own. */
  constructor(readonly registry: Registry = new Registry()) {
    this.packWrites = counter(registry, 'cxr_synth_storage_pack_writes_total', 'Packs of images written to the object store');
    this.packWriteBytes = counter(registry, 'cxr_synth_storage_pack_write_bytes_total', 'Bytes of packs written to the object store');
    this.packReads = counter(registry, 'cxr_synth_storage_pack_reads_total', 'Ranged reads of packs from the object store');
    this.packReadBytes = counter(registry, 'cxr_synth_storage_pack_read_bytes_total', 'Bytes read from packs, gaps between wanted images included');
    this.imagesServed = counter(registry, 'cxr_synth_storage_images_served_total', 'Images read out of packs and verified');
    this.imageServedBytes = counter(registry, 'cxr_synth_storage_image_served_bytes_total', 'Bytes of the images read out of packs');
  }

  packWritten(bytes: number): void {
    this.packWrites.inc();
    this.packWriteBytes.inc(bytes);
  }

  packRead(bytes: number): void {
    this.packReads.inc();
    this.packReadBytes.inc(bytes);
  }

  imageServed(bytes: number): void {
    this.imagesServed.inc();
    this.imageServedBytes.inc(bytes);
  }
}
