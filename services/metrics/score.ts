// ScoreClassification: predictions (one evaluation) or stored evaluations (repetitions) → scores.
// With several repetitions the top-level numbers are means over repetitions (what the study reports),
// the confusion matrix is summed over them, and `aggregates` carries mean ± SD for every metric.
// With baseline evaluations, `comparisons` carries the Welch change with its 95% CI and p-value.
import { invalidArgument, notFound, failedPrecondition } from '../../shared/grpc/index.js';
import {
  Finding,
  type ClassificationScores,
  type ClassScores,
  type Prediction,
} from '../../shared/proto/cxrsynth/v1/common.js';
import type { ScoreClassificationRequest } from '../../shared/proto/cxrsynth/v1/metrics.js';
import { aggregateReports, compareToBaseline } from './scoring/aggregate.js';
import { scoreClassification, type ClassificationReport } from './scoring/classification.js';
import type { EvaluationSource } from './sources.js';

/** Class index i is Finding i + 1; probabilities are ordered the same way (common.proto). */
export const SCORED_FINDINGS = [Finding.HEALTHY, Finding.BACTERIAL, Finding.VIRAL, Finding.FUNGAL, Finding.COVID19] as const;
export const CLASS_NAMES = ['healthy', 'bacterial', 'viral', 'fungal', 'covid19'] as const;
const K = SCORED_FINDINGS.length;

export function reportFromPredictions(predictions: readonly Prediction[], what: string): ClassificationReport {
  if (predictions.length === 0) throw invalidArgument(`${what}: no predictions to score`);
  const labels: number[] = [];
  const probabilities: number[][] = [];
  predictions.forEach((p, i) => {
    if (!(p.label >= 1 && p.label <= K)) {
      throw invalidArgument(`${what}: prediction ${i} (${p.sha256 || 'no sha256'}) has label ${p.label}; use a Finding from HEALTHY (1) to COVID19 (5)`);
    }
    if (p.probabilities.length !== K) {
      throw invalidArgument(`${what}: prediction ${i} has ${p.probabilities.length} probabilities; give ${K}, ordered by Finding value 1..5`);
    }
    if (p.probabilities.some((v) => !Number.isFinite(v))) throw invalidArgument(`${what}: prediction ${i} has a non-finite probability`);
    labels.push(p.label - 1);
    probabilities.push(p.probabilities);
  });
  return scoreClassification({ labels, probabilities, classes: K });
}

async function loadReports(ids: readonly string[], source: EvaluationSource | undefined, role: string): Promise<ClassificationReport[]> {
  if (ids.length === 0) return [];
  if (source === undefined) throw failedPrecondition('this metrics service has no evaluation store configured; send predictions instead of evaluation ids');
  const out: ClassificationReport[] = [];
  for (const id of ids) {
    if (id.trim() === '') throw invalidArgument(`${role} evaluation ids must not be empty`);
    const preds = await source.predictions(id);
    if (preds === undefined) throw notFound(`${role} evaluation "${id}" does not exist`);
    out.push(reportFromPredictions(preds, `evaluation ${id}`));
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function toProto(reports: readonly ClassificationReport[]): ClassificationScores {
  const perClass: ClassScores[] = SCORED_FINDINGS.map((finding, c) => {
    const aucs = reports.map((r) => r.perClass[c]!.rocAuc).filter((v): v is number => v !== null);
    return {
      finding,
      precision: mean(reports.map((r) => r.perClass[c]!.precision)),
      recall: mean(reports.map((r) => r.perClass[c]!.recall)),
      f1: mean(reports.map((r) => r.perClass[c]!.f1)),
      support: reports.reduce((s, r) => s + r.perClass[c]!.support, 0),
      ...(aucs.length > 0 ? { rocAuc: mean(aucs) } : {}),
    };
  });
  const counts = new Array<number>(K * K).fill(0);
  for (const r of reports) r.confusion.forEach((v, i) => (counts[i]! += v));
  const macroAucs = reports.map((r) => r.macroRocAuc).filter((v): v is number => v !== null);
  return {
    n: reports.reduce((s, r) => s + r.n, 0),
    accuracy: mean(reports.map((r) => r.accuracy)),
    balancedAccuracy: mean(reports.map((r) => r.balancedAccuracy)),
    macroF1: mean(reports.map((r) => r.macroF1)),
    ...(macroAucs.length > 0 ? { macroRocAuc: mean(macroAucs) } : {}),
    perClass,
    confusion: { labels: [...SCORED_FINDINGS], counts },
    aggregates: [],
    comparisons: [],
  };
}

export async function scoreRequest(req: ScoreClassificationRequest, evaluations?: EvaluationSource): Promise<ClassificationScores> {
  const hasPredictions = req.predictions.length > 0;
  const hasIds = req.evaluationIds.length > 0;
  if (hasPredictions === hasIds) throw invalidArgument('give either predictions or evaluation_ids (exactly one of them)');
  if (hasPredictions && req.baselineEvaluationIds.length > 0) {
    throw invalidArgument('a baseline comparison needs repetitions: give evaluation_ids (≥ 2) together with baseline_evaluation_ids');
  }
  const reports = hasPredictions ? [reportFromPredictions(req.predictions, 'predictions')] : await loadReports(req.evaluationIds, evaluations, 'the');
  const out = toProto(reports);
  if (reports.length > 1) out.aggregates = aggregateReports(reports, CLASS_NAMES).map(({ metric, mean: m, sd, n }) => ({ metric, mean: m, sd, n }));
  if (req.baselineEvaluationIds.length > 0) {
    const baseline = await loadReports(req.baselineEvaluationIds, evaluations, 'baseline');
    if (baseline.length < 2 || reports.length < 2) {
      throw invalidArgument(`a Welch comparison needs at least 2 repetitions per side, got ${reports.length} evaluations and ${baseline.length} baseline evaluations`);
    }
    out.comparisons = compareToBaseline(baseline, reports, CLASS_NAMES).map((c) => ({
      metric: c.metric,
      delta: c.delta,
      ciLow: c.ciLow,
      ciHigh: c.ciHigh,
      pValue: c.pValue,
      test: c.test,
    }));
  }
  return out;
}
