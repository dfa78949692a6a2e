// Prints the README's configuration table from shared/config's CONFIG_KEYS (the one source of truth).
// `npx tsx scripts/config-table.ts` — a test fails when the README's copy is out of date.
import { CONFIG_KEYS } from '../shared/config/index.js';

export function configTable(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    '| variable | default | meaning |',
    '|---|---|---|',
    ...CONFIG_KEYS.map((k) => `| \`${k.key}\` | ${k.default ? `\`${esc(k.default)}\`` : ''} | ${esc(k.description)} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(configTable() + '\n');
