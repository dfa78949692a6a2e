// One-vs-rest ROC AUC. AUC equals the Mann–Whitney probability P(score⁺ > score⁻) + ½ P(score⁺ = score⁻),
// computed from mid-ranks in O(n log n); tied scores therefore count one half, the same as
// integrating the ROC curve with straight segments through tied thresholds (sklearn's roc_auc_score).
import { midRanks } from '../stats/correlation.js';

/** AUC of `scores` for the positives marked in `positive`; null when either class is empty. */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number | null {
  if (scores.length !== positive.length) throw new RangeError(`AUC needs one label per score, got ${scores.length} and ${positive.length}`);
  for (const s of scores) if (!Number.isFinite(s)) throw new RangeError(`AUC scores must be finite, got ${s}`);
  const ranks = midRanks(scores);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (positive[i]) {
      nPos++;
      rankSum += ranks[i]!;
    }
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * One-vs-rest AUC per class from a probability table (rows = samples, columns = classes).
 * Returns null for a class with no positives or no negatives; the macro mean skips those.
 */
export function oneVsRestAuc(
  probabilities: ReadonlyArray<ArrayLike<number>>,
  labels: readonly number[],
  classes: number,
): { perClass: Array<number | null>; macro: number | null } {
  if (probabilities.length !== labels.length) throw new RangeError(`got ${probabilities.length} probability rows for ${labels.length} labels`);
  const perClass: Array<number | null> = [];
  for (let c = 0; c < classes; c++) {
    perClass.push(rocAuc(probabilities.map((p) => p[c]!), labels.map((l) => l === c)));
  }
  const defined = perClass.filter((v): v is number => v !== null);
  return { perClass, macro: defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : null };
}
