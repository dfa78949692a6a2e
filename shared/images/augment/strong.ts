// The study's augmentation pipelines (Schaudt et al. 2023, train.py: get_strong_transforms / get_weak_transforms),
// applied after resizing to the network size:
//   strong = ShiftScaleRotate(shift 0.1, scale 0.5, rotate 10°, p=1, black border)
//            → OneOf(CLAHE, BrightnessContrast, Gamma; p=0.9)
//            → OneOf(Sharpen, Blur(3), MotionBlur(3); p=0.9)
//            → OneOf(BrightnessContrast, HueSaturationValue ≡ ValueShift on grey; p=0.9)
//   weak   = ShiftScaleRotate only.
// Never a horizontal flip (laterality).

import { BrightnessContrast } from './brightness-contrast.js';
import { Blur } from './blur.js';
import { Clahe } from './clahe.js';
import { Gamma } from './gamma.js';
import { MotionBlur } from './motion-blur.js';
import { Sharpen } from './sharpen.js';
import { ShiftScaleRotate } from './shift-scale-rotate.js';
import { Compose, OneOf, type Transform } from './transform.js';
import { ValueShift } from './value-shift.js';

export function strongAugmentation(): Transform {
  return new Compose([
    new ShiftScaleRotate({ shiftLimit: 0.1, scaleLimit: 0.5, rotateLimitDeg: 10, borderValue: 0 }),
    new OneOf([new Clahe(), new BrightnessContrast(), new Gamma()], 0.9),
    new OneOf([new Sharpen(), new Blur(3), new MotionBlur(3)], 0.9),
    new OneOf([new BrightnessContrast(), new ValueShift()], 0.9),
  ]);
}

export function weakAugmentation(): Transform {
  return new Compose([new ShiftScaleRotate({ shiftLimit: 0.1, scaleLimit: 0.5, rotateLimitDeg: 10, borderValue: 0 })]);
}

export type AugmentationName = 'none' | 'weak' | 'strong';

export function augmentationByName(name: AugmentationName): Transform {
  if (name === 'strong') return strongAugmentation();
  if (name === 'weak') return weakAugmentation();
  return new Compose([]);
}
