// `moat fit` and the firmware kit as a user runs them: child processes, profiles in boards/ and in a
// temp folder, the kit compiled with cc -fsyntax-only.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBoard, parseBoard, linearMemory } from '../host/fit.ts';
import { ConfigError } from '../host/units.ts';
import { loadMoat } from '../host/module.ts';
import { loadConfig, parseConfig, toModuleConfig } from '../host/config.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const BOARDS = fileURLToPath(new URL('../boards/', import.meta.url));
const README = fileURLToPath(new URL('../boards/README.md', import.meta.url));
const WASM3 = fileURLToPath(new URL('../.cache/engines/wasm3/pywasm3-0.5.0/wasm3/', import.meta.url));
const NAMES = ['esp32-c3', 'esp32-s3', 'rp2040', 'stm32f4'];

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'moat-fit-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function moat(...args: string[]) {
  const r = spawnSync(process.execPath, [MOAT, 'fit', ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const SMALL = `{ web: { documents: null, limits: { connections: 4, uri: '1K', header: '1K', headers: 32 } } }`;
const HUGE = `{ web: { documents: null, limits: { connections: 255, uri: '8K', header: '15K' } } }`;
const profile = (name: string) => JSON.parse(readFileSync(join(BOARDS, `${name}.json`), 'utf8'));

describe('board profiles', () => {
  it('boards/ holds the four profiles and each validates', () => {
    expect(readdirSync(BOARDS).filter((f) => f.endsWith('.json')).sort()).toEqual(NAMES.map((n) => `${n}.json`));
    for (const n of NAMES) {
      const b = loadBoard(n);
      expect(b.name).toBe(n);
      expect(b.ram - b.reserved.ram).toBeGreaterThan(0);
      expect(b.notes.length).toBeGreaterThan(0);
    }
    expect(loadBoard('stm32f4').ram).toBe(192 * 1024);
    expect(loadBoard('rp2040').ram).toBe(264 * 1024);
  });

  const err = (raw: unknown, name?: string) => {
    try { parseBoard(raw, name); } catch (e) { expect(e).toBeInstanceOf(ConfigError); return (e as Error).message; }
    return 'no error';
  };
  it('refuses unknown keys, missing fields and bad values with exact messages', () => {
    const p = profile('rp2040');
    expect(err({ ...p, colour: 'green' })).toBe('colour: unknown key');
    expect(err({ ...p, interpreter: { ...p.interpreter, heep: '1K' } })).toBe('interpreter.heep: unknown key');
    const { ram: _ram, ...noRam } = p;
    expect(err(noRam)).toBe('ram: missing — a board profile needs "ram"');
    const { tx: _tx, ...noTx } = p.socket;
    expect(err({ ...p, socket: noTx })).toBe('socket.tx: missing — socket needs "tx"');
    expect(err({ ...p, ram: 'lots' })).toBe('ram: "lots" — a size is a whole number with a unit (bytes, K, KB, M, MB, G, GB), as in "100K"');
    expect(err({ ...p, interpreter: { ...p.interpreter, engine: 'wasmtime' } })).toBe('interpreter.engine: "wasmtime" — must be one of "wasm3", "wamr-fast", "wamr-classic"');
    expect(err({ ...p, reserved: { ...p.reserved, ram: '300K' } })).toBe(`reserved.ram: "300K" — must be less than ram (${264 * 1024} bytes)`);
    expect(err(p, 'pico')).toBe('name: "rp2040" — must match the file name (pico)');
    expect(err(p, 'rp2040')).toBe('no error');
  });

  it('the CLI names the profile file and the key', () => {
    const bad = file('tiny.json', JSON.stringify({ ...profile('rp2040'), name: 'tiny', flash: '2M', extra: 1 }));
    const r = moat('--board', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`moat fit: ${bad}: extra: unknown key\n`);
    const u = moat('--board', 'nope');
    expect(u.code).toBe(1);
    expect(u.stderr).toBe(`moat fit: unknown board "nope" (boards: ${NAMES.join(', ')})\n`);
    expect(moat().code).toBe(2);
  });
});

describe('moat fit', () => {
  it.each(NAMES)('a small config fits %s: exit 0 and every row ok', (name) => {
    const cfg = file('small.json5', SMALL);
    const r = moat('--board', name, '--config', cfg);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const row of ['flash', 'ram', 'connections', 'linear memory']) expect(r.stdout).toMatch(new RegExp(`^${row} .* ok$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}module +13\.\dK|^ {2}module +\d+(\.\d)?K/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`fits: ${name} has room for this config`);
  });

  it('255 connections with a 15K field section does not fit rp2040: exit 1 names the rows', () => {
    const cfg = file('huge.json5', HUGE);
    const r = moat('--board', 'rp2040', '--config', cfg);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ram .* OVER$/m);
    expect(r.stdout).toMatch(/^connections +255 +8 +-247 +OVER$/m);
    expect(r.stdout).toMatch(/^flash .* ok$/m);
    const last = r.stdout.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^over budget: ram \(\d+(\.\d)?M used, 192K available\); connections \(255 used, 8 available\)$/);
  });

  it('a profile with tiny RAM fails on the ram row only', () => {
    const tiny = file('tiny-ram.json', JSON.stringify({ ...profile('rp2040'), name: 'tiny-ram', ram: '96K', reserved: { ...profile('rp2040').reserved, ram: '32K' } }));
    const r = moat('--board', tiny, '--config', file('small.json5', SMALL), '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.fits).toBe(false);
    expect(j.rows.filter((x: { ok: boolean }) => !x.ok).map((x: { row: string }) => x.row)).toEqual(['ram']);
    expect(j.reason).toMatch(/^over budget: ram \([\d.]+K used, 64K available\)$/);
    expect(r.stderr).toBe(`moat fit: ${j.reason}\n`);
  });

  it('--json rows add up, and linear memory is the real high-water mark capped as wasm3 would', async () => {
    const cfgFile = file('small.json5', SMALL);
    const r = moat('--board', 'stm32f4', '--config', cfgFile, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const m = await loadMoat();
    m.configure(toModuleConfig(parseConfig(SMALL, cfgFile)));
    expect(j.highWater).toBe(m.highWater);
    expect(j.linearMemory).toBe(Math.ceil(m.highWater / 1024) * 1024);
    expect(j.linearMemory).toBeLessThan(65536);
    for (const row of j.rows) {
      if (row.unit === 'bytes' && row.row !== 'linear memory') expect(row.items.reduce((a: number, i: { bytes: number }) => a + i.bytes, 0)).toBe(row.used);
      expect(row.headroom).toBe(row.available - row.used);
    }
    const b = loadBoard('stm32f4');
    const ram = j.rows.find((x: { row: string }) => x.row === 'ram');
    expect(ram.used).toBe(b.interpreter.heap + b.interpreter.stack + j.linearMemory + 4 * (b.socket.rx + b.socket.tx) + 4 * 1024);
    expect(linearMemory(m.highWater)).toBe(j.linearMemory);
    expect(loadConfig().web.limits.connections).toBe(50);
  });
});

describe('firmware kit', () => {
  it('writes the kit only when the config fits', () => {
    const out = join(dir, 'nokit');
    const r = moat('--board', 'rp2040', '--config', file('huge.json5', HUGE), '--kit', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('moat fit: kit not written (rp2040 has no room for this config)\n');
    expect(existsSync(out)).toBe(false);
  });

  it('the kit and the README example compile (cc -fsyntax-only)', () => {
    const out = join(dir, 'kit');
    const r = moat('--board', 'stm32f4', '--config', file('small.json5', SMALL), '--kit', out);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['moat_config.c', 'moat_engine.c', 'moat_engine.h', 'moat_kit.h', 'moat_wamr.c', 'moat_wasm.c', 'moat_wasm3.c']);
    const wasm = readFileSync(fileURLToPath(new URL('../build/moat.wasm', import.meta.url)));
    expect(readFileSync(join(out, 'moat_wasm.c'), 'utf8')).toContain(`const unsigned int moat_wasm_len = ${wasm.length};`);
    const kitH = readFileSync(join(out, 'moat_kit.h'), 'utf8');
    expect(kitH).toMatch(/#define MOAT_CONNECTIONS 4u/);
    const example = /```c\n([\s\S]*?)```/.exec(readFileSync(README, 'utf8').split('## Firmware kit')[1] ?? '')?.[1];
    expect(example, 'boards/README.md Firmware kit has a C example').toBeDefined();
    writeFileSync(join(out, 'example.c'), example!);
    expect(existsSync(join(WASM3, 'wasm3.h')), 'wasm3 sources (node boards/scripts/build-sim.mjs fetches them)').toBe(true);
    for (const src of ['moat_wasm.c', 'moat_config.c', 'moat_engine.c', 'moat_wasm3.c', 'example.c']) {
      const cc = spawnSync('cc', ['-fsyntax-only', '-std=c11', '-Wall', '-Wextra', '-Werror', '-I', out, '-I', WASM3, join(out, src)], { encoding: 'utf8' });
      expect(cc.stderr, src).toBe('');
      expect(cc.status, src).toBe(0);
    }
  });
});
