// The "domain" feature network: the penultimate layer of a classifier trained on the real training
// split. It is the default because it needs no external weights, and its features are about chest
// X-rays rather than ImageNet objects. Its numbers are comparable only between results that name the
// same classifier (model id + weights hash), never with Inception FIDs in the literature.
import { ArtifactsNotFoundError } from '../../../shared/tf/index.js';
import { weightsHash } from './artifacts.js';
import { MissingWeightsError, type FeatureNetwork, type InputSpec } from './network.js';
import { tf } from './tf.js';

export interface DomainOptions {
  /**
   * The classifier's input normalisation, applied after resizing to its input size: x·scale + offset.
   * Must match how the classifier was trained; default identity ([0, 1] gray).
   */
  scale?: number;
  offset?: number;
}

/**
 * The penultimate tensor: the input of the last Dense layer (the classification head). A layer named
 * "features" or "penultimate", when present, wins, so a classifier can mark it explicitly.
 */
function penultimate(model: tf.LayersModel): tf.SymbolicTensor {
  const marked = model.layers.find((l) => l.name === 'features' || l.name === 'penultimate');
  if (marked) return marked.output as tf.SymbolicTensor;
  for (let i = model.layers.length - 1; i >= 0; i--) {
    const layer = model.layers[i]!;
    if (layer.getClassName() === 'Dense') {
      const inbound = layer.input;
      if (Array.isArray(inbound)) break;
      return inbound as tf.SymbolicTensor;
    }
  }
  throw new RangeError(`classifier ${model.name} has no final Dense head to take penultimate features from`);
}

/** Wraps a trained classifier (its weights identified by `hash`) as the domain feature network. */
export function domainNetwork(classifier: tf.LayersModel, hash: string, options: DomainOptions = {}): FeatureNetwork {
  const inShape = classifier.inputs[0]!.shape;
  const [, h, w, c] = inShape;
  if (h == null || w == null || h !== w || (c !== 1 && c !== 3)) {
    throw new RangeError(`domain classifier must take square N × S × S × 1|3 input, got [${inShape.join(', ')}]`);
  }
  const feats = penultimate(classifier);
  if (feats.shape.length !== 2 || feats.shape[1] == null) {
    throw new RangeError(`penultimate layer of ${classifier.name} is not a flat vector: [${feats.shape.join(', ')}]`);
  }
  const extractor = tf.model({ inputs: classifier.inputs, outputs: feats });
  const input: InputSpec = { size: h, channels: c, scale: options.scale ?? 1, offset: options.offset ?? 0 };
  return {
    name: 'domain',
    dim: feats.shape[1],
    weightsHash: hash,
    input,
    forward: (batch) => extractor.predict(batch) as tf.Tensor2D,
    dispose: () => classifier.dispose(),
  };
}

/** Loads a stored classifier (topology + weights, tfjs layers format) as the domain network. */
export async function loadDomainNetwork(handler: tf.io.IOHandler, modelId: string, options: DomainOptions = {}): Promise<FeatureNetwork> {
  if (handler.load === undefined) throw new TypeError('the IO handler cannot load');
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (err) {
    if (err instanceof ArtifactsNotFoundError) {
      throw new MissingWeightsError(`domain feature network: classifier "${modelId}" is not in storage; train one on the real training split first`);
    }
    throw err;
  }
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return domainNetwork(model, weightsHash(artifacts), options);
}
