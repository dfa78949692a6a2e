// An ImageSink (what the importers and the phantom builder write to) over one PutImages client stream:
// each put() encodes the image as PNG and writes it, waiting when the stream is full (backpressure);
// finish() ends the stream and returns storage's answer. Nothing is visible until the caller commits.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type { ImageSink, ImportedImageMeta } from '../data/importers/types.js';
import { encodeGrayPng } from '../images/codec.js';
import type { GrayImage } from '../images/image.js';
import { Split, type CollectionRef } from '../proto/cxrsynth/v1/common.js';
import type { PutImagesRequest, PutImagesResponse } from '../proto/cxrsynth/v1/storage.js';
import { toProtoFinding } from './findings.js';
import { imageMessages, type StorageClient } from './storage.js';

export interface StorageImageSink extends ImageSink {
  finish(): Promise<PutImagesResponse>;
  /** Abandons the stream (the server discards what it received). */
  abort(): void;
}

export function storageImageSink(storage: StorageClient, collection: CollectionRef): StorageImageSink {
  let failure: ServiceError | undefined;
  let call!: ReturnType<StorageClient['raw']['putImages']>; // assigned synchronously by the executor below
  const response = new Promise<PutImagesResponse>((resolve, reject) => {
    call = storage.raw.putImages(new Metadata(), { deadline: Infinity }, (err, res) => {
      if (err) {
        failure = err;
        reject(err);
      } else resolve(res);
    });
  });
  response.catch(() => undefined); // surfaced by put() or finish()

  const write = async (msg: PutImagesRequest) => {
    if (failure) throw failure;
    // A stream that fails while full never drains: the failed response ends the wait instead.
    if (!call.write(msg)) await Promise.race([new Promise<void>((resolve) => call.once('drain', resolve)), response.then(() => undefined)]);
  };

  return {
    async put(image: GrayImage, meta: ImportedImageMeta) {
      const header = { finding: toProtoFinding(meta.finding), patientId: meta.patientId, split: Split.UNSPECIFIED, view: meta.view ?? '' };
      for await (const msg of imageMessages(collection, [{ header, png: encodeGrayPng(image) }])) await write(msg);
    },
    finish() {
      call.end();
      return response;
    },
    abort() {
      call.cancel();
    },
  };
}
