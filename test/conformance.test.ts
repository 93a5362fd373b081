// HTTP/1.1 request-parser conformance corpus runner.
//
// Loads every test/corpus/*.json5 file (format: test/corpus/README.md), and runs
// each case through the real wasm parser via inspectConnection() five ways:
// the whole input in one feed, one byte per feed, and three seeded random split
// patterns. Every run deep-compares the delivered requests and the error status.
//
// Reproducing a split failure: the failure message prints the seed and the exact
// chunk sizes; set MOAT_CORPUS_SEED=<seed> to re-run with the same base seed, and
// MOAT_CORPUS_ONLY=<case-name> to run a single case.
//
// Every engine: the same corpus also runs in every mode on the board simulators (wasm3,
// WAMR fast and classic interpreters: host/engines.ts, boards/), and each result must equal both the
// expectation and V8's result for the same input. MOAT_ENGINES=wasm3,wamr-fast picks engines
// (MOAT_ENGINES=none skips them); MOAT_ENGINE_MODES=whole,bytewise picks modes (default: all five).
// MOAT_ENGINE_VERIFY=1 also checks after every feed that the window the simulator holds is the host's.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMoat } from '../host/module.ts';
import { loadEngine, ensureSimulator, SIM_ENGINE_NAMES, type EngineMoat } from '../host/engines.ts';
import { inspectConnection, type InspectResult } from '../host/inspect.ts';

const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const MIN_CASES = 180;
const BASE_SEED = process.env.MOAT_CORPUS_SEED !== undefined
  ? Number(process.env.MOAT_CORPUS_SEED) >>> 0
  : 0x6d6f6174; // "moat"
const ONLY = process.env.MOAT_CORPUS_ONLY;
const ENGINES = (process.env.MOAT_ENGINES ?? SIM_ENGINE_NAMES.join(',')).split(',').filter((e) => e && e !== 'none');
const ENGINE_MODES = (process.env.MOAT_ENGINE_MODES ?? 'whole,bytewise,split1,split2,split3').split(',');
for (const e of ENGINES) if (!(SIM_ENGINE_NAMES as readonly string[]).includes(e)) throw new Error(`MOAT_ENGINES: unknown engine ${e}`);

// ---------------------------------------------------------------------------
// Corpus schema

/** A latin-1 text: a plain string, or a list of parts concatenated. */
type Part = string | { repeat: string; times: number };
type Text = string | Part[];
type FieldIn = [Text, Text] | { repeat: [Text, Text]; times: number };
type LimitsIn = {
  uri_bytes?: number;
  header_bytes?: number;
  header_count?: number;
  body_bytes?: number;
  chunk_ext_bytes?: number;
};
type ReqIn = {
  method: Text;
  target: Text;
  version: '1.0' | '1.1';
  headers: FieldIn[];
  body?: Text;
  trailers?: FieldIn[];
  keep_alive: boolean;
};
type CaseIn = {
  name: string;
  note?: string;
  raw: Text;
  limits?: LimitsIn;
  expect: { requests: ReqIn[]; error: null | { status: number | null } };
};

type ReqNorm = {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: string;
  trailers: [string, string][];
  keep_alive: boolean;
};
type ResultNorm = { requests: ReqNorm[]; error: null | { status: number | null } };
type Case = {
  file: string;
  name: string;
  raw: Uint8Array;
  limits?: LimitsIn;
  expected: ResultNorm;
};

const CASE_KEYS = new Set(['name', 'note', 'raw', 'limits', 'expect']);
const EXPECT_KEYS = new Set(['requests', 'error']);
const REQ_KEYS = new Set(['method', 'target', 'version', 'headers', 'body', 'trailers', 'keep_alive']);
const REQ_REQUIRED = ['method', 'target', 'version', 'headers', 'keep_alive'];
const LIMIT_KEYS = new Set(['uri_bytes', 'header_bytes', 'header_count', 'body_bytes', 'chunk_ext_bytes']);

function fail(where: string, msg: string): never {
  throw new Error(`corpus ${where}: ${msg}`);
}

function checkKeys(where: string, obj: unknown, allowed: Set<string>, required: string[] = []): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail(where, 'expected an object');
  for (const k of Object.keys(obj as object)) if (!allowed.has(k)) fail(where, `unknown key "${k}"`);
  for (const k of required) if (!(k in (obj as object))) fail(where, `missing key "${k}"`);
}

function text(where: string, t: unknown): string {
  if (typeof t === 'string') return latin1Check(where, t);
  if (!Array.isArray(t)) fail(where, 'expected a string or a list of parts');
  let out = '';
  for (const p of t) {
    if (typeof p === 'string') out += p;
    else if (p && typeof p === 'object' && typeof p.repeat === 'string' && Number.isInteger(p.times) && p.times >= 0
      && Object.keys(p).length === 2) out += p.repeat.repeat(p.times);
    else fail(where, `bad text part ${JSON.stringify(p)}`);
  }
  return latin1Check(where, out);
}

function latin1Check(where: string, s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) fail(where, `non-latin-1 char at ${i}`);
  }
  return s;
}

function fields(where: string, list: unknown): [string, string][] {
  if (!Array.isArray(list)) fail(where, 'expected a list of fields');
  const out: [string, string][] = [];
  for (const f of list) {
    if (Array.isArray(f)) {
      if (f.length !== 2) fail(where, `field must be [name, value]: ${JSON.stringify(f)}`);
      out.push([text(where, f[0]), text(where, f[1])]);
    } else if (f && typeof f === 'object' && Array.isArray(f.repeat) && Number.isInteger(f.times)
      && Object.keys(f).length === 2) {
      const [n, v] = fields(where, [f.repeat])[0];
      for (let i = 0; i < f.times; i++) out.push([n, v]);
    } else fail(where, `bad field ${JSON.stringify(f)}`);
  }
  return out;
}

function toBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function normalizeCase(file: string, c: CaseIn, index: number): Case {
  const where0 = `${file}[${index}]`;
  checkKeys(where0, c, CASE_KEYS, ['name', 'raw', 'expect']);
  if (typeof c.name !== 'string' || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(c.name)) fail(where0, `name must be kebab-case: ${c.name}`);
  const where = `${file}:${c.name}`;
  if (c.note !== undefined && typeof c.note !== 'string') fail(where, 'note must be a string');
  if (c.limits !== undefined) {
    checkKeys(`${where} limits`, c.limits, LIMIT_KEYS);
    for (const [k, v] of Object.entries(c.limits)) {
      if (!Number.isInteger(v) || (v as number) < 1) fail(where, `limit ${k} must be a positive integer`);
    }
  }
  checkKeys(`${where} expect`, c.expect, EXPECT_KEYS, ['requests', 'error']);
  const e = c.expect;
  if (!Array.isArray(e.requests)) fail(where, 'expect.requests must be a list');
  let error: ResultNorm['error'] = null;
  if (e.error !== null) {
    checkKeys(`${where} expect.error`, e.error, new Set(['status']), ['status']);
    const st = e.error.status;
    if (!(st === null || (Number.isInteger(st) && st >= 400 && st <= 599))) fail(where, `bad error status ${st}`);
    error = { status: st };
  }
  // A requests element may be { repeat: {...request...}, times: n }: n copies of that request.
  const reqList: ReqIn[] = [];
  for (const r of e.requests as unknown[]) {
    const o = r as { repeat?: unknown; times?: unknown };
    if (o && typeof o === 'object' && 'repeat' in o) {
      if (Object.keys(o).length !== 2 || !Number.isInteger(o.times) || (o.times as number) < 0) fail(where, 'bad request repeat');
      for (let k = 0; k < (o.times as number); k++) reqList.push(o.repeat as ReqIn);
    } else reqList.push(r as ReqIn);
  }
  const requests = reqList.map((r, i): ReqNorm => {
    const w = `${where} requests[${i}]`;
    checkKeys(w, r, REQ_KEYS, REQ_REQUIRED);
    if (r.version !== '1.0' && r.version !== '1.1') fail(w, `bad version ${r.version}`);
    if (typeof r.keep_alive !== 'boolean') fail(w, 'keep_alive must be boolean');
    return {
      method: text(w, r.method),
      target: text(w, r.target),
      version: r.version,
      headers: fields(w, r.headers),
      body: r.body === undefined ? '' : text(w, r.body),
      trailers: r.trailers === undefined ? [] : fields(w, r.trailers),
      keep_alive: r.keep_alive,
    };
  });
  return { file, name: c.name, raw: toBytes(text(`${where} raw`, c.raw)), limits: c.limits, expected: { requests, error } };
}

function loadCorpus(): Case[] {
  const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json5')).sort();
  const cases: Case[] = [];
  for (const file of files) {
    const parsed: unknown = JSON5.parse(readFileSync(join(CORPUS_DIR, file), 'utf8'));
    if (!Array.isArray(parsed)) fail(file, 'top level must be an array of cases');
    parsed.forEach((c, i) => cases.push(normalizeCase(file, c as CaseIn, i)));
  }
  return cases;
}

// ---------------------------------------------------------------------------
// Running

/** mulberry32: tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Split `len` bytes into random feed sizes; pattern k uses a different granularity. */
function splitPattern(len: number, seed: number, k: number): number[] {
  const rnd = prng(seed);
  const maxChunk = [3, 17, Math.max(1, Math.ceil(len / 3))][k % 3];
  const out: number[] = [];
  let left = len;
  while (left > 0) {
    const n = Math.min(left, 1 + Math.floor(rnd() * maxChunk));
    out.push(n);
    left -= n;
  }
  return out;
}

function latin1FromB64(b64: string): string {
  return Buffer.from(b64, 'base64').toString('latin1');
}

type Mode = { label: string; opts: { chunks?: number[]; bytewise?: boolean }; info: string };

function modesFor(c: Case): Mode[] {
  const modes: Mode[] = [
    { label: 'whole', opts: {}, info: 'whole input in one feed' },
    { label: 'bytewise', opts: { bytewise: true }, info: 'one byte per feed' },
  ];
  for (let k = 0; k < 3; k++) {
    const seed = (fnv1a(c.name) ^ BASE_SEED ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0;
    const chunks = splitPattern(c.raw.length, seed, k);
    modes.push({
      label: `split${k + 1}`,
      opts: { chunks },
      info: `MOAT_CORPUS_SEED=${BASE_SEED} pattern=${k + 1} seed=${seed} chunks=${JSON.stringify(chunks)}`,
    });
  }
  return modes;
}

function normalizeResult(res: InspectResult): ResultNorm {
  const requests: ReqNorm[] = res.requests.map((r) => ({
    method: r.method,
    target: r.target,
    version: r.version,
    headers: r.headers,
    body: latin1FromB64(r.body_b64),
    trailers: r.trailers,
    keep_alive: r.keep_alive,
  }));
  const error = res.error === null ? null : { status: res.error.status };
  return { requests, error };
}

function show(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\u00ff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16)}`);
}

// ---------------------------------------------------------------------------

const allCases = loadCorpus();
const cases = ONLY ? allCases.filter((c) => c.name === ONLY) : allCases;

describe('conformance corpus', () => {
  it('has unique case names and enough cases', () => {
    const seen = new Map<string, string>();
    for (const c of allCases) {
      expect(seen.has(c.name), `duplicate case name ${c.name} in ${c.file} and ${seen.get(c.name)}`).toBe(false);
      seen.set(c.name, c.file);
    }
    expect(allCases.length).toBeGreaterThanOrEqual(MIN_CASES);
    if (ONLY) expect(cases.length, `MOAT_CORPUS_ONLY=${ONLY} matched no case`).toBe(1);
  });

  let moat: Awaited<ReturnType<typeof loadMoat>>;
  beforeAll(async () => {
    moat = await loadMoat();
  });

  for (const c of cases) {
    describe(`${c.file} ${c.name}`, () => {
      for (const mode of modesFor(c)) {
        it(mode.label, async () => {
          const res = await inspectConnection(moat, c.raw, { ...(c.limits ? { limits: c.limits } : {}), ...mode.opts });
          const got = normalizeResult(res);
          const raw = Buffer.from(c.raw).toString('latin1');
          const msg = `case ${c.name} (${c.file}) [${mode.label}: ${mode.info}]\n` +
            `raw=${raw.length > 400 ? show(raw.slice(0, 400)) + `... (${raw.length} bytes)` : show(raw)}` +
            (c.limits ? `\nlimits=${JSON.stringify(c.limits)}` : '');
          expect(got, msg).toEqual(c.expected);
        });
      }
    });
  }
});

// The same corpus on the board simulators; results must be identical to V8's.
for (const engine of ENGINES as (typeof SIM_ENGINE_NAMES)[number][]) {
  describe(`conformance corpus on ${engine}`, () => {
    let moat: EngineMoat;
    let v8: Awaited<ReturnType<typeof loadMoat>>;
    beforeAll(async () => {
      await ensureSimulator(engine);    // built by `npm test` already; builds here when run alone
      moat = await loadEngine(engine);
      v8 = await loadMoat();
    }, 300_000);
    afterAll(() => moat?.dispose());

    for (const c of cases) {
      it(`${c.file} ${c.name}`, () => {
        for (const mode of modesFor(c).filter((m) => ENGINE_MODES.includes(m.label))) {
          const opts = { ...(c.limits ? { limits: c.limits } : {}), ...mode.opts };
          const got = normalizeResult(inspectConnection(moat, c.raw, opts));
          const ref = normalizeResult(inspectConnection(v8, c.raw, opts));
          const msg = `case ${c.name} (${c.file}) on ${engine} [${mode.label}: ${mode.info}]`;
          expect(got, `${msg}: differs from V8`).toEqual(ref);
          expect(got, `${msg}: differs from the expectation`).toEqual(c.expected);
        }
      });
    }
  });
}
