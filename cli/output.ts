// Every command prints either for a person or, with --json, one JSON document on stdout that a
// script can parse. Diagnostics go to stderr so they never corrupt the JSON.

export interface Output {
  readonly json: boolean;
  /** The command's result: a JSON document with --json, else the human rendering. */
  result(value: unknown, human: () => string): void;
  /** Progress for a person; silent with --json. */
  progress(line: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
    },
    progress(line) {
      if (!json) process.stderr.write(line + '\n');
    },
  };
}

/** Fixed-width text table for human output. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
