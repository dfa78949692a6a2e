// ImageQuality: a real selection vs a synthetic selection → quality scores, overall and per class.
// Order of work, cheapest failure first: validate the request, list both sides, check sizes
// (n ≥ 2, KID subset ≤ n) per group, load the feature network (missing weights fail here, before
// any image is read), read images, extract features (real side through the cache), then measure.
// Choices a reader of the numbers should know:
//  - max_images keeps the first N images by sha256 per side: deterministic and unrelated to finding;
//  - MS-SSIM diversity uses at most MS_SSIM_MAX_IMAGES synthetic images per group (the study's 50,
//    1225 pairs), again first by sha256;
//  - KID's default subset is half the smaller side (≤ 1000), so its SD reflects sampling spread;
//  - pixel-space memorization compares images resized to PIXEL_SIZE² (area filter): near-copies
//    survive that, and 1000 × 865 full-size comparisons would not be affordable;
//  - per class: a finding absent from the real side is skipped; a class too small for a metric
//    (n < 2; n ≤ k for precision/recall; n < kid_subset_size) reports its n without that metric.
import { failedPrecondition, invalidArgument } from '../../shared/grpc/index.js';
import type { GrayImage } from '../../shared/images/image.js';
import { resize } from '../../shared/images/resize.js';
import { CollectionKind, Finding, JobState, Split, type ImageRef, type ImageSelection, type JobEvent } from '../../shared/proto/cxrsynth/v1/common.js';
import { QualityMetric, type ImageQualityRequest, type ImageQualityResult, type QualityScores } from '../../shared/proto/cxrsynth/v1/metrics.js';
import type { FeatureCache } from './features/feature-cache.js';
import {
  extractFeatures,
  MissingWeightsError,
  parseFeatureNetworkName,
  UnknownFeatureNetworkError,
  type FeatureNetwork,
} from './features/network.js';
import { backendName } from './features/tf.js';
import type { Matrix } from './linalg/matrix.js';
import { fid } from './quality/fid.js';
import { kid } from './quality/kid.js';
import { memorization } from './quality/memorization.js';
import { msssimDiversity } from './quality/msssim.js';
import { prdc } from './quality/prdc.js';
import type { FeatureNetworkProvider, ImageSource } from './sources.js';

export const MS_SSIM_MAX_IMAGES = 50;
export const PIXEL_SIZE = 64;
export const PRDC_K = 3;
const ALL_METRICS = [QualityMetric.FID, QualityMetric.KID, QualityMetric.PRECISION_RECALL, QualityMetric.DENSITY_COVERAGE, QualityMetric.MS_SSIM, QualityMetric.MEMORIZATION];

export interface ImageQualityDeps {
  images: ImageSource;
  networks: FeatureNetworkProvider;
  cache?: FeatureCache;
}

type Progress = (event: Omit<JobEvent, 'jobId' | 'state' | 'timeUnixMs' | 'resultId' | 'backend' | 'scalars'> & { scalars?: Record<string, number> }) => Promise<void>;

interface Group {
  finding: Finding;
  real: ImageRef[];
  synthetic: ImageRef[];
}

function checkSelection(sel: ImageSelection | undefined, side: 'real' | 'synthetic'): ImageSelection {
  if (sel?.collection === undefined || sel.collection.id.trim() === '') {
    throw invalidArgument(`${side}: give a collection (kind and id) to select images from`);
  }
  if (sel.collection.kind !== CollectionKind.DATASET && sel.collection.kind !== CollectionKind.SYNTHETIC_SET) {
    throw invalidArgument(`${side}: collection kind must be DATASET or SYNTHETIC_SET`);
  }
  return sel;
}

function firstBySha(refs: ImageRef[], max: number): ImageRef[] {
  const sorted = [...refs].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  return max > 0 ? sorted.slice(0, max) : sorted;
}

function findingName(f: Finding): string {
  return f === Finding.UNSPECIFIED ? 'all' : (Finding[f] ?? String(f)).toLowerCase();
}

function collectionLabel(sel: ImageSelection): string {
  const kind = sel.collection!.kind === CollectionKind.DATASET ? 'dataset' : 'synthetic';
  return `${kind}:${sel.collection!.id}`;
}

export async function computeImageQuality(
  req: ImageQualityRequest,
  deps: ImageQualityDeps,
  progress: Progress,
  signal?: AbortSignal,
): Promise<ImageQualityResult> {
  const realSel = checkSelection(req.real, 'real');
  const synthSel = checkSelection(req.synthetic, 'synthetic');
  const metrics = new Set(req.metrics.length === 0 ? ALL_METRICS : req.metrics);
  for (const m of metrics) {
    if (!ALL_METRICS.includes(m)) throw invalidArgument(`unknown quality metric ${m}; use FID, KID, PRECISION_RECALL, DENSITY_COVERAGE, MS_SSIM or MEMORIZATION`);
  }
  let networkName;
  const defaulted = req.featureNetwork.trim() === '';
  try {
    networkName = defaulted ? 'inception-v3' : parseFeatureNetworkName(req.featureNetwork);
  } catch (err) {
    if (err instanceof UnknownFeatureNetworkError) throw invalidArgument(err.message);
    throw err;
  }
  const threshold = req.memorizationThreshold === 0 ? 0.5 : req.memorizationThreshold;
  if (!(threshold > 0) || !Number.isFinite(threshold)) throw invalidArgument(`memorization_threshold must be > 0 (a ratio to real-to-real neighbour distances), got ${threshold}`);
  const kidSubsets = req.kidSubsets === 0 ? 100 : req.kidSubsets;
  if (kidSubsets > 10_000) throw invalidArgument(`kid_subsets must be ≤ 10000, got ${kidSubsets}`);
  const needsFeatures = [QualityMetric.FID, QualityMetric.KID, QualityMetric.PRECISION_RECALL, QualityMetric.DENSITY_COVERAGE, QualityMetric.MEMORIZATION].some((m) => metrics.has(m));

  await progress({ phase: 'listing', step: 0, totalSteps: 0, message: 'listing images' });
  const realRefs = firstBySha(await deps.images.list(realSel, signal), req.maxImages);
  const synthRefs = firstBySha(await deps.images.list(synthSel, signal), req.maxImages);

  const groups: Group[] = [{ finding: Finding.UNSPECIFIED, real: realRefs, synthetic: synthRefs }];
  if (req.perClass) {
    const findings = [...new Set(synthRefs.map((r) => r.finding))].filter((f) => f !== Finding.UNSPECIFIED).sort();
    for (const f of findings) {
      const real = realRefs.filter((r) => r.finding === f);
      const synthetic = synthRefs.filter((r) => r.finding === f);
      if (real.length > 0) groups.push({ finding: f, real, synthetic });
    }
  }
  // The overall group must be measurable as asked; a per-class group too small for a metric reports
  // its n without that metric (absent, not zero), so one rare class does not sink the request.
  const overall = groups[0]!;
  const nMin = Math.min(overall.real.length, overall.synthetic.length);
  if (overall.real.length < 2 || overall.synthetic.length < 2) {
    throw invalidArgument(`need at least 2 images per side, got ${overall.real.length} real and ${overall.synthetic.length} synthetic; widen the selection`);
  }
  if (metrics.has(QualityMetric.KID) && req.kidSubsetSize > nMin) {
    throw invalidArgument(`kid_subset_size ${req.kidSubsetSize} exceeds the smaller side (${nMin} images); use ≤ ${nMin} or 0 for the default`);
  }
  if ((metrics.has(QualityMetric.PRECISION_RECALL) || metrics.has(QualityMetric.DENSITY_COVERAGE)) && nMin <= PRDC_K) {
    throw invalidArgument(`precision/recall and density/coverage need more than ${PRDC_K} images per side, got ${nMin}`);
  }

  let network: FeatureNetwork | undefined;
  if (needsFeatures) {
    try {
      network = await deps.networks.get(networkName, req.featureModelId);
    } catch (err) {
      if (!(err instanceof MissingWeightsError)) throw err;
      if (!defaulted) throw failedPrecondition(err.message);
      // no network named: inception-v3 when its weights are installed, else the domain network
      try {
        network = await deps.networks.get('domain', req.featureModelId);
      } catch (err2) {
        if (err2 instanceof MissingWeightsError) throw failedPrecondition(`no feature network available: ${err.message}; ${err2.message}`);
        throw err2;
      }
    }
  }
  try {
    const total = realRefs.length + synthRefs.length;
    let done = 0;
    const onRead = async () => {
      if (++done % 16 === 0 || done === total) await progress({ phase: 'reading', step: done, totalSteps: total, message: 'reading images' });
    };
    const read = (refs: ImageRef[]) => deps.images.readAll(refs, { ...(signal ? { signal } : {}), onRead });
    const realImages = await read(realRefs);
    const synthImages = await read(synthRefs);
    const realIndex = new Map(realRefs.map((r, i) => [r.sha256, i]));
    const synthIndex = new Map(synthRefs.map((r, i) => [r.sha256, i]));

    // Features per side once (the overall group holds every image); groups take rows from them.
    let realFeatures: Matrix | undefined;
    let synthFeatures: Matrix | undefined;
    if (network !== undefined) {
      const net = network;
      const onProgress = (side: string) => (d: number, t: number) => progress({ phase: `features:${side}`, step: d, totalSteps: t, message: `extracting ${net.name} features` });
      const computeReal = async () => extractFeatures(net, realImages, { onProgress: onProgress('real') });
      if (deps.cache !== undefined) {
        const key = {
          network: net.name,
          weightsHash: net.weightsHash,
          collection: collectionLabel(realSel),
          split: (Split[realSel.split] ?? 'unspecified').toLowerCase(),
          finding: realSel.findings.length === 0 ? 'all' : [...realSel.findings].sort().map(findingName).join('+'),
          imageSha256s: realRefs.map((r) => r.sha256),
        };
        const cached = await deps.cache.getOrCompute(key, computeReal);
        realFeatures = cached.features;
        await progress({ phase: 'features:real', step: realRefs.length, totalSteps: realRefs.length, message: cached.hit ? 'real features from cache' : 'real features computed and cached', scalars: { cache_hit: cached.hit ? 1 : 0 } });
      } else {
        realFeatures = await computeReal();
      }
      synthFeatures = await extractFeatures(net, synthImages, { onProgress: onProgress('synthetic') });
    }

    const scores: QualityScores[] = [];
    for (const [gi, g] of groups.entries()) {
      await progress({ phase: 'measuring', step: gi, totalSteps: groups.length, message: `measuring ${findingName(g.finding)}` });
      const ri = g.real.map((r) => realIndex.get(r.sha256)!);
      const si = g.synthetic.map((r) => synthIndex.get(r.sha256)!);
      scores.push(measureGroup(g, ri, si, realFeatures, synthFeatures, realImages, synthImages, metrics, req, kidSubsets, threshold));
    }
    return { featureNetwork: network?.name ?? networkName, featureDim: network?.dim ?? 0, scores, backend: backendName() };
  } finally {
    network?.dispose();
  }
}

/**
 * Default KID subset: half the smaller side, at most 1000. A subset as large as the set would make
 * every subset the same sample and report an SD of 0, which says nothing about the estimate's spread.
 */
export function defaultKidSubset(nMin: number): number {
  return Math.max(2, Math.min(1000, Math.floor(nMin / 2)));
}

function rows(m: Matrix, idx: readonly number[]): Matrix {
  const out = new Float64Array(idx.length * m.cols);
  idx.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { rows: idx.length, cols: m.cols, data: out };
}

function pixels(images: readonly GrayImage[], idx: readonly number[]): Matrix {
  const d = PIXEL_SIZE * PIXEL_SIZE;
  const out = new Float64Array(idx.length * d);
  idx.forEach((r, i) => {
    const img = images[r]!;
    const small = img.width === PIXEL_SIZE && img.height === PIXEL_SIZE ? img : resize(img, PIXEL_SIZE, PIXEL_SIZE, { filter: 'area' });
    out.set(small.data, i * d);
  });
  return { rows: idx.length, cols: d, data: out };
}

function measureGroup(
  g: Group,
  ri: number[],
  si: number[],
  realFeatures: Matrix | undefined,
  synthFeatures: Matrix | undefined,
  realImages: GrayImage[],
  synthImages: GrayImage[],
  metrics: Set<QualityMetric>,
  req: ImageQualityRequest,
  kidSubsets: number,
  threshold: number,
): QualityScores {
  const out: QualityScores = { finding: g.finding, nReal: g.real.length, nSynthetic: g.synthetic.length, msSsimPairs: 0 };
  const nMin = Math.min(g.real.length, g.synthetic.length);
  if (nMin < 2) return out;
  const rf = realFeatures ? rows(realFeatures, ri) : undefined;
  const sf = synthFeatures ? rows(synthFeatures, si) : undefined;
  if (rf && sf) {
    if (metrics.has(QualityMetric.FID)) out.fid = fid(rf, sf).fid;
    if (metrics.has(QualityMetric.KID) && req.kidSubsetSize <= nMin) {
      const k = kid(rf, sf, { subsetSize: req.kidSubsetSize === 0 ? defaultKidSubset(nMin) : req.kidSubsetSize, subsets: kidSubsets, seed: req.seed });
      out.kidMean = k.mean;
      out.kidSd = k.std;
    }
    if ((metrics.has(QualityMetric.PRECISION_RECALL) || metrics.has(QualityMetric.DENSITY_COVERAGE)) && nMin > PRDC_K) {
      const p = prdc(rf, sf, PRDC_K);
      if (metrics.has(QualityMetric.PRECISION_RECALL)) Object.assign(out, { precision: p.precision, recall: p.recall });
      if (metrics.has(QualityMetric.DENSITY_COVERAGE)) Object.assign(out, { density: p.density, coverage: p.coverage });
    }
    if (metrics.has(QualityMetric.MEMORIZATION)) {
      const m = memorization(
        { realFeatures: rf, syntheticFeatures: sf, realPixels: pixels(realImages, ri), syntheticPixels: pixels(synthImages, si) },
        { threshold, closest: 10 },
      );
      out.memorization = {
        threshold: m.threshold,
        shareBelowFeature: m.shareBelowFeature,
        shareBelowPixel: m.shareBelowPixel,
        closest: m.closest.map((c) => ({
          syntheticSha256: g.synthetic[c.synthetic]!.sha256,
          realSha256: g.real[c.realByFeature]!.sha256,
          featureDistance: c.featureDistance,
          pixelDistance: c.pixelDistanceToFeatureNeighbour,
        })),
      };
    }
  }
  if (metrics.has(QualityMetric.MS_SSIM)) {
    const chosen = si.slice(0, MS_SSIM_MAX_IMAGES).map((i) => synthImages[i]!);
    const w = chosen[0]!.width;
    const h = chosen[0]!.height;
    if (chosen.some((img) => img.width !== w || img.height !== h)) {
      throw invalidArgument(`MS-SSIM needs synthetic images of one size; ${findingName(g.finding)} mixes sizes (first is ${w}×${h})`);
    }
    const d = msssimDiversity(chosen);
    out.msSsimMean = d.mean;
    out.msSsimPairs = d.pairs;
  }
  return out;
}

export function progressEvent(jobId: string, backend: string, e: Parameters<Progress>[0]): JobEvent {
  return {
    jobId,
    state: JobState.RUNNING,
    phase: e.phase,
    step: e.step,
    totalSteps: e.totalSteps,
    scalars: e.scalars ?? {},
    message: e.message,
    timeUnixMs: Date.now(),
    resultId: '',
    backend,
  };
}
