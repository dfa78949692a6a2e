// The registry of classifier families: proto enum → builder, with the names metrics and manifests use.
import { ClassifierArchitecture } from '../../../shared/proto/cxrsynth/v1/classifier.js';
import type { tf } from '../../../shared/tf/index.js';
import type { BuildOptions } from './common.js';
import { buildConvNeXt } from './convnext.js';
import { buildEfficientNet } from './efficientnet.js';
import { buildResNet } from './resnet.js';

export { CLASS_FINDINGS, NUM_CLASSES, MIN_IMAGE_SIZE, MAX_IMAGE_SIZE, INPUT_MEAN, INPUT_STD, type BuildOptions } from './common.js';

export interface Family {
  architecture: ClassifierArchitecture;
  /** Short name for metric labels (model_kind) and generated model ids. */
  kind: string;
  build(options: BuildOptions): tf.LayersModel;
}

export const FAMILIES: readonly Family[] = [
  { architecture: ClassifierArchitecture.RESNET50, kind: 'resnet50', build: (o) => buildResNet(o) },
  { architecture: ClassifierArchitecture.EFFICIENTNET_B0, kind: 'efficientnet-b0', build: (o) => buildEfficientNet({ ...o, variant: 'b0' }) },
  { architecture: ClassifierArchitecture.EFFICIENTNET_B1, kind: 'efficientnet-b1', build: (o) => buildEfficientNet({ ...o, variant: 'b1' }) },
  { architecture: ClassifierArchitecture.CONVNEXT_TINY, kind: 'convnext-tiny', build: (o) => buildConvNeXt({ ...o, variant: 'tiny' }) },
  { architecture: ClassifierArchitecture.CONVNEXT_SMALL, kind: 'convnext-small', build: (o) => buildConvNeXt({ ...o, variant: 'small' }) },
];

/** The family of an architecture, or undefined for UNSPECIFIED / unknown values. */
export function familyOf(architecture: ClassifierArchitecture): Family | undefined {
  return FAMILIES.find((f) => f.architecture === architecture);
}

export function buildClassifier(architecture: ClassifierArchitecture, options: BuildOptions): tf.LayersModel {
  const family = familyOf(architecture);
  if (family === undefined) throw new RangeError(`unknown classifier architecture ${architecture}`);
  return family.build(options);
}
