// What the metrics service needs from the rest of the mesh, as small interfaces. Over the mesh the
// storage gRPC client implements them (storage-client.ts); embedded, anything that reads the same
// collections can. Keeping them narrow keeps the metrics maths testable without a running mesh.
import type { GrayImage } from '../../shared/images/image.js';
import type { ImageRef, ImageSelection, Prediction } from '../../shared/proto/cxrsynth/v1/common.js';
import type { FeatureNetwork, FeatureNetworkName } from './features/network.js';

export interface ImageSource {
  /** Every image of the selection (all pages). */
  list(selection: ImageSelection, signal?: AbortSignal): Promise<ImageRef[]>;
  /** Decoded pixels of listed images, in their order; `onRead` after each one. */
  readAll(refs: readonly ImageRef[], options: { signal?: AbortSignal; onRead?: () => Promise<void> | void }): Promise<GrayImage[]>;
}

export interface FeatureNetworkProvider {
  /**
   * The named network, ready to run. Throws MissingWeightsError when its weights are not in storage,
   * and for "domain" when featureModelId names no stored classifier.
   */
  get(name: FeatureNetworkName, featureModelId: string): Promise<FeatureNetwork>;
}

export interface EvaluationSource {
  /** The predictions of a stored classifier evaluation; undefined when there is no such evaluation. */
  predictions(evaluationId: string): Promise<Prediction[] | undefined>;
}
