// The dataset subcommands that write: build the phantom dataset, import real data, split by patient.
// Each creates or changes a dataset through the storage service; a dataset that fails half-way is
// never committed (so never visible), and is deleted before the error is reported.
import { stat } from 'node:fs/promises';
import type { StorageClient } from '../../shared/clients/storage.js';
import type { Config } from '../../shared/config/index.js';
import { FINDINGS, parseCounts, parseFinding, type Finding } from '../../shared/data/findings.js';
import { importCovidCollection } from '../../shared/data/importers/covid-collection.js';
import { importCsv, importFolder } from '../../shared/data/importers/index.js';
import { DEFAULT_PHANTOM_SEED, DEFAULT_PHANTOM_SIZE, storePhantomDataset } from '../../shared/data/phantom/index.js';
import { intOpt, numberOpt, stringOpt, UsageError, type Parsed } from '../args.js';
import { createDataset, everyN, splitStoredDataset } from '../datasets.js';
import type { Output } from '../output.js';
import { datasetView, renderDataset } from './dataset.js';

export interface DatasetWriteCommand {
  name: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  run(p: Parsed, storage: StorageClient, out: Output, config: Readonly<Config>): Promise<number>;
}

function requiredName(p: Parsed): string {
  const name = stringOpt(p, 'name');
  if (!name) throw new UsageError('--name is required');
  return name;
}

const phantom: DatasetWriteCommand = {
  name: 'phantom',
  usage: 'phantom --name NAME [--size 64] [--counts h=673,f=125,c=110,b=100,v=74] [--seed S]   build the phantom dataset',
  options: { name: { type: 'string' }, size: { type: 'string' }, counts: { type: 'string' }, seed: { type: 'string' } },
  async run(p, storage, out) {
    const id = requiredName(p);
    const size = intOpt(p, 'size', { min: 16, max: 512 }) ?? DEFAULT_PHANTOM_SIZE;
    const seed = stringOpt(p, 'seed') ?? DEFAULT_PHANTOM_SEED;
    const countsSpec = stringOpt(p, 'counts');
    const counts = countsSpec === undefined ? undefined : parseCounts(countsSpec);
    const { dataset } = await createDataset(storage, id, `phantom seed=${seed} size=${size}`, (sink) =>
      storePhantomDataset(sink, { seed, size, ...(counts ? { counts } : {}), onProgress: everyN(200, (n) => out.progress(`stored ${n} images`)) }),
    );
    out.result(datasetView(dataset), () => renderDataset(dataset));
    return 0;
  },
};

function parseClassMap(spec: string): Record<string, Finding> {
  const map: Record<string, Finding> = {};
  for (const pair of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [folder, label] = pair.split('=');
    const finding = label === undefined ? undefined : parseFinding(label);
    if (!folder || !finding) throw new UsageError(`--class-map entries are FOLDER=FINDING (one of ${FINDINGS.join(', ')}), got "${pair}"`);
    map[folder] = finding;
  }
  return map;
}

const importer: DatasetWriteCommand = {
  name: 'import',
  usage: 'import DIR|CSV --name NAME [--preset covid-collection] [--class-map FOLDER=FINDING,...]   import real images (PNG, JPEG, DICOM)',
  options: { preset: { type: 'string' }, 'class-map': { type: 'string' } },
  async run(p, storage, out, config) {
    const [, source, ...extra] = p.positionals;
    if (source === undefined || extra.length > 0) throw new UsageError('name exactly one folder or CSV file to import');
    const id = requiredName(p);
    const preset = stringOpt(p, 'preset');
    if (preset !== undefined && preset !== 'covid-collection') throw new UsageError(`unknown --preset "${preset}"; known: covid-collection`);
    if (config.deidSalt === undefined) {
      throw new Error('set CXR_SYNTH_DEID_SALT (a secret of 16+ characters) first: patient ids are replaced by keyed pseudonyms before anything is stored');
    }
    const base = { salt: config.deidSalt };
    const isDir = (await stat(source).catch(() => undefined))?.isDirectory();
    if (isDir === undefined) throw new UsageError(`${source} does not exist`);
    const classMapSpec = stringOpt(p, 'class-map');
    const { dataset, filled: report } = await createDataset(storage, id, isDir ? 'folder import' : 'csv import', (sink) =>
      isDir ? importFolder(source, sink, { ...base, ...(classMapSpec ? { classMap: parseClassMap(classMapSpec) } : {}) })
      : preset === 'covid-collection' ? importCovidCollection(source, sink, base)
      : importCsv(source, sink, base),
    );
    out.result({ dataset: datasetView(dataset), report }, () => [
      renderDataset(dataset),
      report.skipped.length === 0 ? 'no files skipped' : `skipped ${report.skipped.length} files:\n${report.skipped.map((f) => `  ${f.path}: ${f.reason}`).join('\n')}`,
    ].join('\n'));
    return 0;
  },
};

const split: DatasetWriteCommand = {
  name: 'split',
  usage: 'split NAME --val 0.1 --test 0.2 [--folds k] [--seed S]   patient-level stratified split (k folds over train+val)',
  options: { val: { type: 'string' }, test: { type: 'string' }, folds: { type: 'string' }, seed: { type: 'string' } },
  async run(p, storage, out) {
    const [, id, ...extra] = p.positionals;
    if (id === undefined || extra.length > 0) throw new UsageError('name exactly one dataset');
    const val = numberOpt(p, 'val', { min: 0, max: 0.99 }) ?? 0.1;
    const test = numberOpt(p, 'test', { min: 0, max: 0.99 }) ?? 0.2;
    const folds = intOpt(p, 'folds', { min: 2, max: 100 });
    const seed = intOpt(p, 'seed', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;

    const d = await splitStoredDataset(storage, id, { val, test, folds, seed });
    out.result(datasetView(d), () => renderDataset(d));
    return 0;
  },
};

export const DATASET_WRITE_COMMANDS: readonly DatasetWriteCommand[] = [phantom, importer, split];
