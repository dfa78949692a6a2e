// shared/tf: the one module model code imports TensorFlow.js from.
//   import { tf, initTf, backendName } from '../../shared/tf/index.js';
//   await initTf();            // once, at start-up: picks tensorflow-gpu > tensorflow > wasm > cpu
import * as tf from '@tensorflow/tfjs';

export { tf };
export {
  initTf,
  backendName,
  backendInfo,
  BACKEND_NAMES,
  TF_BACKEND_ENV,
  TF_THREADS_ENV,
  type BackendName,
  type InitTfOptions,
  type TfBackendInfo,
} from './backend.js';
export { BatchNormalization, batchNormalization } from './layers/batch-normalization.js';
export { Conv2D, conv2d } from './layers/conv2d.js';
export { MultiTensorAdam, multiTensorAdam } from './optimizers/adam.js';
export { SeededRandom, SeededInitializers, seededPermutation, seededShuffle, type Initializer } from './random.js';
export {
  ArtifactsNotFoundError,
  MemoryBlobIO,
  blobIOHandler,
  loadModel,
  saveCheckpoint,
  restoreCheckpoint,
  readManifest,
  CHECKPOINT_FORMAT,
  type BlobIO,
  type CheckpointManifest,
  type CheckpointParts,
} from './checkpoint.js';
