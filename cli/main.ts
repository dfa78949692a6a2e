// cxr-synth: one command for every part of the mesh. Exit codes: 0 ok, 1 failure, 2 usage error.
import { status } from '@grpc/grpc-js';
import { UsageError } from './args.js';
import type { Command } from './command.js';
import { createOutput } from './output.js';
import { datasetCommand } from './commands/dataset.js';
import { demoCommand } from './commands/demo.js';
import { serveCommand } from './commands/serve.js';

const COMMANDS: readonly Command[] = [serveCommand, datasetCommand, demoCommand];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: cxr-synth <command> [options] [--json]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'cxr-synth <command> --help shows a command\'s options.',
  ].join('\n');
}

/** A gRPC failure as a person reads it: the status name and the server's message. */
function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' && 'details' in err) {
    const name = status[err.code] ?? String(err.code);
    return `${name}: ${String(err.details)}`;
  }
  return err instanceof Error ? err.message : String(err);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`cxr-synth: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  const out = createOutput(rest.includes('--json'));
  try {
    return await command.run(rest, out);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`cxr-synth ${name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    const message = describeError(err);
    if (out.json) process.stdout.write(JSON.stringify({ error: message }) + '\n');
    process.stderr.write(`cxr-synth ${name}: ${message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
