// The conformance corpus on an emulated Cortex-M4F: wasm3 + boards/glue + build/moat.wasm + the
// default config, cross-built with arm-none-eabi-gcc (boards/scripts/build-cortex-m.mjs, which also
// installs the Debian toolchain and qemu) and run under qemu-system-arm mps2-an386 with semihosting.
// The image runs every case whole and byte by byte (boards/cortex-m/main.c) and prints one line per
// run; each must equal what V8 gives for the same input through inspectConnection(). Not skippable:
// a missing toolchain or emulator fails the test (run by `npm run test:cortex-m`).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMoat, type Moat } from '../host/module.ts';
import { inspectConnection, type InspectResult, type Limits } from '../host/inspect.ts';
import { reasonOf } from '../host/errors.ts';
// @ts-expect-error -- plain ESM script without type declarations
import { buildCortexM, loadCases, runCorpus } from '../boards/scripts/build-cortex-m.mjs';

type Case = { file: string; name: string; raw: Buffer; limits?: Limits };
type Line = {
  i: number; mode: 'whole' | 'bytewise'; init?: number;
  requests?: { method: string; target: string; version: string; headers: [string, string][]; body: string; trailers: [string, string][]; keep_alive: boolean }[];
  error?: null | { status: number | null; code: number };
};

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** V8's result in the image's line format (byte strings as hex; the error's reason as its code's). */
function v8Line(moat: Moat, c: Case, i: number, mode: 'whole' | 'bytewise'): unknown {
  let res: InspectResult;
  try {
    res = inspectConnection(moat, c.raw, { ...(c.limits ? { limits: c.limits } : {}), bytewise: mode === 'bytewise' });
  } catch (e) {
    return { i, mode, init: String(e) };
  }
  return {
    i, mode,
    requests: res.requests.map((r) => ({
      method: hex(r.method), target: hex(r.target), version: r.version,
      headers: r.headers.map(([n, v]) => [hex(n), hex(v)]),
      body: Buffer.from(r.body_b64, 'base64').toString('hex'),
      trailers: r.trailers.map(([n, v]) => [hex(n), hex(v)]),
      keep_alive: r.keep_alive,
    })),
    error: res.error === null ? null : { status: res.error.status, reason: res.error.reason },
  };
}

/** The image's line with the error code turned into the host's reason name. */
function deviceLine(l: Line): unknown {
  if (l.init !== undefined) return { i: l.i, mode: l.mode, init: 'module refused the config' };
  const error = l.error ? { status: l.error.status, reason: l.error.code < 0 ? 'incomplete' : reasonOf(l.error.code) } : null;
  return { i: l.i, mode: l.mode, requests: l.requests, error };
}

describe('conformance corpus on an emulated Cortex-M4 (qemu mps2-an386, wasm3)', () => {
  const cases: Case[] = loadCases();
  let lines: Line[] = [];
  let v8: Moat;
  let stderr = '';

  beforeAll(async () => {
    await buildCortexM({ log: (m: string) => process.stderr.write(`cortex-m: ${m}\n`) });
    ({ lines, stderr } = runCorpus());
    v8 = await loadMoat();
  }, 400_000);

  it('runs every case whole and byte by byte', () => {
    expect(cases.length).toBeGreaterThanOrEqual(180);
    expect(lines.map((l) => `${l.i} ${l.mode}`)).toEqual(cases.flatMap((_, i) => [`${i} whole`, `${i} bytewise`]));
    expect(stderr).toMatch(/heap peak \d+ of \d+ bytes, stack \d+ bytes/);
  });

  it('gives exactly the results V8 gives', () => {
    const bad: string[] = [];
    for (const l of lines) {
      const c = cases[l.i];
      const want = v8Line(v8, c, l.i, l.mode);
      const got = deviceLine(l);
      if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${c.file} ${c.name} [${l.mode}]\n  qemu: ${JSON.stringify(got).slice(0, 600)}\n  v8:   ${JSON.stringify(want).slice(0, 600)}`);
    }
    expect(bad.length, bad.slice(0, 5).join('\n')).toBe(0);
  });
});
