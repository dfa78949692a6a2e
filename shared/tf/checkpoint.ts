// Checkpoints over an abstract blob store: models (topology + weights, the tfjs model.json/weights.bin format)
// AND optimizer state (Adam's moments, iteration count and β-powers), so a resumed run continues exactly as
// if it had never stopped, on the same backend. shared/clients' storageBlobStore (the storage service) implements
// BlobIO; tests use an in-memory or filesystem one.
//
// Layout under a prefix (e.g. models/<kind>/<model-id>/<step>):
//   <name>/model.json, <name>/weights.bin    one per model (loadable on its own with tf.loadLayersModel)
//   optimizers.bin                           every optimizer's tensors, described in checkpoint.json
//   checkpoint.json                          written LAST: a checkpoint exists only once it does
import * as tf from '@tensorflow/tfjs';

/** Key → bytes storage: shared/clients' storageBlobStore over the storage service, or in memory. */
export interface BlobIO {
  /** undefined when there is no such blob. */
  getBytes(key: string): Promise<Uint8Array | undefined>;
  /** Visible only once complete. */
  put(key: string, bytes: Uint8Array): Promise<void>;
}

/** A model file or checkpoint part that is not in the store: callers turn it into NOT_FOUND / FAILED_PRECONDITION. */
export class ArtifactsNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no tfjs model artifact at ${key}`);
    this.name = 'ArtifactsNotFoundError';
  }
}

async function required(io: BlobIO, key: string): Promise<Uint8Array> {
  const bytes = await io.getBytes(key);
  if (bytes === undefined) throw new ArtifactsNotFoundError(key);
  return bytes;
}

export const CHECKPOINT_FORMAT = 'cxr-synth-tf-checkpoint/1';

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface OptimizerEntry {
  name: string;
  className: string;
  specs: tf.io.WeightsManifestEntry[];
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  step: number;
  /** The tfjs backend that wrote it: resuming is exact on the same backend only. */
  backend: string;
  models: string[];
  optimizers: OptimizerEntry[];
  meta: Record<string, Json>;
}

export interface CheckpointParts {
  models: Record<string, tf.LayersModel>;
  optimizers: Record<string, tf.Optimizer>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const validName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkName(kind: string, name: string): void {
  if (!validName.test(name)) throw new Error(`${kind} name ${JSON.stringify(name)}: use letters, digits, _ . - (≤ 64)`);
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix.replace(/\/+$/, '')}/${key}`;
}

/** A tf.io handler that saves/loads one model as <prefix>/model.json + <prefix>/weights.bin through `io`. */
export function blobIOHandler(io: BlobIO, prefix: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const manifest: tf.io.WeightsManifestConfig = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        weightsManifest: manifest,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
      };
      if (artifacts.trainingConfig !== undefined) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      // weights first, model.json last: a model is visible only once complete.
      await io.put(join(prefix, 'weights.bin'), new Uint8Array(weights));
      await io.put(join(prefix, 'model.json'), enc.encode(JSON.stringify(modelJson)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = JSON.parse(dec.decode(await required(io, join(prefix, 'model.json')))) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const paths = manifest.flatMap((g) => g.paths);
        const parts = await Promise.all(paths.map((p) => required(io, join(prefix, p))));
        const total = parts.reduce((n, p) => n + p.byteLength, 0);
        const all = new Uint8Array(total);
        let at = 0;
        for (const p of parts) {
          all.set(p, at);
          at += p.byteLength;
        }
        return [specs, all.buffer];
      });
    },
  };
}

/** Loads a model saved by `blobIOHandler` / `saveCheckpoint` (for inference, or to inspect its topology). */
export function loadModel(io: BlobIO, prefix: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(blobIOHandler(io, prefix));
}

// tfjs's Adam.setWeights recomputes β₁ᵗ and β₂ᵗ with pow(), which can differ in the last bit from the running
// product training accumulates; we store the product itself so a resume is bit-exact.
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

async function optimizerTensors(opt: tf.Optimizer): Promise<NamedTensor[]> {
  const named = await opt.getWeights();
  const a = opt as unknown as AdamInternals;
  if (a.accBeta1 instanceof tf.Variable && a.accBeta2 instanceof tf.Variable) {
    named.push({ name: '__accBeta1', tensor: a.accBeta1 }, { name: '__accBeta2', tensor: a.accBeta2 });
  }
  return named;
}

async function restoreOptimizer(opt: tf.Optimizer, named: NamedTensor[]): Promise<void> {
  const extra = new Map(named.filter((n) => n.name.startsWith('__')).map((n) => [n.name, n.tensor]));
  await opt.setWeights(named.filter((n) => !n.name.startsWith('__')));
  const a = opt as unknown as AdamInternals;
  const b1 = extra.get('__accBeta1');
  const b2 = extra.get('__accBeta2');
  if (b1 !== undefined && b2 !== undefined && a.accBeta1 instanceof tf.Variable && a.accBeta2 instanceof tf.Variable) {
    a.accBeta1.assign(b1);
    a.accBeta2.assign(b2);
  }
}

/** Saves models and optimizers under `prefix`; checkpoint.json is written last. */
export async function saveCheckpoint(io: BlobIO, prefix: string, parts: CheckpointParts, step: number,
  meta: Record<string, Json> = {}): Promise<CheckpointManifest> {
  if (!Number.isInteger(step) || step < 0) throw new Error(`checkpoint step must be a non-negative integer, got ${step}`);
  for (const name of Object.keys(parts.models)) {
    checkName('model', name);
    await parts.models[name]!.save(blobIOHandler(io, join(prefix, name)));
  }
  const entries: OptimizerEntry[] = [];
  const tensors: tf.NamedTensorMap = {};
  for (const [name, opt] of Object.entries(parts.optimizers)) {
    checkName('optimizer', name);
    const named = await optimizerTensors(opt);
    named.forEach((n, i) => (tensors[`${name}/${String(i).padStart(6, '0')}/${n.name}`] = n.tensor));
    entries.push({ name, className: opt.getClassName(), specs: [] });
  }
  const { data, specs } = await tf.io.encodeWeights(tensors);
  // Variables are the optimizers' live state; anything else getWeights made for us (the iteration count, sliced
  // moments) is ours to free.
  tf.dispose(Object.values(tensors).filter((t) => !(t instanceof tf.Variable)));
  // Each spec name is <optimizer>/<index>/<original name>: split them back per optimizer.
  for (const s of specs) entries.find((e) => s.name.startsWith(`${e.name}/`))!.specs.push(s);
  await io.put(join(prefix, 'optimizers.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)));
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    step,
    backend: tf.getBackend(),
    models: Object.keys(parts.models),
    optimizers: entries,
    meta,
  };
  await io.put(join(prefix, 'checkpoint.json'), enc.encode(JSON.stringify(manifest)));
  return manifest;
}

export async function readManifest(io: BlobIO, prefix: string): Promise<CheckpointManifest> {
  const m = JSON.parse(dec.decode(await required(io, join(prefix, 'checkpoint.json')))) as CheckpointManifest;
  if (m.format !== CHECKPOINT_FORMAT) throw new Error(`not a ${CHECKPOINT_FORMAT} checkpoint: format ${String(m.format)}`);
  return m;
}

/**
 * Restores a checkpoint INTO existing models and optimizers (built the same way as those saved): weights by
 * order with shapes checked, optimizer state exactly. Returns the manifest (its `step` is where to resume).
 */
export async function restoreCheckpoint(io: BlobIO, prefix: string, parts: CheckpointParts): Promise<CheckpointManifest> {
  const manifest = await readManifest(io, prefix);
  for (const name of Object.keys(parts.models)) {
    if (!manifest.models.includes(name)) throw new Error(`checkpoint at ${prefix} has no model ${name}`);
    const saved = await loadModel(io, join(prefix, name));
    try {
      const target = parts.models[name]!;
      const values = saved.getWeights();
      const current = target.getWeights();
      if (values.length !== current.length) throw new Error(`model ${name}: checkpoint has ${values.length} weights, model ${current.length}`);
      values.forEach((v, i) => {
        if (!tf.util.arraysEqual(v.shape, current[i]!.shape)) {
          throw new Error(`model ${name} weight ${i}: checkpoint shape [${v.shape}] vs model [${current[i]!.shape}]`);
        }
      });
      target.setWeights(values);
    } finally {
      saved.dispose();
    }
  }
  const all = manifest.optimizers.flatMap((e) => e.specs);
  const bytes = await required(io, join(prefix, 'optimizers.bin'));
  const decoded = tf.io.decodeWeights(bytes.slice().buffer, all);
  try {
    for (const [name, opt] of Object.entries(parts.optimizers)) {
      const entry = manifest.optimizers.find((e) => e.name === name);
      if (entry === undefined) throw new Error(`checkpoint at ${prefix} has no optimizer ${name}`);
      if (entry.className !== opt.getClassName()) throw new Error(`optimizer ${name}: checkpoint ${entry.className}, given ${opt.getClassName()}`);
      const named = entry.specs.map((s) => ({ name: s.name.split('/').slice(2).join('/'), tensor: decoded[s.name]! }));
      await restoreOptimizer(opt, named);
    }
  } finally {
    tf.dispose(Object.values(decoded));
  }
  return manifest;
}

/** An in-memory BlobIO (tests, and the embedded demo before storage is up). */
export class MemoryBlobIO implements BlobIO {
  readonly blobs = new Map<string, Uint8Array>();

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(key, bytes.slice());
  }

  async getBytes(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(key)?.slice();
  }
}
