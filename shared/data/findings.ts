// The five classes of the study and their counts. Kept as lower-case string literals inside shared/data;
// the protobuf `Finding` enum (HEALTHY, BACTERIAL, VIRAL, FUNGAL, COVID19) maps 1:1 via `findingToProtoName`.

import { InvalidImageInputError } from '../images/errors.js';

export const FINDINGS = ['healthy', 'bacterial', 'viral', 'fungal', 'covid19'] as const;
export type Finding = (typeof FINDINGS)[number];

/** Image counts in Schaudt et al. 2023 (1082 in all). */
export const STUDY_COUNTS: Readonly<Record<Finding, number>> = {
  healthy: 673,
  fungal: 125,
  covid19: 110,
  bacterial: 100,
  viral: 74,
};

export type FindingCounts = Record<Finding, number>;

/** A bad dataset request or input (maps to gRPC INVALID_ARGUMENT). */
export class DatasetInputError extends InvalidImageInputError {}

const ALIASES: Record<string, Finding> = {
  h: 'healthy', healthy: 'healthy', normal: 'healthy', 'no finding': 'healthy', 'no_finding': 'healthy', nofinding: 'healthy',
  b: 'bacterial', bacterial: 'bacterial', bacteria: 'bacterial',
  v: 'viral', viral: 'viral', virus: 'viral',
  f: 'fungal', fungal: 'fungal', fungus: 'fungal',
  c: 'covid19', covid19: 'covid19', 'covid-19': 'covid19', covid: 'covid19', 'covid_19': 'covid19', 'sars-cov-2': 'covid19',
};

/** Parse a class name as people write it ("COVID-19", "h", "Normal"); undefined if not recognised. */
export function parseFinding(name: string): Finding | undefined {
  return ALIASES[name.trim().toLowerCase()];
}

export function findingToProtoName(f: Finding): 'HEALTHY' | 'BACTERIAL' | 'VIRAL' | 'FUNGAL' | 'COVID19' {
  return f.toUpperCase() as 'HEALTHY' | 'BACTERIAL' | 'VIRAL' | 'FUNGAL' | 'COVID19';
}

/**
 * "h=673,f=125,c=110,b=100,v=74" → counts. Unnamed classes are 0 unless `base` gives them.
 * Throws DatasetInputError naming the bad part.
 */
export function parseCounts(spec: string, base?: Partial<FindingCounts>): FindingCounts {
  const out: FindingCounts = { healthy: 0, bacterial: 0, viral: 0, fungal: 0, covid19: 0, ...base };
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=(\d+)$/.exec(part);
    if (!m) throw new DatasetInputError(`bad count '${part}': expected NAME=INTEGER, e.g. h=673`);
    const f = parseFinding(m[1]!);
    if (!f) throw new DatasetInputError(`unknown finding '${m[1]}' in counts; use one of ${FINDINGS.join(', ')} (or h,b,v,f,c)`);
    out[f] = Number(m[2]);
  }
  return out;
}

export function emptyCounts(): FindingCounts {
  return { healthy: 0, bacterial: 0, viral: 0, fungal: 0, covid19: 0 };
}
