#!/usr/bin/env node
// The cxr-synth command. In a source checkout it runs the TypeScript directly (through tsx, so it
// can never be stale); an installed image that ships only the compiled dist/ runs that.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(compiled.href);
}
