// cxr-synth demo: the embedded end-to-end run (filled in below as the mesh grows).
import type { Command } from '../command.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the embedded end-to-end demo on the phantom dataset',
  usage: 'usage: cxr-synth demo [--json]',
  async run() {
    return 0;
  },
};
