// Board profiles (boards/*.json) and the flash/RAM budget of the module on a board (`moat fit`).
//
// A profile states what the firmware may use (flash and RAM left after the RTOS, network stack and
// SDK), the interpreter's own costs, how many sockets the network stack opens and the socket
// buffers each one holds. fit() adds up what Moat needs for a config on that board:
//   flash = interpreter + glue + build/moat.wasm + the 256-byte config blob
//   RAM   = interpreter runtime (heap: function table, compiled code, value stack) + the C stack of
//           the task that runs it + linear memory as the interpreter caps it + socket buffers × connections
//           + the retained-token buffer × connections (ABI.md window protocol: the window is shared
//           scratch, so the host keeps each connection's incomplete token, at most max(uri, header))
// Linear memory is the module's real high-water mark for the config (loadMoat + configure) rounded up
// to 1 KiB: the glue caps the one page there (wasm3's runtime->memoryLimit, WAMR's page size; see
// moat_load_capped() in boards/glue/). A connection's 64-byte module slot lies
// inside the high-water mark, and the config blob is const data in flash copied into linear memory,
// so neither is counted twice.
//
// Every profile refusal is a ConfigError in the config's style: `<key.path>: <JSON of the value> — <rule>`,
// `<key.path>: unknown key`, or `<key.path>: missing — <what>`.
import JSON5 from 'json5';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MoatConfig } from './types.ts';
import { toModuleConfig } from './config.ts';
import { CONFIG_WORDS, loadMoat, wasmBytes } from './module.ts';
import { ConfigError, fail, parseCount, parseSize } from './units.ts';

export const BOARDS_DIR = fileURLToPath(new URL('../boards/', import.meta.url));
export const PAGE_BYTES = 65536;
export const CONFIG_BLOB_BYTES = CONFIG_WORDS * 4;
/** Bytes of one connection slot inside linear memory (assembly/config.ts SLOT_BYTES). */
export const SLOT_BYTES = 64;
/** The glue's cap is byte-exact; the kit and fit round the high-water mark up to this. */
export const CAP_ROUND = 1024;

export const ENGINES = ['wasm3', 'wamr-fast', 'wamr-classic'] as const;
export type Engine = (typeof ENGINES)[number];

export interface BoardProfile {
  name: string;
  board: string;
  cpu: string;
  /** Flash the firmware image may occupy (its app partition / region), bytes. */
  flash: number;
  /** RAM on the chip the firmware can address, bytes. */
  ram: number;
  /** What the RTOS, network stack and SDK take from flash and ram, and what that is. */
  reserved: { flash: number; ram: number; for: string };
  interpreter: {
    engine: Engine;
    /** Interpreter code (its core at -Os). */
    flash: number;
    /** boards/glue code linked with it. */
    glue: number;
    /** Runtime heap: module structures, compiled code, value stack (linear memory not included). */
    heap: number;
    /** C stack of the task that calls into the interpreter. */
    stack: number;
  };
  /** Sockets the network stack opens at most. */
  connections: number;
  /** Buffers the network stack holds per connection (worst case: a full window each way). */
  socket: { rx: number; tx: number };
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function keys(v: unknown, path: string, allowed: readonly string[], what: string): Obj {
  if (!isObj(v)) fail(path || 'profile', v, path ? 'must be an object' : 'a board profile is one JSON object');
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new ConfigError(`${path ? `${path}.` : ''}${k}: unknown key`, k);
  }
  for (const k of allowed) {
    if (v[k] === undefined) {
      const p = path ? `${path}.${k}` : k;
      throw new ConfigError(`${p}: missing — ${what} needs "${k}"`, p);
    }
  }
  return v;
}

function text(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.trim() === '') fail(path, v, 'must be a non-empty string');
  return v;
}

function size(v: unknown, path: string, min = 0): number {
  const n = parseSize(v, path);
  if (n < min) fail(path, v, `must be at least ${min} bytes`);
  return n;
}

/** Validates a parsed profile; `expectName` (the file's base name) must equal its `name`. */
export function parseBoard(raw: unknown, expectName?: string): BoardProfile {
  const o = keys(raw, '', ['name', 'board', 'cpu', 'flash', 'ram', 'reserved', 'interpreter', 'connections', 'socket', 'notes'], 'a board profile');
  const name = text(o.name, 'name');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) fail('name', o.name, 'a board name is lowercase letters, digits and "-"');
  if (expectName !== undefined && name !== expectName) fail('name', o.name, `must match the file name (${expectName})`);
  const r = keys(o.reserved, 'reserved', ['flash', 'ram', 'for'], 'reserved');
  const i = keys(o.interpreter, 'interpreter', ['engine', 'flash', 'glue', 'heap', 'stack'], 'interpreter');
  if (typeof i.engine !== 'string' || !(ENGINES as readonly string[]).includes(i.engine)) {
    fail('interpreter.engine', i.engine, `must be one of ${ENGINES.map((e) => `"${e}"`).join(', ')}`);
  }
  const s = keys(o.socket, 'socket', ['rx', 'tx'], 'socket');
  if (!Array.isArray(o.notes) || o.notes.length === 0) fail('notes', o.notes, 'must be a non-empty array of strings (sources of the figures)');
  const notes = o.notes.map((n, k) => text(n, `notes[${k}]`));
  const p: BoardProfile = {
    name,
    board: text(o.board, 'board'),
    cpu: text(o.cpu, 'cpu'),
    flash: size(o.flash, 'flash', 1),
    ram: size(o.ram, 'ram', 1),
    reserved: { flash: size(r.flash, 'reserved.flash'), ram: size(r.ram, 'reserved.ram'), for: text(r.for, 'reserved.for') },
    interpreter: {
      engine: i.engine as Engine,
      flash: size(i.flash, 'interpreter.flash'),
      glue: size(i.glue, 'interpreter.glue'),
      heap: size(i.heap, 'interpreter.heap'),
      stack: size(i.stack, 'interpreter.stack', 1),
    },
    connections: parseCount(o.connections, 'connections'),
    socket: { rx: size(s.rx, 'socket.rx'), tx: size(s.tx, 'socket.tx') },
    notes,
  };
  if (p.connections < 1) fail('connections', o.connections, 'must be at least 1');
  if (p.reserved.flash >= p.flash) fail('reserved.flash', r.flash, `must be less than flash (${p.flash} bytes)`);
  if (p.reserved.ram >= p.ram) fail('reserved.ram', r.ram, `must be less than ram (${p.ram} bytes)`);
  return p;
}

/** Names of the profiles in boards/. */
export function boardNames(dir = BOARDS_DIR): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/**
 * A profile by name (boards/NAME.json) or by path (anything containing "/" or ending in .json).
 * Errors: ConfigError whose message starts with the file name.
 */
export function loadBoard(nameOrPath: string, dir = BOARDS_DIR): BoardProfile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isPath && !/^[a-z0-9][a-z0-9-]*$/.test(nameOrPath)) {
    throw new ConfigError(`unknown board "${nameOrPath}" (boards: ${boardNames(dir).join(', ') || 'none found'})`);
  }
  const file = isPath ? nameOrPath : join(dir, `${nameOrPath}.json`);
  let body: string;
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    body = readFileSync(file, 'utf8');
  } catch {
    if (!isPath) throw new ConfigError(`unknown board "${nameOrPath}" (boards: ${boardNames(dir).join(', ') || 'none found'})`);
    throw new ConfigError(`${file}: cannot read the board profile`);
  }
  let raw: unknown;
  try {
    raw = JSON5.parse(body);
  } catch (e) {
    throw new ConfigError(`${file}: ${(e as Error).message.replace(/^JSON5: /, '')}`);
  }
  try {
    return parseBoard(raw, basename(file, extname(file)));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${file}: ${e.message}`, e.key);
    throw e;
  }
}

// ---- the budget ---------------------------------------------------------------------------------

export interface FitItem { name: string; bytes: number; note: string }
export interface FitRow {
  row: 'flash' | 'ram' | 'connections' | 'linear memory';
  used: number;
  available: number;
  headroom: number;
  ok: boolean;
  /** Bytes for flash / ram / linear memory, a count for connections. */
  unit: 'bytes' | 'count';
  items: FitItem[];
}
export interface FitReport {
  board: string;
  engine: Engine;
  config: string;
  /** The module's high-water mark for the config (init()), and the linear memory the interpreter allocates. */
  highWater: number;
  linearMemory: number;
  rows: FitRow[];
  fits: boolean;
  /** One line naming every row over budget; "" when it fits. */
  reason: string;
}

/** Linear memory the interpreter allocates for a high-water mark, capped by the glue. */
export function linearMemory(highWater: number): number {
  return Math.min(PAGE_BYTES, Math.ceil(highWater / CAP_ROUND) * CAP_ROUND);
}

/** The module's high-water mark for `cfg`, from a real instance (throws if the module refuses it). */
export async function highWaterFor(cfg: MoatConfig): Promise<number> {
  const m = await loadMoat();
  m.configure(toModuleConfig(cfg));
  return m.highWater;
}

function row(name: FitRow['row'], used: number, available: number, unit: FitRow['unit'], items: FitItem[]): FitRow {
  return { row: name, used, available, headroom: available - used, ok: used <= available, unit, items };
}

export async function fit(board: BoardProfile, cfg: MoatConfig, configName: string): Promise<FitReport> {
  const it = board.interpreter, eng = it.engine;
  const hw = await highWaterFor(cfg);
  const lin = linearMemory(hw);
  const wasm = wasmBytes().length;
  const conns = cfg.web.limits.connections;
  const perConn = board.socket.rx + board.socket.tx;
  const retain = Math.max(cfg.web.limits.uri, cfg.web.limits.header);
  const capNote = `high-water ${hw} B rounded up to 1K: ${eng === 'wasm3' ? 'wasm3 runtime->memoryLimit' : 'WAMR page size'} = ${lin}`;
  const rows: FitRow[] = [
    row('flash', it.flash + it.glue + wasm + CONFIG_BLOB_BYTES, board.flash - board.reserved.flash, 'bytes', [
      { name: `interpreter (${eng})`, bytes: it.flash, note: 'core at -Os' },
      { name: 'glue', bytes: it.glue, note: `moat_engine.c + moat_${eng === 'wasm3' ? 'wasm3' : 'wamr'}.c` },
      { name: 'module', bytes: wasm, note: 'build/moat.wasm as a const array' },
      { name: 'config blob', bytes: CONFIG_BLOB_BYTES, note: `moat_config[${CONFIG_BLOB_BYTES}]` },
    ]),
    row('ram', it.heap + it.stack + lin + conns * perConn + conns * retain, board.ram - board.reserved.ram, 'bytes', [
      { name: 'interpreter runtime', bytes: it.heap, note: 'heap: function table, compiled code, value stack' },
      { name: 'interpreter stack', bytes: it.stack, note: 'C stack of the task calling the module' },
      { name: 'linear memory', bytes: lin, note: capNote },
      { name: 'connections', bytes: conns * perConn, note: `${conns} × (${board.socket.rx} rx + ${board.socket.tx} tx socket buffers); the ${SLOT_BYTES} B module slot is inside linear memory` },
      { name: 'retained tokens', bytes: conns * retain, note: `${conns} × ${retain}: an incomplete token the host keeps between feeds, at most max(limits.uri, limits.header)` },
      { name: 'config blob', bytes: 0, note: 'const in flash, copied into linear memory (inside the high-water mark)' },
    ]),
    row('connections', conns, board.connections, 'count', [
      { name: 'web.limits.connections', bytes: conns, note: `the network stack opens at most ${board.connections} sockets` },
    ]),
    row('linear memory', lin, PAGE_BYTES, 'bytes', [
      { name: 'module tables', bytes: hw, note: 'static data, slots, events, spans, response head, input window' },
    ]),
  ];
  const over = rows.filter((r) => !r.ok);
  const reason = over.length === 0 ? '' : `over budget: ${over.map((r) => `${r.row} (${show(r.used, r.unit)} used, ${show(r.available, r.unit)} available)`).join('; ')}`;
  return { board: board.name, engine: eng, config: configName, highWater: hw, linearMemory: lin, rows, fits: over.length === 0, reason };
}

// ---- the table ----------------------------------------------------------------------------------

/** "128 B", "23K", "13.7K", "1.5M". */
export function fmtBytes(n: number): string {
  const a = Math.abs(n), sign = n < 0 ? '-' : '';
  if (a < 1024) return `${n} B`;
  const [div, u] = a >= 1024 * 1024 ? [1024 * 1024, 'M'] : [1024, 'K'];
  const v = a / div;
  return `${sign}${Number.isInteger(v) ? v : v.toFixed(1)}${u}`;
}

function show(n: number, unit: FitRow['unit']): string {
  return unit === 'count' ? String(n) : fmtBytes(n);
}

export function formatFit(r: FitReport, board: BoardProfile): string {
  const out: string[] = [
    `board ${board.name}: ${board.board} (${board.cpu}); interpreter ${r.engine}; config ${r.config}`,
    '',
  ];
  const cols = (a: string, b: string, c: string, d: string, e: string) =>
    `${a.padEnd(26)}${b.padStart(10)}${c.padStart(12)}${d.padStart(11)}  ${e}`.trimEnd();
  out.push(cols('row', 'used', 'available', 'headroom', ''));
  for (const x of r.rows) {
    out.push(cols(x.row, show(x.used, x.unit), show(x.available, x.unit), show(x.headroom, x.unit), x.ok ? 'ok' : 'OVER'));
    if (x.unit === 'count') continue;
    for (const i of x.items) out.push(cols(`  ${i.name}`, fmtBytes(i.bytes), '', '', i.note));
  }
  out.push('', r.fits ? `fits: ${board.name} has room for this config` : r.reason);
  return out.join('\n') + '\n';
}

// ---- the firmware kit (`moat fit --kit DIR`) ----------------------------------------------------

export const GLUE_DIR = fileURLToPath(new URL('../boards/glue/', import.meta.url));
export const GLUE_FILES = ['moat_engine.h', 'moat_engine.c', 'moat_wasm3.c', 'moat_wamr.c'] as const;

function cBytes(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push('  ' + Array.from(bytes.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ') + ',');
  }
  return lines;
}

const cComment = (s: string) => s.replace(/\*\//g, '* /');

/**
 * The generated kit files (name → text): moat_kit.h (declarations and the sizes a firmware needs),
 * moat_wasm.c (build/moat.wasm), moat_config.c (the config blob). The glue sources are copied
 * beside them by the CLI.
 */
export function kitSources(board: BoardProfile, r: FitReport, blob: Uint8Array, wasm: Uint8Array = wasmBytes()): Record<string, string> {
  const it = board.interpreter;
  const head = `/* Generated by \`moat fit --board ${board.name} --kit\` from config ${cComment(r.config)}. Do not edit. */`;
  const h = [
    head,
    '#ifndef MOAT_KIT_H',
    '#define MOAT_KIT_H',
    '#include "moat_engine.h"   /* the module ABI in C (moat_load, moat_init, moat_feed, ...) */',
    '',
    '/* build/moat.wasm (moat_wasm.c): pass to moat_load(); keep it alive (flash is fine). */',
    'extern const unsigned char moat_wasm[];',
    'extern const unsigned int moat_wasm_len;',
    '/* The config blob (moat_config.c): copy to moat_config_ptr() before moat_init(). */',
    `extern const unsigned char moat_config[${CONFIG_BLOB_BYTES}];`,
    'extern const unsigned int moat_config_len;',
    '',
    `#define MOAT_KIT_BOARD "${board.name}"`,
    `#define MOAT_HIGH_WATER ${r.highWater}u        /* bytes of linear memory the module uses with this config (moat_init()) */`,
    `#define MOAT_MEMORY_LIMIT ${r.linearMemory}u      /* moat_load_capped(): the high-water mark rounded up to 1 KiB */`,
    `#define MOAT_CONNECTIONS ${r.rows.find((x) => x.row === 'connections')!.used}u  /* web.limits.connections: slots the module opens */`,
    `#define MOAT_TASK_STACK_BYTES ${it.stack}u  /* C stack of the task that calls the module (${board.name} profile) */`,
    '#ifndef MOAT_WASM3_STACK_BYTES',
    '#define MOAT_WASM3_STACK_BYTES 4096u  /* wasm3 value stack (heap), as the desktop simulator builds it */',
    '#endif',
    '#endif /* MOAT_KIT_H */',
    '',
  ].join('\n');
  const wasmC = [
    head,
    '#include "moat_kit.h"',
    `const unsigned char moat_wasm[${wasm.length}] = {`,
    ...cBytes(wasm),
    '};',
    `const unsigned int moat_wasm_len = ${wasm.length};`,
    '',
  ].join('\n');
  const configC = [
    head,
    '#include "moat_kit.h"',
    `/* ${blob.length / 4} little-endian u32 words, the first "MAT1" (ABI.md "Config words"). */`,
    `const unsigned char moat_config[${blob.length}] = {`,
    ...cBytes(blob),
    '};',
    `const unsigned int moat_config_len = ${blob.length};`,
    '',
  ].join('\n');
  return { 'moat_kit.h': h, 'moat_wasm.c': wasmC, 'moat_config.c': configC };
}
