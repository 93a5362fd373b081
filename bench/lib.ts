// Shared helpers for the benchmarks: statistics over repeated runs, formatting, progress output,
// the request mix, and forking a benchmark child process under tsx.
import { readFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

/** median [min–max] of one figure over repeated runs; `runs` keeps every sample. */
export interface Stat { median: number; min: number; max: number; runs: number[] }

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0] ?? NaN, max: s[n - 1] ?? NaN, runs: xs };
}

/** Paired ratio a[i]/b[i] of two figures measured in the same runs. */
export function ratio(a: Stat, b: Stat): Stat {
  return stat(a.runs.map((x, i) => x / b.runs[i]));
}

export function num(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return String(x);
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmt(s: Stat, digits = 0): string {
  if (s.runs.length === 1) return num(s.median, digits);
  return `${num(s.median, digits)} [${num(s.min, digits)}–${num(s.max, digits)}]`;
}

/** Progress goes to stderr so stdout stays clean. */
export function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export const MIX_NAMES = ['a', 'b', 'c', 'd'] as const;
export type MixName = (typeof MIX_NAMES)[number];

/** The benchmark mix (bench/mix/*.http), exact bytes. */
export function loadMix(): Record<MixName, Buffer> {
  const out = {} as Record<MixName, Buffer>;
  for (const n of MIX_NAMES) out[n] = readFileSync(new URL(`./mix/${n}.http`, import.meta.url));
  return out;
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
  };
}

export function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

/** Forks `file` (a .ts under bench/) with tsx; extra node flags in `execArgv`. */
export function forkTs(file: string, args: string[] = [], execArgv: string[] = [], stdout: 'pipe' | 'inherit' = 'pipe'): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: [...execArgv, '--import', 'tsx'],
    stdio: [stdout === 'pipe' ? 'ignore' : 'inherit', stdout, 'inherit', 'ipc'],
    cwd: ROOT,
  });
}

/** Runs a child that sends one message with its result over IPC, then exits. */
export function childResult<T>(file: string, args: string[] = [], execArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = forkTs(file, args, execArgv, 'inherit');
    let result: T | undefined;
    child.on('message', (m) => { result = m as T; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`${file} exited with ${code}`));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
