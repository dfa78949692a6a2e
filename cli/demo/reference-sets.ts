// Reference "generators" for the demo, until the real generative models land: three synthetic sets
// whose quality is known in advance, so the image-quality metrics can be seen to rank them correctly.
//   fresh    — new phantom patients from another seed: what a perfect generator would produce;
//   degraded — the same fresh draws blurred and noised: a poor generator;
//   copies   — training images stored again unchanged: a generator that memorised its data.
// Their provenance says model_kind "reference", so no report can mistake them for trained models.
import { fromProtoFinding, toProtoFinding } from '../../shared/clients/findings.js';
import type { StorageClient } from '../../shared/clients/storage.js';
import { FINDINGS, type FindingCounts } from '../../shared/data/findings.js';
import type { ImageSink } from '../../shared/data/importers/types.js';
import { generatePhantomImages } from '../../shared/data/phantom/index.js';
import { boxBlur } from '../../shared/images/augment/index.js';
import { decodeGrayPng } from '../../shared/images/codec.js';
import { withData, type GrayImage } from '../../shared/images/image.js';
import { createRng } from '../../shared/images/rng.js';
import { CollectionKind, Finding, Split } from '../../shared/proto/cxrsynth/v1/common.js';
import type { SyntheticSet } from '../../shared/proto/cxrsynth/v1/storage.js';
import { createSyntheticSet } from '../datasets.js';

export type ReferenceKind = 'fresh' | 'degraded' | 'copies';
export const REFERENCE_KINDS: readonly ReferenceKind[] = ['fresh', 'degraded', 'copies'];

export interface ReferenceSetOptions {
  datasetId: string;
  perClass: number;
  size: number;
  seed: number;
}

function degrade(image: GrayImage, seed: string): GrayImage {
  const blurred = boxBlur(image, 5);
  const rng = createRng(seed);
  const data = new Float32Array(blurred.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, blurred.data[i]! + 0.08 * rng.normal()));
  return withData(blurred, data);
}

async function putFresh(sink: ImageSink, degraded: boolean, o: ReferenceSetOptions): Promise<void> {
  const counts = Object.fromEntries(FINDINGS.map((f) => [f, o.perClass])) as FindingCounts;
  for (const { record, image } of generatePhantomImages({ seed: `demo-reference-${o.seed}`, counts, size: o.size })) {
    await sink.put(degraded ? degrade(image, `degrade/${record.id}`) : image, { finding: record.finding, patientId: '', format: 'phantom', bitDepth: 8 });
  }
}

async function putCopies(sink: ImageSink, storage: StorageClient, o: ReferenceSetOptions): Promise<void> {
  const collection = { kind: CollectionKind.DATASET, id: o.datasetId };
  for (const f of FINDINGS) {
    const refs = (await storage.listAllImages({ collection, split: Split.TRAIN, findings: [toProtoFinding(f)] })).slice(0, o.perClass);
    const images = await storage.mapImages(refs, ({ png }) => decodeGrayPng(png));
    for (const [i, ref] of refs.entries()) {
      await sink.put(images[i]!, { finding: fromProtoFinding(ref.finding)!, patientId: '', format: 'png', bitDepth: 8 });
    }
  }
}

export async function createReferenceSet(storage: StorageClient, kind: ReferenceKind, o: ReferenceSetOptions): Promise<SyntheticSet> {
  const { set } = await createSyntheticSet(
    storage,
    `${o.datasetId}-reference-${kind}`,
    `demo reference set "${kind}" (not a generative model)`,
    { modelKind: 'reference', modelId: kind, checkpointStep: 0, seed: o.seed, finding: Finding.UNSPECIFIED, backend: '', params: { per_class: String(o.perClass) } },
    (sink) => (kind === 'copies' ? putCopies(sink, storage, o) : putFresh(sink, kind === 'degraded', o)),
  );
  return set;
}
