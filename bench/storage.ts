// `npm run bench -- storage`: put + get of N grayscale PNGs (64–256 px) through the storage service (gRPC on
// loopback, S3 backend) against the minio client talking straight to the same MinIO, in one run, same concurrency.
// Ours does more per image (PNG validation, sha256 content addressing, manifest, a gRPC hop each way) but stores
// images ~4 MiB to an object (services/storage/packs.ts), where the peer makes one S3 request per image as a plain
// client does: the ratio says what the service's design costs or saves end to end.
//   RESULT storage ratio=<ours/direct images per second, put+get> ...
// CXR_BENCH_STORAGE_N sets N (default 2000), CXR_BENCH_STORAGE_ROUNDS the alternating rounds (default 4),
// CXR_BENCH_STORAGE_CONCURRENCY the requests in flight (default 32).
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { Client } from 'minio';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { callUnary, createClient } from '../shared/grpc/index.js';
import { encodePng } from '../shared/images/png.js';
import { Finding } from '../shared/proto/cxrsynth/v1/common.js';
import { StorageServiceClient } from '../shared/proto/cxrsynth/v1/storage.js';
import { mapLimit } from '../services/storage/util.js';
import { startMinio, type MinioServer } from '../test/support/minio.js';
import { dataset, getImage, putImages, startStorage, type HasClient } from '../test/support/minio-storage.js';
import { StorageClient } from '../shared/clients/storage.js';

/** Deterministic, X-ray-like (smooth, lightly noisy) image of a seeded size, so it compresses like real data. */
function image(i: number): Buffer {
  let x = (i + 1) * 2654435761 >>> 0;
  const rand = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const w = 64 + Math.floor(rand() * 193);
  const h = 64 + Math.floor(rand() * 193);
  const data = new Uint8Array(w * h);
  const cx = w / 2;
  const cy = h / 2;
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const r = Math.hypot((xx - cx) / w, (y - cy) / h);
      data[y * w + xx] = Math.max(0, Math.min(255, Math.round(200 - 260 * r + 12 * rand())));
    }
  }
  return Buffer.from(encodePng({ width: w, height: h, bitDepth: 8, data }));
}

/** Starts test/support/minio-storage-server.ts as a child process and connects a client to it. */
async function storageProcess(minio: MinioServer): Promise<HasClient & { close(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../test/support/minio-storage-server.ts', import.meta.url))], {
    env: { ...process.env, MINIO_ENDPOINT: `${minio.host}:${minio.port}`, MINIO_ACCESS_KEY: minio.accessKey, MINIO_SECRET_KEY: minio.secretKey, CXR_BENCH_BUCKET: 'bench-ours' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`storage service process exited (${code}) before serving`)));
  });
  const client = createClient(StorageServiceClient, {
    addresses: [`127.0.0.1:${port}`],
    retry: { maxAttempts: 1, initialBackoffMs: 100, maxBackoffMs: 200 },
    deadlineMs: 600_000,
  });
  return {
    client,
    async close() {
      client.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

export async function run(): Promise<void> {
  let n = Number(process.env.CXR_BENCH_STORAGE_N ?? 2000);
  const rounds = Math.max(1, Number(process.env.CXR_BENCH_STORAGE_ROUNDS ?? 4));
  const concurrency = Number(process.env.CXR_BENCH_STORAGE_CONCURRENCY ?? 32);
  const pngs = Array.from({ length: n }, (_, i) => image(i));
  const totalBytes = pngs.reduce((s, p) => s + p.byteLength, 0);
  console.log(`storage bench: ${n} PNGs (${mb(totalBytes)} MB) x ${rounds} alternating rounds, concurrency ${concurrency}`);

  const minio = await startMinio();
  // The service runs as its own process, as deployed; CXR_BENCH_STORAGE_INPROCESS=1 runs it inside this one (as in
  // `cxr-synth serve all` / demo), where it also competes with the benchmark's own client for the event loop.
  const ownProcess = process.env.CXR_BENCH_STORAGE_INPROCESS !== '1';
  const harness = !ownProcess
    ? await startStorage({ backend: 's3', minio, bucket: 'bench-ours', putConcurrency: 16 })
    : await storageProcess(minio);
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const direct = new Client({
    endPoint: minio.host, port: minio.port, useSSL: false, accessKey: minio.accessKey, secretKey: minio.secretKey,
    region: 'us-east-1', pathStyle: true, transportAgent: agent,
  });
  const reader = new StorageClient(harness.client);
  try {
    await direct.makeBucket('bench-direct', 'us-east-1');

    // Warm both paths (connections, JIT) outside the measurement: put and read back a tenth of the images.
    const warm = pngs.slice(0, Math.max(20, Math.floor(n / 10)));
    await callUnary(harness.client, 'createDataset', { datasetId: 'warm', description: '', source: 'bench' });
    const warmed = await putImages(harness, dataset('warm'), warm.map((png) => ({ png })));
    await callUnary(harness.client, 'commitDataset', { datasetId: 'warm' });
    const warmShas = warmed.images.map((i) => i.sha256);
    for await (const _img of reader.getImages(dataset('warm'), warmShas));
    await mapLimit(warmShas.slice(0, 100), concurrency, (sha) => getImage(harness, dataset('warm'), sha));
    await mapLimit(warm, concurrency, (png, i) => direct.putObject('bench-direct', `warm/${i}.png`, png, png.byteLength));
    await mapLimit(warm, concurrency, async (_, i) => {
      for await (const _c of await direct.getObject('bench-direct', `warm/${i}.png`));
    });

    // The machine is shared, so load drifts: run the two paths in alternating rounds and sum their times.
    let directPut = 0;
    let directGet = 0;
    let oursPut = 0;
    let oursGet = 0;
    const runDirect = async (round: number) => {
      // One PUT per image, then one GET per image.
      const keys = pngs.map((_, i) => `datasets/bench-${round}/images/${randomBytes(8).toString('hex')}-${i}.png`);
      let t = performance.now();
      await mapLimit(pngs, concurrency, (png, i) => direct.putObject('bench-direct', keys[i]!, png, png.byteLength, { 'Content-Type': 'image/png' }));
      directPut += (performance.now() - t) / 1000;
      t = performance.now();
      // Each image read into one buffer, as any consumer (a PNG decoder) needs it and as ours delivers it.
      const got = await mapLimit(keys, concurrency, async (key) => {
        const parts: Buffer[] = [];
        for await (const c of await direct.getObject('bench-direct', key)) parts.push(c as Buffer);
        return (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).byteLength;
      });
      directGet += (performance.now() - t) / 1000;
      if (got.reduce((a, b) => a + b, 0) !== totalBytes) throw new Error('direct path returned the wrong byte count');
    };
    const runOurs = async (round: number) => {
      // PutImages client streams sharing the concurrency, commit, then bulk reads.
      const id = `bench-${round}`;
      await callUnary(harness.client, 'createDataset', { datasetId: id, description: '', source: 'bench' });
      const streams = Math.max(1, Math.round(concurrency / 16));
      const per = Math.ceil(n / streams);
      let t = performance.now();
      const responses = await Promise.all(
        Array.from({ length: streams }, (_, s) =>
          putImages(harness, dataset(id), pngs.slice(s * per, (s + 1) * per).map((png, i) => ({ png, finding: Finding.HEALTHY, patientId: `p-${i % 97}` }))),
        ),
      );
      await callUnary(harness.client, 'commitDataset', { datasetId: id });
      oursPut += (performance.now() - t) / 1000;
      const shas = responses.flatMap((r) => r.images.map((i) => i.sha256));
      if (shas.length !== n) throw new Error(`ours stored ${shas.length} of ${n} images`);
      t = performance.now();
      // Bulk reads as the trainers and the metrics service do them: the images in ListImages order (by sha256, not
      // the order they were stored in), through StorageClient.getImages with its defaults (GetImages calls of up to
      // 1000 images, two open at once, each image checked against its sha256 as it arrives).
      shas.sort();
      let got = 0;
      for await (const { png } of reader.getImages(dataset(id), shas)) got += png.byteLength;
      oursGet += (performance.now() - t) / 1000;
      if (got !== totalBytes) throw new Error('storage service returned the wrong byte count');
    };
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        await runDirect(round);
        await runOurs(round);
      } else {
        await runOurs(round);
        await runDirect(round);
      }
    }
    n *= rounds; // totals below are over every round
    const rate = (count: number, s: number) => count / s;
    const directRate = rate(2 * n, directPut + directGet);
    const oursRate = rate(2 * n, oursPut + oursGet);
    console.log(`direct minio client: put ${rate(n, directPut).toFixed(0)} img/s (${mb((totalBytes * rounds) / directPut)} MB/s), get ${rate(n, directGet).toFixed(0)} img/s`);
    console.log(`storage service:     put ${rate(n, oursPut).toFixed(0)} img/s (${mb((totalBytes * rounds) / oursPut)} MB/s, incl. commit), get ${rate(n, oursGet).toFixed(0)} img/s`);
    console.log(
      `RESULT storage ratio=${(oursRate / directRate).toFixed(3)} ours_img_per_s=${oursRate.toFixed(0)} direct_img_per_s=${directRate.toFixed(0)} ` +
        `put_ratio=${(directPut / oursPut).toFixed(3)} get_ratio=${(directGet / oursGet).toFixed(3)} n=${n} rounds=${rounds} service=${ownProcess ? 'own-process' : 'in-process'} reads=GetImages-sha-order concurrency=${concurrency} mb=${mb(totalBytes)}`,
    );
  } finally {
    agent.destroy();
    await harness.close();
    await minio.dispose();
  }
}
