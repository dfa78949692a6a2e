// Scores over repetitions: every metric as mean ± SD, and — given baseline repetitions — the change
// with a 95% Welch confidence interval and p-value. The metric names are stable strings
// ("accuracy", "balanced_accuracy", "macro_f1", "macro_roc_auc", "f1/<class>", "recall/<class>", …)
// so a report can line them up across cells.
import { summarize, welch, type WelchResult } from '../stats/ci.js';
import type { ClassificationReport } from './classification.js';

export interface MetricAggregate {
  readonly metric: string;
  readonly mean: number;
  readonly sd: number;
  readonly n: number;
}

export interface MetricComparison extends WelchResult {
  readonly metric: string;
  readonly nBaseline: number;
  readonly nTreatment: number;
}

/** The per-report numbers that aggregate; classNames label the per-class entries. */
export function flattenReport(report: ClassificationReport, classNames: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  out.set('accuracy', report.accuracy);
  out.set('balanced_accuracy', report.balancedAccuracy);
  out.set('macro_f1', report.macroF1);
  if (report.macroRocAuc !== null) out.set('macro_roc_auc', report.macroRocAuc);
  for (const c of report.perClass) {
    const name = classNames[c.cls] ?? String(c.cls);
    out.set(`precision/${name}`, c.precision);
    out.set(`recall/${name}`, c.recall);
    out.set(`f1/${name}`, c.f1);
    if (c.rocAuc !== null) out.set(`roc_auc/${name}`, c.rocAuc);
  }
  return out;
}

function collect(reports: readonly ClassificationReport[], classNames: readonly string[]): Map<string, number[]> {
  const values = new Map<string, number[]>();
  for (const r of reports) {
    for (const [metric, v] of flattenReport(r, classNames)) {
      const list = values.get(metric) ?? [];
      list.push(v);
      values.set(metric, list);
    }
  }
  return values;
}

/** Mean ± SD of each metric over repetitions (a metric undefined in some repetition uses the rest). */
export function aggregateReports(reports: readonly ClassificationReport[], classNames: readonly string[]): MetricAggregate[] {
  if (reports.length === 0) throw new RangeError('no repetitions to aggregate');
  return [...collect(reports, classNames)].map(([metric, vs]) => ({ metric, ...summarize(vs) }));
}

/** Change of each metric against the baseline's repetitions (metrics with ≥ 2 values on both sides). */
export function compareToBaseline(
  baseline: readonly ClassificationReport[],
  treatment: readonly ClassificationReport[],
  classNames: readonly string[],
): MetricComparison[] {
  if (baseline.length < 2 || treatment.length < 2) {
    throw new RangeError(`a comparison needs at least 2 repetitions on each side, got ${baseline.length} baseline and ${treatment.length}`);
  }
  const b = collect(baseline, classNames);
  const t = collect(treatment, classNames);
  const out: MetricComparison[] = [];
  for (const [metric, tv] of t) {
    const bv = b.get(metric);
    if (bv === undefined || bv.length < 2 || tv.length < 2) continue;
    out.push({ metric, nBaseline: bv.length, nTreatment: tv.length, ...welch(bv, tv) });
  }
  return out;
}
