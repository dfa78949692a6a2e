// tfjs model artifacts over a blob store: `<prefix>/model.json` (topology + weights manifest) and
// `<prefix>/weights.bin`, the layout storage uses for models/<kind>/<id>/<step>/. The store interface
// is the small part of the storage client the metrics service needs; the storage service's client
// (or, embedded, its ObjectStore) implements it.
import { createHash } from 'node:crypto';
import { tf } from './tf.js';

export interface BlobStore {
  /** undefined when the key does not exist */
  getBytes(key: string): Promise<Uint8Array | undefined>;
  /** visible only once complete */
  put(key: string, bytes: Uint8Array): Promise<void>;
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  modelTopology?: unknown;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

export class ArtifactsNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no tfjs model at ${key}`);
    this.name = 'ArtifactsNotFoundError';
  }
}

function joinKey(prefix: string, name: string): string {
  return prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`;
}

/** A tf.io handler that saves to and loads from `prefix` in the store (weights written before model.json). */
export function blobStoreIOHandler(store: BlobStore, prefix: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.concatenateArrayBuffers(
        Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData],
      );
      const json: ModelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await store.put(joinKey(prefix, 'weights.bin'), new Uint8Array(weightData));
      await store.put(joinKey(prefix, 'model.json'), new TextEncoder().encode(JSON.stringify(json)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonKey = joinKey(prefix, 'model.json');
      const raw = await store.getBytes(jsonKey);
      if (raw === undefined) throw new ArtifactsNotFoundError(jsonKey);
      const json = JSON.parse(new TextDecoder().decode(raw)) as ModelJson;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      for (const group of json.weightsManifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const key = joinKey(prefix, p);
          const bytes = await store.getBytes(key);
          if (bytes === undefined) throw new ArtifactsNotFoundError(key);
          buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
        }
      }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: specs,
        weightData: tf.io.concatenateArrayBuffers(buffers),
        format: json.format,
        generatedBy: json.generatedBy,
      };
    },
  };
}

/** sha256 (hex) over the weight specs and bytes: identifies the weights in cache keys and reports. */
export function weightsHash(artifacts: tf.io.ModelArtifacts): string {
  const h = createHash('sha256');
  h.update(JSON.stringify((artifacts.weightSpecs ?? []).map((s) => [s.name, s.shape, s.dtype])));
  const data = artifacts.weightData;
  for (const buf of data === undefined ? [] : Array.isArray(data) ? data : [data]) h.update(new Uint8Array(buf));
  return h.digest('hex');
}

/**
 * Sets a built model's weights from artifacts by weight name (the layer-scoped original name,
 * e.g. "Mixed_5b.branch1x1.conv/kernel"). Every weight of the model must be present with its shape:
 * a partial or mismatched file is refused rather than silently leaving random weights in place.
 */
export function loadNamedWeights(model: tf.LayersModel, artifacts: tf.io.ModelArtifacts): void {
  if (artifacts.weightSpecs === undefined || artifacts.weightData === undefined) {
    throw new RangeError('model artifacts carry no weights');
  }
  const named = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  const missing: string[] = [];
  const assignments: Array<[tf.LayerVariable, tf.Tensor]> = [];
  for (const w of model.weights) {
    const t = named[w.originalName];
    if (t === undefined) {
      missing.push(w.originalName);
      continue;
    }
    if (t.shape.join('x') !== w.shape.join('x')) {
      throw new RangeError(`weight ${w.originalName} has shape [${t.shape}] in the file, the network needs [${w.shape}]`);
    }
    assignments.push([w, t]);
  }
  if (missing.length > 0) {
    throw new RangeError(`weights file lacks ${missing.length} of ${model.weights.length} weights, e.g. ${missing.slice(0, 3).join(', ')}`);
  }
  for (const [w, t] of assignments) w.write(t);
  for (const t of Object.values(named)) t.dispose();
}
