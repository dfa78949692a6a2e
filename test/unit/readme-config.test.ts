// The README's configuration table is generated from CONFIG_KEYS; this fails when they drift apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { configTable } from '../../scripts/config-table.js';

it('README configuration table matches CONFIG_KEYS (regenerate: npx tsx scripts/config-table.ts)', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const match = /<!-- config-table:start -->\n([\s\S]*?)<!-- config-table:end -->/.exec(readme);
  expect(match, 'README has config-table markers').not.toBeNull();
  expect(match![1]!.trim()).toBe(configTable().trim());
});
