// Where trained classifiers and evaluations live in storage, and in what format. One layout, shared with
// the metrics service (services/metrics/features/provider.ts and storage-client.ts read exactly this):
//   MODELS       classifier/<model_id>/model.json     tfjs-layers topology + weights manifest (paths: weights.bin)
//                classifier/<model_id>/weights.bin    float32 weights
//                classifier/<model_id>/history.json   per-epoch train / validation loss (for reports)
//                classifier/<model_id>/manifest.json  ClassifierModel as proto JSON — written LAST: a model
//                                                      exists (GetModel / ListModels / Classify) once it is there
//   EVALUATIONS  <evaluation_id>.pb                    binary Evaluation message (what ScoreClassification reads)
//                <evaluation_id>.json                  the same Evaluation as proto JSON, for people and tools
import { storageBlobStore, type StorageClient } from '../../shared/clients/storage.js';
import { callUnary } from '../../shared/grpc/index.js';
import { ClassifierModel, Evaluation } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { BlobNamespace } from '../../shared/proto/cxrsynth/v1/storage.js';
import { tf } from '../../shared/tf/index.js';
import { blobIOHandler } from '../../shared/tf/index.js';
import type { EpochResult } from './train.js';

/** Model and evaluation ids: one blob path segment, and what the metrics service accepts as feature_model_id. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const MODEL_PREFIX = 'classifier';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const modelPath = (id: string, file: string) => `${MODEL_PREFIX}/${id}/${file}`;

export class ClassifierStore {
  constructor(private readonly storage: StorageClient) {}

  /** Saves weights, topology and history, then the manifest that makes the model visible. */
  async saveModel(model: tf.LayersModel, manifest: ClassifierModel, history: readonly EpochResult[]): Promise<void> {
    const id = manifest.modelId;
    // The same handler the metrics service loads with: keys "models/classifier/<id>/{model.json,weights.bin}".
    await model.save(blobIOHandler(storageBlobStore(this.storage), `models/${MODEL_PREFIX}/${id}`));
    await this.storage.putBlob({ namespace: BlobNamespace.MODELS, path: modelPath(id, 'history.json') }, encoder.encode(JSON.stringify(history)), 'application/json');
    await this.storage.putBlob(
      { namespace: BlobNamespace.MODELS, path: modelPath(id, 'manifest.json') },
      encoder.encode(JSON.stringify(ClassifierModel.toJSON(manifest))),
      'application/json',
    );
  }

  async getManifest(id: string): Promise<ClassifierModel | undefined> {
    const bytes = await storageBlobStore(this.storage).getBytes(`models/${modelPath(id, 'manifest.json')}`);
    return bytes === undefined ? undefined : ClassifierModel.fromJSON(JSON.parse(decoder.decode(bytes)));
  }

  async loadModel(id: string): Promise<tf.LayersModel> {
    const handler = blobIOHandler(storageBlobStore(this.storage), `models/${MODEL_PREFIX}/${id}`);
    return tf.loadLayersModel(tf.io.fromMemory(await handler.load!()));
  }

  /** Every stored manifest (all pages), newest first. */
  async listManifests(): Promise<ClassifierModel[]> {
    const ids: string[] = [];
    let pageToken = '';
    do {
      const page = await callUnary(this.storage.raw, 'listBlobs', { namespace: BlobNamespace.MODELS, prefix: MODEL_PREFIX, pageSize: 1000, pageToken });
      for (const b of page.blobs) {
        const m = /^classifier\/([^/]+)\/manifest\.json$/.exec(b.ref?.path ?? '');
        if (m) ids.push(m[1]!);
      }
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    const manifests = await Promise.all(ids.map((id) => this.getManifest(id)));
    return manifests
      .filter((m): m is ClassifierModel => m !== undefined)
      .sort((a, b) => b.createdUnixMs - a.createdUnixMs || (a.modelId < b.modelId ? -1 : 1));
  }

  async saveEvaluation(evaluation: Evaluation): Promise<void> {
    const id = evaluation.evaluationId;
    await this.storage.putBlob({ namespace: BlobNamespace.EVALUATIONS, path: `${id}.json` }, encoder.encode(JSON.stringify(Evaluation.toJSON(evaluation))), 'application/json');
    await this.storage.putBlob({ namespace: BlobNamespace.EVALUATIONS, path: `${id}.pb` }, Evaluation.encode(evaluation).finish(), 'application/x-protobuf');
  }
}
