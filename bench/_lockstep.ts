// A benchmark subject that runs in its own process and does one timed iteration per request, so several subjects
// (our backends, the PyTorch peer) can step in lockstep: round by round, each one iteration, all under the same
// load. This machine is shared and its load drifts over tens of seconds; timing one subject for a minute and then
// the other compares two different machines.
//
// Protocol, one line each way: the subject prints `READY <json>` once set up; then for each `step` it reads, it
// runs one iteration and prints `STEP <milliseconds>`; `quit` makes it clean up and exit. Anything else it prints
// is ignored, and its last error line on stderr is the reason given when it fails.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Subject<Info> {
  readonly info: Info;
  /** One iteration, timed inside the subject. */
  step(): Promise<number>;
  close(): Promise<void>;
}

export interface SubjectSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How long set-up may take (imports, building the model), ms. */
  startTimeoutMs: number;
}

/** Starts a subject; rejects with its last stderr line when it exits or times out before READY. */
export function startSubject<Info>(spec: SubjectSpec): Promise<Subject<Info>> {
  const child = spawn(spec.command, spec.args, { env: spec.env, stdio: ['pipe', 'pipe', 'pipe'] });
  // The reason a failed subject gives: its last error line (a Node crash ends in a stack and its version banner).
  let lastErr = '';
  let lastLine = '';
  createInterface({ input: child.stderr }).on('line', (raw) => {
    const l = raw.trim();
    if (l === '' || /^at /.test(l) || /^Node\.js v/.test(l)) return;
    lastLine = l.slice(0, 300);
    if (/error/i.test(l) || lastErr === '') lastErr = lastLine;
  });
  const waiting: ((line: string | Error) => void)[] = [];
  let exited: Error | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('READY ') || line.startsWith('STEP ')) waiting.shift()?.(line);
  });
  child.once('exit', (code, signal) => {
    exited = new Error(lastErr || `exited (${signal ?? code})`);
    for (const w of waiting.splice(0)) w(exited);
  });
  const next = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      if (exited) return reject(exited);
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s; last stderr: ${lastErr || '(none)'}`)), timeoutMs);
      waiting.push((l) => {
        clearTimeout(timer);
        if (l instanceof Error) reject(l);
        else resolve(l);
      });
    });
  const close = async () => {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.stdin.end('quit\n');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(killer);
  };
  return next(spec.startTimeoutMs).then(
    (ready) => ({
      info: JSON.parse(ready.slice('READY '.length)) as Info,
      async step() {
        const answer = next(3_600_000);
        child.stdin.write('step\n');
        const ms = Number((await answer).slice('STEP '.length));
        if (!Number.isFinite(ms)) throw new Error('subject answered a step without a time');
        return ms;
      },
      close,
    }),
    async (err: unknown) => {
      await close().catch(() => undefined);
      throw err;
    },
  );
}

/** Serves the protocol in a Node subject process: `step` runs `iteration` (which must finish its work). */
export async function serveSteps(info: object, iteration: () => void, cleanup: () => void): Promise<void> {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === 'quit') break;
    if (line.trim() !== 'step') continue;
    const t = performance.now();
    iteration();
    process.stdout.write(`STEP ${(performance.now() - t).toFixed(3)}\n`);
  }
  cleanup();
}
