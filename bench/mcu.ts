// Interpreters: x86 instructions per request of the module inside wasm3 and WAMR fast/classic,
// counted by callgrind with the slope method (boards/scripts/callgrind.mjs does the counting).
// The emulated Cortex-M4 is reported once its image exists (issue 5); until then the section says so.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NOT_AVAILABLE = 'not available: Cortex-M image not built yet (issue 5)';
const CALLGRIND = fileURLToPath(new URL('../boards/scripts/callgrind.mjs', import.meta.url));

export interface EngineRow { engine: string; parse: number; parseAndRespond: number; oneOff: number; n: number; requests: number }

export function interpreters(full = false): { available: boolean; reason: string; rows: EngineRow[] } {
  const r = spawnSync(process.execPath, [CALLGRIND, '--json', '--n', full ? '400' : '100'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { available: false, reason: `callgrind run failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`, rows: [] };
  return { available: true, reason: '', rows: JSON.parse(r.stdout) as EngineRow[] };
}

export function mcu() {
  return {
    available: false,
    reason: NOT_AVAILABLE,
    wanted: ['Thumb instructions/request on qemu mps2-an386 (Cortex-M4), moat vs llhttp Wasm in wasm3', 'flash bytes', 'RAM bytes'],
  };
}
