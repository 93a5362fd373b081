// Interpreters: x86 instructions and wall time per request of the module, and of the baseline
// (undici's llhttp Wasm build, boards/baseline/llhttp_run.c), inside wasm3 and WAMR fast/classic,
// counted by callgrind with the slope method in the same run (boards/scripts/callgrind.mjs).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CALLGRIND = fileURLToPath(new URL('../boards/scripts/callgrind.mjs', import.meta.url));

export interface EngineRow {
  subject: 'moat' | 'llhttp'; engine: string;
  /** null: not counted (llhttp in WAMR classic outside --full: 3.8 G instructions per request). */
  parse: number | null; parseAndRespond: number | null; oneOff: number; nsParse: number; n: number; requests: number;
  /** moat only: the parse slope on a tracked client's connection (defense counters per request);
   * absent in results written before callgrind.mjs counted it. */
  parseTracked?: number | null;
}

export function interpreters(full = false): { available: boolean; reason: string; rows: EngineRow[] } {
  const args = [CALLGRIND, '--json', '--n', full ? '400' : '100', ...(full ? ['--classic-baseline'] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 1_200_000 });
  if (r.status !== 0) return { available: false, reason: `callgrind run failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`, rows: [] };
  return { available: true, reason: '', rows: JSON.parse(r.stdout) as EngineRow[] };
}

// The emulated Cortex-M4: boards/scripts/qemu-icount.mjs builds the image if needed, counts Thumb
// instructions with the TCG plugin (slope method) and writes bench/results/cortex-m.json.
const QEMU_ICOUNT = fileURLToPath(new URL('../boards/scripts/qemu-icount.mjs', import.meta.url));
const CORTEX_JSON = fileURLToPath(new URL('./results/cortex-m.json', import.meta.url));

export function mcu(): { available: boolean; reason: string; result?: Record<string, unknown> } {
  const r = spawnSync(process.execPath, [QEMU_ICOUNT], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) return { available: false, reason: `qemu run failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
  return { available: true, reason: '', result: JSON.parse(readFileSync(CORTEX_JSON, 'utf8')) };
}

// The baseline on the same emulated board: llhttp's Wasm build inside wasm3 (boards/scripts/baseline-cortex-m.mjs).
const BASELINE_CM = fileURLToPath(new URL('../boards/scripts/baseline-cortex-m.mjs', import.meta.url));

export function mcuBaseline(): { available: boolean; reason: string; result?: Record<string, unknown> } {
  const r = spawnSync(process.execPath, [BASELINE_CM], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) return { available: false, reason: `qemu run of llhttp failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
  return { available: true, reason: '', result: JSON.parse(r.stdout) };
}
