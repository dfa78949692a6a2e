import type { Output } from './output.js';

/** One top-level `cxr-synth <name>` command. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Resolves with the process exit code. */
  run(argv: string[], out: Output): Promise<number>;
}
