// Renders a contact sheet of phantom radiographs: one row per finding (healthy, bacterial, viral, fungal, COVID-19,
// top to bottom), several patients per row, so a reader can check anatomy and findings by eye.
// Usage: node --import tsx scripts/contact-sheet.ts [--tile 256] [--cols 6] [--render 0] [--seed S] [--out docs/phantom-contact-sheet.png]
//   --render N renders at N px and upsamples (nearest) to the tile, to see what a 64-px network sees.

import { writeFileSync } from 'node:fs';
import { encode } from 'fast-png';
import { FINDINGS } from '../shared/data/findings.js';
import { planPhantomDataset, renderPhantomRecord } from '../shared/data/phantom/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const tile = Number(arg('tile', '256'));
const cols = Number(arg('cols', '6'));
const renderSize = Number(arg('render', '0')) || tile;
const seed = arg('seed', 'contact-sheet');
const out = arg('out', 'docs/phantom-contact-sheet.png');
const gap = 4;

const records = planPhantomDataset({ seed, counts: { healthy: 40, bacterial: 40, viral: 40, fungal: 40, covid19: 40 } });
const W = cols * tile + (cols + 1) * gap, H = FINDINGS.length * tile + (FINDINGS.length + 1) * gap;
const sheet = new Uint8Array(W * H).fill(255);
FINDINGS.forEach((f, row) => {
  // One image per patient, most severe first after the first two so subtle and obvious cases both show.
  const seen = new Set<string>();
  const picks = records.filter((r) => r.finding === f && !seen.has(r.patientId) && seen.add(r.patientId)).slice(0, cols);
  picks.forEach((rec, col) => {
    const img = renderPhantomRecord(rec, renderSize);
    const x0 = gap + col * (tile + gap), y0 = gap + row * (tile + gap);
    for (let y = 0; y < tile; y++) {
      for (let x = 0; x < tile; x++) {
        const sx = Math.floor((x * renderSize) / tile), sy = Math.floor((y * renderSize) / tile);
        sheet[(y0 + y) * W + x0 + x] = Math.round(img.data[sy * renderSize + sx]! * 255);
      }
    }
  });
  process.stdout.write(`${f}: severities ${picks.map((p) => p.severity.toFixed(2)).join(' ')}\n`);
});
writeFileSync(out, encode({ width: W, height: H, data: sheet, channels: 1, depth: 8 }));
process.stdout.write(`wrote ${out} (${W}x${H})\n`);
