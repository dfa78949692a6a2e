// The one mapping between shared/data's finding names ('healthy', ...) and the protobuf Finding enum.
// FINDINGS is in enum order (HEALTHY = 1 ... COVID19 = 5), which the test of this module pins.
import { FINDINGS, type Finding } from '../data/findings.js';
import { Finding as ProtoFinding, Split as ProtoSplit } from '../proto/cxrsynth/v1/common.js';

export function toProtoFinding(f: Finding): ProtoFinding {
  return (FINDINGS.indexOf(f) + 1) as ProtoFinding;
}

export function fromProtoFinding(p: ProtoFinding): Finding | undefined {
  return FINDINGS[p - 1];
}

/** 'healthy', ..., or 'unspecified'. */
export function findingLabel(p: ProtoFinding): string {
  return fromProtoFinding(p) ?? 'unspecified';
}

export const PROTO_FINDINGS: readonly ProtoFinding[] = FINDINGS.map(toProtoFinding);

const SPLITS: Record<'train' | 'val' | 'test', ProtoSplit> = { train: ProtoSplit.TRAIN, val: ProtoSplit.VALIDATION, test: ProtoSplit.TEST };

export function toProtoSplit(s: 'train' | 'val' | 'test'): ProtoSplit {
  return SPLITS[s];
}

/** 'train', 'validation', 'test', or 'unsplit'. */
export function splitLabel(s: ProtoSplit): string {
  return s === ProtoSplit.TRAIN ? 'train' : s === ProtoSplit.VALIDATION ? 'validation' : s === ProtoSplit.TEST ? 'test' : 'unsplit';
}
