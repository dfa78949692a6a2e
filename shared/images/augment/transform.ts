// MONAI/albumentations-style transforms: each random transform is a small object with `apply(img, rng)`.
// The RNG is passed in, not owned, so a training loop seeds one stream per epoch (or per sample) and gets the
// same augmentations on every run. Transforms never modify their input image.

import type { GrayImage } from '../image.js';
import type { Rng } from '../rng.js';

export interface Transform {
  /** Short name for logs and reports, e.g. "ShiftScaleRotate". */
  readonly name: string;
  apply(img: GrayImage, rng: Rng): GrayImage;
}

/** Apply transforms in order. */
export class Compose implements Transform {
  readonly name = 'Compose';
  constructor(readonly transforms: readonly Transform[]) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    let out = img;
    for (const t of this.transforms) out = t.apply(out, rng);
    return out;
  }
}

/** With probability p apply exactly one of the transforms, chosen uniformly; else pass through. */
export class OneOf implements Transform {
  readonly name = 'OneOf';
  constructor(
    readonly transforms: readonly Transform[],
    readonly p = 1,
  ) {
    if (transforms.length === 0) throw new RangeError('OneOf needs at least one transform');
  }
  apply(img: GrayImage, rng: Rng): GrayImage {
    // Always draw both numbers so the stream advances the same way whichever branch runs.
    const go = rng.next() < this.p;
    const which = rng.pick(this.transforms);
    return go ? which.apply(img, rng) : img;
  }
}

/** Apply the transform with probability p. */
export class RandApply implements Transform {
  readonly name: string;
  constructor(
    readonly transform: Transform,
    readonly p: number,
  ) {
    this.name = `RandApply(${transform.name})`;
  }
  apply(img: GrayImage, rng: Rng): GrayImage {
    return rng.next() < this.p ? this.transform.apply(img, rng) : img;
  }
}
