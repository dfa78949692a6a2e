// Classification scores for one evaluation: accuracy, balanced accuracy, per-class precision /
// recall / F1 / support, macro-F1, the confusion matrix and one-vs-rest ROC AUC.
// Classes are indices 0..K−1 (the service maps Finding 1..5 onto them). Conventions follow sklearn:
//  - precision of a class never predicted, recall of a class absent from the labels, and F1 when
//    both are 0, are 0 (zero_division = 0);
//  - balanced accuracy is the mean recall over classes present in the labels;
//  - macro-F1 averages over classes present in the labels or the predictions (sklearn's default label
//    set), so a finding missing from a test split neither helps nor hurts.
import { oneVsRestAuc } from './roc-auc.js';

export interface ClassScore {
  readonly cls: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
  /** null when the class has no positives or no negatives, or no probabilities were given */
  readonly rocAuc: number | null;
}

export interface ClassificationReport {
  readonly n: number;
  readonly classes: number;
  readonly accuracy: number;
  readonly balancedAccuracy: number;
  readonly macroF1: number;
  readonly macroRocAuc: number | null;
  readonly perClass: readonly ClassScore[];
  /** rows = true class, columns = predicted class; row-major K × K */
  readonly confusion: readonly number[];
}

export interface ClassificationInput {
  readonly labels: readonly number[];
  /** predicted class per sample; derived from probabilities (argmax, lowest index on ties) if absent */
  readonly predicted?: readonly number[];
  /** one row of K class probabilities per sample */
  readonly probabilities?: ReadonlyArray<ArrayLike<number>>;
  readonly classes: number;
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

function checkClass(c: number, k: number, what: string, i: number): void {
  if (!Number.isInteger(c) || c < 0 || c >= k) throw new RangeError(`${what} ${i} is ${c}, expected a class index in [0, ${k})`);
}

export function scoreClassification(input: ClassificationInput): ClassificationReport {
  const { labels, classes: k, probabilities } = input;
  const n = labels.length;
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`need at least 2 classes, got ${k}`);
  if (n === 0) throw new RangeError('no predictions to score');
  if (probabilities !== undefined) {
    if (probabilities.length !== n) throw new RangeError(`got ${probabilities.length} probability rows for ${n} labels`);
    probabilities.forEach((p, i) => {
      if (p.length !== k) throw new RangeError(`probability row ${i} has ${p.length} values, expected ${k}`);
    });
  }
  const predicted = input.predicted ?? probabilities?.map(argmax);
  if (predicted === undefined) throw new RangeError('give predicted classes or probabilities');
  if (predicted.length !== n) throw new RangeError(`got ${predicted.length} predictions for ${n} labels`);
  const confusion = new Array<number>(k * k).fill(0);
  for (let i = 0; i < n; i++) {
    checkClass(labels[i]!, k, 'label', i);
    checkClass(predicted[i]!, k, 'prediction', i);
    confusion[labels[i]! * k + predicted[i]!]!++;
  }
  const auc = probabilities ? oneVsRestAuc(probabilities, labels, k) : null;
  const perClass: ClassScore[] = [];
  let correct = 0;
  let recallSum = 0;
  let present = 0;
  let f1Sum = 0;
  let f1Count = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c * k + c]!;
    correct += tp;
    let support = 0;
    let predictedC = 0;
    for (let j = 0; j < k; j++) {
      support += confusion[c * k + j]!;
      predictedC += confusion[j * k + c]!;
    }
    const precision = predictedC > 0 ? tp / predictedC : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (support > 0) {
      recallSum += recall;
      present++;
    }
    if (support > 0 || predictedC > 0) {
      f1Sum += f1;
      f1Count++;
    }
    perClass.push({ cls: c, precision, recall, f1, support, rocAuc: auc ? auc.perClass[c]! : null });
  }
  return {
    n,
    classes: k,
    accuracy: correct / n,
    balancedAccuracy: recallSum / present,
    macroF1: f1Sum / f1Count,
    macroRocAuc: auc ? auc.macro : null,
    perClass,
    confusion,
  };
}
