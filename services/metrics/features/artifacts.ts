// Helpers over tfjs model artifacts for the feature networks: a hash that names the weights in cache keys, and
// loading weights by name into a built model. Artifacts come through shared/tf's blobIOHandler (the layout
// `<prefix>/model.json` + `<prefix>/weights.bin` storage uses for models/<kind>/<id>/<step>/).
import { createHash } from 'node:crypto';
import { tf } from './tf.js';

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
