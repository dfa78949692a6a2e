// cxr-synth dataset <list|show|delete|phantom|import|split>: datasets in storage, through the storage service.
import { Split } from '../../shared/proto/cxrsynth/v1/common.js';
import { type Dataset, StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { findingLabel as label, PROTO_FINDINGS as FINDINGS, splitLabel } from '../../shared/clients/findings.js';
import { StorageClient } from '../../shared/clients/storage.js';
import type { Config } from '../../shared/config/index.js';
import { callUnary } from '../../shared/grpc/index.js';
import { intOpt, parse, stringOpt, UsageError, type Parsed } from '../args.js';
import type { Command } from '../command.js';
import { openMesh } from '../mesh.js';
import { table, type Output } from '../output.js';
import { DATASET_WRITE_COMMANDS } from './dataset-write.js';

const USAGE = `usage: cxr-synth dataset <subcommand> [options] [--json]

  list [--page-size N] [--page-token T]   committed datasets
  show NAME                               a dataset with its image counts per split x finding
  delete NAME                             a dataset and all its images
${DATASET_WRITE_COMMANDS.map((c) => `  ${c.usage}`).join('\n')}

Talks to the storage service at CXR_SYNTH_STORAGE_ADDR when set; otherwise runs one in this process
over CXR_SYNTH_STORAGE_URL (default: a directory under ~/.cache/cxr-synth).`;

const SPLITS = [Split.TRAIN, Split.VALIDATION, Split.TEST, Split.UNSPECIFIED];

/** The JSON shape of a dataset: counts as a split → finding → n table a script can index. */
export function datasetView(d: Dataset) {
  const counts: Record<string, Record<string, number>> = {};
  for (const c of d.counts) {
    const row = (counts[splitLabel(c.split)] ??= {});
    row[label(c.finding)] = (row[label(c.finding)] ?? 0) + c.count;
  }
  return {
    id: d.datasetId,
    description: d.description,
    source: d.source,
    images: d.imageCount,
    patients: d.patientCount,
    folds: d.folds,
    splitSeed: d.splitSeed,
    created: new Date(d.createdUnixMs).toISOString(),
    committed: d.committedUnixMs ? new Date(d.committedUnixMs).toISOString() : null,
    counts,
  };
}

export function renderDataset(d: Dataset): string {
  const v = datasetView(d);
  const splits = SPLITS.filter((s) => v.counts[splitLabel(s)] !== undefined);
  const rows = splits.map((s) => {
    const row = v.counts[splitLabel(s)] ?? {};
    return [splitLabel(s), ...FINDINGS.map((f) => row[label(f)] ?? 0), FINDINGS.reduce((n, f) => n + (row[label(f)] ?? 0), 0)];
  });
  return [
    `dataset ${v.id}: ${v.images} images, ${v.patients} patients${v.folds ? `, ${v.folds} folds` : ''}${v.source ? ` (${v.source})` : ''}`,
    table(['split', ...FINDINGS.map(label), 'all'], rows),
  ].join('\n');
}

function oneName(p: Parsed): string {
  const [, name, ...extra] = p.positionals;
  if (name === undefined || extra.length > 0) throw new UsageError('name exactly one dataset');
  return name;
}

async function withStorage<T>(fn: (storage: StorageClient, config: Readonly<Config>) => Promise<T>): Promise<T> {
  const mesh = await openMesh(['storage']);
  try {
    return await fn(new StorageClient(mesh.connect('storage', StorageServiceClient)), mesh.config);
  } finally {
    await mesh.close();
  }
}

async function list(p: Parsed, out: Output): Promise<number> {
  const pageSize = intOpt(p, 'page-size', { min: 1, max: 1000 }) ?? 100;
  const page = await withStorage((s) => callUnary(s.raw, 'listDatasets', { pageSize, pageToken: stringOpt(p, 'page-token') ?? '' }));
  out.result(
    { datasets: page.datasets.map(datasetView), nextPageToken: page.nextPageToken },
    () => page.datasets.length === 0
      ? 'no datasets'
      : table(['dataset', 'images', 'patients', 'source'], page.datasets.map((d) => [d.datasetId, d.imageCount, d.patientCount, d.source])) +
        (page.nextPageToken ? `\n(more: --page-token ${page.nextPageToken})` : ''),
  );
  return 0;
}

export const datasetCommand: Command = {
  name: 'dataset',
  summary: 'list, show, delete, make (phantom), import and split datasets',
  usage: USAGE,
  async run(argv, out) {
    const p = parse(argv, {
      'page-size': { type: 'string' }, 'page-token': { type: 'string' },
      ...Object.assign({}, ...DATASET_WRITE_COMMANDS.map((c) => c.options)),
    });
    const sub = p.positionals[0];
    switch (sub) {
      case 'list':
        return list(p, out);
      case 'show': {
        const d = await withStorage((s) => s.getDataset(oneName(p)));
        out.result(datasetView(d), () => renderDataset(d));
        return 0;
      }
      case 'delete': {
        const name = oneName(p);
        const r = await withStorage((s) => callUnary(s.raw, 'deleteDataset', { datasetId: name }));
        out.result({ deleted: name, objects: r.deletedObjects }, () => `deleted dataset ${name} (${r.deletedObjects} objects)`);
        return 0;
      }
      default: {
        const write = DATASET_WRITE_COMMANDS.find((c) => c.name === sub);
        if (!write) throw new UsageError(sub === undefined ? 'name a subcommand' : `unknown subcommand "${sub}"`);
        return withStorage((s, config) => write.run(p, s, out, config));
      }
    }
  },
};
