// Interpreters (wasm3, WAMR fast/classic: instructions per request by callgrind, slope method, and
// wall time) and the emulated Cortex-M4 (qemu instruction-count plugin, flash and RAM). None of
// these runtimes is built in this repository yet: the section reports that, never numbers.
export const NOT_AVAILABLE = 'not available: board simulator not built yet (issue 5)';

export function interpreters() {
  return {
    available: false,
    reason: NOT_AVAILABLE,
    wanted: ['wasm3 instructions/request (callgrind, slope)', 'WAMR fast instructions/request', 'WAMR classic instructions/request', 'wall time per request in each'],
  };
}

export function mcu() {
  return {
    available: false,
    reason: NOT_AVAILABLE,
    wanted: ['Thumb instructions/request on qemu mps2-an386 (Cortex-M4), moat vs llhttp Wasm in wasm3', 'flash bytes', 'RAM bytes'],
  };
}
