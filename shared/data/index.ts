// shared/data: the five findings, the built-in phantom dataset, importers for real data, and leak-free splits.
export * from './findings.js';
export * from './phantom/index.js';
export * from './importers/index.js';
export { splitDataset, kFoldSplit, splitCounts, SPLIT_NAMES, type SplitItem, type SplitName, type SplitOptions } from './splits.js';
