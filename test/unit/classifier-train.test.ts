// Train request validation and the synthetic mix (services/classifier/service.ts, data.ts), the cosine schedule,
// and the training loop itself on a tiny learnable set: the checkpoint kept is the lowest validation loss.
import { status } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseSynthetic } from '../../services/classifier/data.js';
import { buildResNet } from '../../services/classifier/models/resnet.js';
import { normalizeTrainRequest } from '../../services/classifier/service.js';
import { cosineLr, evaluateLoss, trainModel } from '../../services/classifier/train.js';
import { ServiceError } from '../../shared/grpc/index.js';
import { ClassifierArchitecture, type TrainClassifierRequest } from '../../shared/proto/cxrsynth/v1/classifier.js';
import { CollectionKind, Finding, Split, SyntheticMix, type ImageRef } from '../../shared/proto/cxrsynth/v1/common.js';
import { initTf } from '../../shared/tf/index.js';

const base: TrainClassifierRequest = {
  modelId: '', architecture: ClassifierArchitecture.CONVNEXT_TINY, datasetId: 'd', syntheticSetIds: [], syntheticPerClass: 0,
  mix: SyntheticMix.UNSPECIFIED, epochs: 3, batchSize: 0, learningRate: 0, seed: 1, imageSize: 0, augment: false, fold: 0, dropout: 0,
};

function refusal(over: Partial<TrainClassifierRequest>): { code: number; field: string | undefined } {
  try {
    normalizeTrainRequest({ ...base, ...over });
  } catch (err) {
    if (err instanceof ServiceError) return { code: err.code, field: err.details?.field };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('Train request validation', () => {
  it('fills the study defaults: batch 8, lr 1e-4, dropout 0.5; 64 px', () => {
    const { family, request } = normalizeTrainRequest(base);
    expect(family.kind).toBe('convnext-tiny');
    expect(request).toMatchObject({ batchSize: 8, learningRate: 1e-4, dropout: 0.5, imageSize: 64, mix: SyntheticMix.UNSPECIFIED });
    const withSets = normalizeTrainRequest({ ...base, syntheticSetIds: ['s'], syntheticPerClass: 100 }).request;
    expect(withSets.mix).toBe(SyntheticMix.ADD_PER_CLASS); // the study's protocol when unspecified
  });

  it('names the field it refuses', () => {
    expect(refusal({ architecture: ClassifierArchitecture.UNSPECIFIED })).toEqual({ code: status.INVALID_ARGUMENT, field: 'architecture' });
    expect(refusal({ epochs: 0 }).field).toBe('epochs');
    expect(refusal({ epochs: 1001 }).field).toBe('epochs');
    expect(refusal({ imageSize: 15 }).field).toBe('image_size');
    expect(refusal({ imageSize: 257 }).field).toBe('image_size');
    expect(refusal({ batchSize: 513 }).field).toBe('batch_size');
    expect(refusal({ learningRate: -1 }).field).toBe('learning_rate');
    expect(refusal({ dropout: 1 }).field).toBe('dropout');
    expect(refusal({ modelId: '../escape' }).field).toBe('model_id');
    expect(refusal({ datasetId: '' }).field).toBe('dataset_id');
    expect(refusal({ syntheticSetIds: ['a', 'a'], syntheticPerClass: 1 }).field).toBe('synthetic_set_ids');
    expect(refusal({ syntheticPerClass: 5 }).field).toBe('synthetic_set_ids');
    expect(refusal({ syntheticSetIds: ['a'], mix: SyntheticMix.ADD_PER_CLASS }).field).toBe('synthetic_per_class');
  });
});

const ref = (finding: Finding, i: number): ImageRef => ({
  collection: { kind: CollectionKind.SYNTHETIC_SET, id: 's' }, sha256: `${finding}-${String(i).padStart(3, '0')}`, finding,
  width: 8, height: 8, bitDepth: 8, patientId: '', split: Split.UNSPECIFIED, fold: 0, sizeBytes: 0, view: '',
});

describe('synthetic mix', () => {
  const pool = [Finding.HEALTHY, Finding.BACTERIAL, Finding.VIRAL, Finding.FUNGAL, Finding.COVID19].flatMap((f) => Array.from({ length: 30 }, (_, i) => ref(f, i)));
  const perClass = (refs: ImageRef[]) => [1, 2, 3, 4, 5].map((f) => refs.filter((r) => r.finding === f).length);

  it('ADD_PER_CLASS adds N to every class, healthy included, as the study did', () => {
    expect(perClass(chooseSynthetic(pool, [50, 10, 8, 12, 9], 20, SyntheticMix.ADD_PER_CLASS, 1))).toEqual([20, 20, 20, 20, 20]);
    expect(perClass(chooseSynthetic(pool, [50, 10, 8, 12, 9], 100, SyntheticMix.ADD_PER_CLASS, 1))).toEqual([30, 30, 30, 30, 30]);
  });

  it('BALANCE_TO_MAJORITY tops classes up to the majority, N a ceiling (0: none)', () => {
    expect(perClass(chooseSynthetic(pool, [30, 10, 25, 30, 29], 0, SyntheticMix.BALANCE_TO_MAJORITY, 1))).toEqual([0, 20, 5, 0, 1]);
    expect(perClass(chooseSynthetic(pool, [30, 10, 25, 30, 29], 4, SyntheticMix.BALANCE_TO_MAJORITY, 1))).toEqual([0, 4, 4, 0, 1]);
  });

  it('is seeded: the same seed picks the same images regardless of pool order', () => {
    const a = chooseSynthetic(pool, [1, 1, 1, 1, 1], 5, SyntheticMix.ADD_PER_CLASS, 3).map((r) => r.sha256);
    const b = chooseSynthetic([...pool].reverse(), [1, 1, 1, 1, 1], 5, SyntheticMix.ADD_PER_CLASS, 3).map((r) => r.sha256);
    const c = chooseSynthetic(pool, [1, 1, 1, 1, 1], 5, SyntheticMix.ADD_PER_CLASS, 4).map((r) => r.sha256);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});

describe('training loop', () => {
  beforeAll(async () => {
    await initTf();
  });

  it('cosine schedule starts at lr and ends at 0', () => {
    expect(cosineLr(1e-3, 0, 100)).toBeCloseTo(1e-3, 12);
    expect(cosineLr(1e-3, 50, 100)).toBeCloseTo(5e-4, 12);
    expect(cosineLr(1e-3, 100, 100)).toBeCloseTo(0, 12);
  });

  it('learns a trivially separable set and keeps the epoch with the lowest validation loss', async () => {
    // Class k: a flat image of brightness (k + 1) / 6 with a little seeded noise.
    const S = 16;
    let n = 0;
    const make = (k: number) => {
      const pixels = new Float32Array(S * S);
      for (let i = 0; i < pixels.length; i++) pixels[i] = (k + 1) / 6 + (((n * 7919 + i * 104729) % 1000) / 1000 - 0.5) * 0.05;
      return { sha256: `s${n++}`, label: k, pixels, synthetic: false };
    };
    const train = Array.from({ length: 40 }, (_, i) => make(i % 5));
    const val = Array.from({ length: 10 }, (_, i) => make(i % 5));
    const model = buildResNet({ imageSize: S, dropout: 0.5, seed: 2 });
    const epochs: number[] = [];
    const result = await trainModel(model, train, val, { epochs: 6, batchSize: 8, learningRate: 3e-3, seed: 1, augment: false, imageSize: S }, {
      onEpoch: (e) => epochs.push(e.valLoss),
    });
    expect(result.history).toHaveLength(6);
    expect(result.bestValLoss).toBe(Math.min(...epochs));
    expect(result.bestEpoch).toBe(epochs.indexOf(result.bestValLoss) + 1);
    // The model now holds the best epoch's weights.
    expect(evaluateLoss(model, val, S).loss).toBeCloseTo(result.bestValLoss, 4);
    expect(evaluateLoss(model, val, S).accuracy).toBeGreaterThan(0.6);
    model.dispose();
  });

  it('is reproducible: the same seed gives the same weights after training with dropout, shuffling and augmentation', async () => {
    const S = 16;
    const sample = (k: number) => ({ sha256: `r${k}`, label: k % 5, pixels: new Float32Array(S * S).map((_, i) => ((k * 31 + i * 17) % 97) / 97), synthetic: false });
    const data = Array.from({ length: 12 }, (_, k) => sample(k));
    const run = async (seed: number) => {
      const model = buildResNet({ imageSize: S, dropout: 0.5, seed: 3 });
      await trainModel(model, data, data.slice(0, 5), { epochs: 2, batchSize: 4, learningRate: 1e-3, seed, augment: true, imageSize: S });
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return w;
    };
    const a = await run(9);
    expect(await run(9)).toEqual(a);
    expect(await run(10)).not.toEqual(a);
  });

  it('stops at the next step when its signal aborts', async () => {
    const S = 16;
    const sample = (k: number) => ({ sha256: `x${k}`, label: k % 5, pixels: new Float32Array(S * S).fill(k / 10), synthetic: false });
    const model = buildResNet({ imageSize: S, dropout: 0.5, seed: 2 });
    const ac = new AbortController();
    let steps = 0;
    await expect(
      trainModel(model, [0, 1, 2, 3].map(sample), [sample(4)], { epochs: 5, batchSize: 1, learningRate: 1e-3, seed: 1, augment: false, imageSize: S }, {
        onStep: () => {
          if (++steps === 2) ac.abort(new Error('stop'));
        },
      }, ac.signal),
    ).rejects.toThrow('stop');
    expect(steps).toBe(2);
    model.dispose();
  });
});
