import type { Parsed } from '../args.js';
import type { StorageClient } from '../../shared/clients/storage.js';
import type { Output } from '../output.js';

export interface DatasetWriteCommand {
  name: string;
  usage: string;
  options: Record<string, { type: 'string' | 'boolean' }>;
  run(p: Parsed, storage: StorageClient, out: Output): Promise<number>;
}

export const DATASET_WRITE_COMMANDS: readonly DatasetWriteCommand[] = [];
