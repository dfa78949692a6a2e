export {
  planPhantomDataset, renderPhantomRecord, generatePhantomImages, validatePhantomSize,
  DEFAULT_PHANTOM_SIZE, DEFAULT_PHANTOM_SEED, type PhantomOptions, type PhantomRecord,
} from './dataset.js';
export { renderPhantom, MIN_PHANTOM_SIZE, MAX_PHANTOM_SIZE, type PhantomImageSpec } from './render.js';
export type { Anatomy } from './anatomy.js';
export type { FindingPlan } from './lesions.js';
export { storePhantomDataset, type StorePhantomOptions } from './store.js';
