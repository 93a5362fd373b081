// Format checks on the built module (build/moat.wasm, or $MOAT_WASM), with
// real Wasm parsers: wabt (restricted feature set), our own section/opcode
// decoder (test/helpers/wasm-check.ts) and wasm-tools via `jco print` /
// `jco metadata-show`. The second half runs the same checker on hand-made
// modules that break each rule, so every assertion is known to be able to fail.
//
// Build first: `npm run build` (or `node host/build.mjs --force`).

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ALLOWED_FEATURES,
  MAX_MODULE_BYTES,
  type Rule,
  type Violation,
  type WasmCheckResult,
  checkWasm,
  floatTokensInText,
  formatViolations,
  getWabt,
  summarize,
  validateWith,
  watToWasm,
} from "./helpers/wasm-check.js";
import { insertSection, sectionIds, walkSections } from "./helpers/wasm-sections.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WASM_PATH = process.env.MOAT_WASM ? resolve(process.env.MOAT_WASM) : join(ROOT, "build", "moat.wasm");
const require = createRequire(import.meta.url);
const JCO = join(dirname(require.resolve("@bytecodealliance/jco")), "jco.js");

function jco(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [JCO, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const ofRule = (violations: readonly Violation[], ...rules: Rule[]) => violations.filter((v) => rules.includes(v.rule));

describe(`module format of ${WASM_PATH.startsWith(ROOT) ? WASM_PATH.slice(ROOT.length + 1) : WASM_PATH}`, () => {
  let bytes: Uint8Array;
  let result: WasmCheckResult;

  beforeAll(async () => {
    if (!existsSync(WASM_PATH)) {
      throw new Error(`${WASM_PATH} does not exist: run \`npm run build\` first`);
    }
    bytes = new Uint8Array(readFileSync(WASM_PATH));
    result = await checkWasm(bytes);
    console.log(`[module-format] ${summarize(result.info)}`);
    if (result.violations.length) console.log(`[module-format] violations:\n${formatViolations(result.violations)}`);
  });

  const expectNone = (...rules: Rule[]) => {
    const found = ofRule(result.violations, ...rules);
    expect(found, formatViolations(found)).toEqual([]);
  };

  it("is a well-formed core module", () => {
    expectNone("binary");
    expect(walkSections(bytes).length).toBeGreaterThan(0);
  });

  it("validates in wabt with only mutable-globals, sign-extension and sat-float-to-int", async () => {
    expectNone("validate");
    // and directly, not through the checker
    const wabt = await getWabt();
    const m = wabt.readWasm(new Uint8Array(bytes), { readDebugNames: false, ...ALLOWED_FEATURES });
    try {
      expect(() => validateWith(m, ALLOWED_FEATURES)).not.toThrow();
    } finally {
      m.destroy();
    }
    expect(WebAssembly.validate(new Uint8Array(bytes))).toBe(true);
  });

  it("uses no other post-MVP feature (decoded opcodes, types, segments)", () => {
    expectNone("feature");
  });

  it("has zero imports", () => {
    expectNone("imports");
    expect(WebAssembly.Module.imports(new WebAssembly.Module(new Uint8Array(bytes)))).toEqual([]);
  });

  it('has exactly one memory, exported as "memory"', () => {
    expectNone("memory", "memory-export");
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(new Uint8Array(bytes)));
    expect(exports).toContainEqual({ name: "memory", kind: "memory" });
    expect(exports.filter((e) => e.kind === "memory")).toHaveLength(1);
  });

  it("has a fixed-size memory (min == max)", () => {
    expectNone("memory-fixed");
    const mem = result.info.memories[0]!;
    console.log(`[module-format] memory: ${mem.minPages} page(s) = ${mem.minPages * 65536} bytes, max ${mem.maxPages}`);
    expect(mem.maxPages).toBe(mem.minPages);
    // the running instance agrees
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {});
    const memory = instance.exports.memory as WebAssembly.Memory;
    expect(memory.buffer.byteLength).toBe(mem.minPages * 65536);
    expect(() => memory.grow(1)).toThrow(RangeError);
  });

  it("has no memory.grow", () => {
    expectNone("memory-grow");
  });

  it("has no DataCount section (id 12)", () => {
    expectNone("datacount");
    expect(sectionIds(bytes)).not.toContain(12);
  });

  it("has no start section that needs imports", () => {
    expectNone("start");
    if (result.info.startFunction !== null) console.log(`[module-format] start section: func ${result.info.startFunction}`);
  });

  it("has no floating point at all (types, params, locals, globals, opcodes)", () => {
    expectNone("float");
  });

  it(`is at most ${MAX_MODULE_BYTES} bytes raw`, () => {
    expectNone("size");
    expect(bytes.length).toBeLessThanOrEqual(MAX_MODULE_BYTES);
    console.log(
      `[module-format] size: ${bytes.length} B raw, ${result.info.gzipBytes} B gzip, ${MAX_MODULE_BYTES - bytes.length} B under budget`,
    );
  });

  it("passes every rule", () => {
    expect(result.violations, formatViolations(result.violations)).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("is read by a second parser: jco print (wasm-tools)", () => {
    const r = jco("print", WASM_PATH);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimStart().startsWith("(module")).toBe(true);
    expect(r.stdout).toMatch(/\(export "memory" \(memory 0\)\)/);
    expect(r.stdout).not.toMatch(/\(import /);
    expect(r.stdout).not.toMatch(/\bmemory\.grow\b/);
    const floats = floatTokensInText(r.stdout);
    expect([...floats.keys()], "float tokens in wasm-tools text").toEqual([]);
  });

  it("is read by a second parser: jco metadata-show (wasm-tools)", () => {
    const plain = jco("metadata-show", WASM_PATH);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/\[module\]/);
    const json = jco("metadata-show", "--json", WASM_PATH);
    expect(json.status, json.stderr).toBe(0);
    const meta = JSON.parse(json.stdout) as { metaType: { tag: string }; range: [number, number] }[];
    expect(meta).toHaveLength(1);
    expect(meta[0]!.metaType.tag).toBe("module");
    expect(meta[0]!.range).toEqual([0, bytes.length]);
  });
});

// --------------------------------------------------------------------------
// Negative self-test: hand-made modules, each breaking rules on purpose.

const GOOD = `(module
  (memory (export "memory") 1 1)
  (global $g (mut i32) (i32.const 0))
  (data (i32.const 16) "GET ")
  (func $init (global.set $g (i32.const 1)))
  (start $init)
  (func (export "peek") (param i32) (result i32)
    (i32.extend8_s (i32.load8_u (local.get 0)))))`;

/** GOOD with its body swapped for `body` and extra module fields. */
const variant = (fields: string, opts: { memory?: string; body?: string; start?: boolean } = {}) => `(module
  ${fields}
  ${opts.memory ?? '(memory (export "memory") 1 1)'}
  (global $g (mut i32) (i32.const 0))
  (func $init (global.set $g (i32.const 1)))
  ${opts.start === false ? "" : "(start $init)"}
  (func (export "f") (param i32) (result i32)
    ${opts.body ?? "(local.get 0)"}))`;

interface Case {
  name: string;
  wat: string;
  /** Exactly the set of rules the checker must report. */
  rules: Rule[];
  /** A violation message that must appear. */
  message?: RegExp;
  features?: Partial<Record<keyof typeof ALLOWED_FEATURES, boolean>>;
  maxBytes?: number;
}

const CASES: Case[] = [
  {
    name: "an import",
    wat: variant('(import "env" "log" (func $log (param i32)))'),
    rules: ["imports"],
    message: /"env" "log"/,
  },
  {
    name: "a memory with no maximum",
    wat: variant("", { memory: '(memory (export "memory") 1)' }),
    rules: ["memory-fixed"],
    message: /no maximum/,
  },
  {
    name: "a memory with max > min",
    wat: variant("", { memory: '(memory (export "memory") 1 2)' }),
    rules: ["memory-fixed"],
    message: /min 1 != max 2/,
  },
  {
    name: "memory.grow",
    wat: variant("", { body: "(memory.grow (local.get 0))" }),
    rules: ["memory-grow"],
  },
  {
    name: "a float instruction",
    wat: variant("", { body: "(i32.trunc_f32_s (f32.add (f32.convert_i32_s (local.get 0)) (f32.const 0.5)))" }),
    rules: ["float"],
    message: /f32\.add/,
  },
  {
    name: "a float-to-int saturating op",
    wat: variant("", { body: "(i32.trunc_sat_f64_u (f64.reinterpret_i64 (i64.extend_i32_u (local.get 0))))" }),
    rules: ["float"],
    message: /i32\.trunc_sat_f64_u/,
  },
  {
    name: "an f64 param",
    wat: variant('(func (export "g") (param f64) (result i32) (i32.const 0))'),
    rules: ["float"],
    message: /param 0 has type f64/,
  },
  {
    name: "an f32 local",
    wat: variant('(func (export "g") (result i32) (local f32) (i32.const 0))'),
    rules: ["float"],
    message: /locals .* has type f32/,
  },
  {
    name: "an f64 global",
    wat: variant("(global $fg f64 (f64.const 1.5))"),
    rules: ["float"],
    message: /global 0 has type f64/,
  },
  {
    name: "a float load feeding nothing but drop",
    wat: variant("", { body: "(drop (f64.load (local.get 0))) (local.get 0)" }),
    rules: ["float"],
    message: /f64\.load/,
  },
  {
    name: "a bulk-memory op (memory.copy)",
    wat: variant("", { body: "(memory.copy (local.get 0) (i32.const 0) (i32.const 4)) (local.get 0)" }),
    rules: ["validate", "feature"],
    message: /memory\.copy .*bulk-memory/,
  },
  {
    name: "a bulk-memory op (memory.fill)",
    wat: variant("", { body: "(memory.fill (local.get 0) (i32.const 0) (i32.const 4)) (local.get 0)" }),
    rules: ["validate", "feature"],
    message: /memory\.fill .*bulk-memory/,
  },
  {
    name: "a DataCount section (via data.drop)",
    wat: variant('(data $d "abc")', { body: "(data.drop $d) (local.get 0)" }),
    rules: ["validate", "feature", "datacount"],
    message: /DataCount/,
  },
  {
    name: "SIMD",
    wat: variant("", { body: "(i32x4.extract_lane 0 (i32x4.splat (local.get 0)))" }),
    rules: ["validate", "feature"],
    message: /simd/,
  },
  {
    name: "multi-value",
    wat: variant('(func (export "two") (result i32 i32) (i32.const 1) (i32.const 2))'),
    rules: ["validate", "feature"],
    message: /multi-value/,
  },
  {
    name: "reference types",
    wat: variant('(func (export "r") (param externref) (result i32) (i32.const 0))'),
    rules: ["validate", "feature"],
    message: /externref/,
  },
  {
    name: "a shared memory",
    wat: variant("", { memory: '(memory (export "memory") 1 1 shared)' }),
    rules: ["validate", "feature"],
    message: /shared \(threads\)/,
    features: { threads: true },
  },
  {
    name: "no memory",
    wat: variant("", { memory: "" }),
    rules: ["memory"],
  },
  {
    name: "a memory exported under another name",
    wat: variant("", { memory: '(memory (export "mem") 1 1)' }),
    rules: ["memory-export"],
    message: /exported as "mem"/,
  },
  {
    name: "a start function that calls an import",
    wat: variant('(import "env" "init" (func $imp)) (func $boot (call $imp)) (start $boot)', { start: false }),
    rules: ["imports", "start"],
    message: /calls import\(s\) env\.init/,
  },
  {
    name: "a module over the size budget",
    wat: GOOD,
    rules: ["size"],
    maxBytes: 32,
  },
];

describe("checker self-test on hand-made modules", () => {
  it("accepts a conforming module (no false positives)", async () => {
    const r = await checkWasm(await watToWasm(GOOD));
    expect(r.violations, formatViolations(r.violations)).toEqual([]);
    expect(r.info.memoryPages).toBe(1);
    expect(r.info.startFunction).not.toBeNull();
    // and the variant template itself is clean too
    const v = await checkWasm(await watToWasm(variant("")));
    expect(v.violations, formatViolations(v.violations)).toEqual([]);
  });

  for (const c of CASES) {
    it(`reports ${c.name}`, async () => {
      const wasm = await watToWasm(c.wat, c.features);
      const r = await checkWasm(wasm, c.maxBytes === undefined ? {} : { maxBytes: c.maxBytes });
      const rules = [...new Set(r.violations.map((v) => v.rule))].sort();
      expect(rules, formatViolations(r.violations)).toEqual([...c.rules].sort());
      if (c.message) expect(r.violations.map((v) => v.message).join("\n")).toMatch(c.message);
      expect(r.ok).toBe(false);
    });
  }

  it("reports a DataCount section spliced into an otherwise clean module", async () => {
    const good = await watToWasm(GOOD);
    // DataCount goes after element/start sections, before code (id 10).
    const bad = insertSection(good, 12, Uint8Array.of(1), [10, 11]);
    expect(sectionIds(bad)).toContain(12);
    const r = await checkWasm(bad);
    const rules = [...new Set(r.violations.map((v) => v.rule))].sort();
    // wabt refuses section 12 without bulk memory; our walker names it.
    expect(rules, formatViolations(r.violations)).toEqual(["datacount", "validate"]);
  });

  it("reports a float hidden only in a block type", async () => {
    const wasm = await watToWasm(variant("", { body: "(drop (block (result f32) (f32.const 1))) (local.get 0)" }));
    const r = await checkWasm(wasm);
    expect(r.violations.map((v) => v.message).join("\n")).toMatch(/block type in func \d+ has type f32/);
  });

  it("reports garbage and components as not a core module", async () => {
    const garbage = await checkWasm(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    expect(garbage.violations.map((v) => v.rule)).toContain("binary");
    const component = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00);
    const c = await checkWasm(component);
    expect(c.violations.map((v) => v.message).join("\n")).toMatch(/component/);
  });

  it("finds float tokens in WAT text but not in strings, comments or $names", () => {
    const text = `(module (;f32.add;) ;; f64.mul\n (func $f32_thing (param f32) (result i32) f32.const 1 i32.trunc_f32_s) (data "f64.add"))`;
    expect(Object.fromEntries(floatTokensInText(text))).toEqual({ f32: 1, "f32.const": 1, "i32.trunc_f32_s": 1 });
  });

  it("jco print / metadata-show fail on a non-module (the cross-check can fail)", () => {
    const dir = mkdtempSync(join(tmpdir(), "moat-format-"));
    try {
      const path = join(dir, "bad.wasm");
      writeFileSync(path, "not wasm");
      expect(jco("print", path).status).not.toBe(0);
      expect(jco("metadata-show", path).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("jco print shows the float op that the checker reports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "moat-format-"));
    try {
      const path = join(dir, "float.wasm");
      writeFileSync(path, await watToWasm(variant("", { body: "(i32.trunc_f32_s (f32.const 2.5))" })));
      const out = execFileSync(process.execPath, [JCO, "print", path], { encoding: "utf8" });
      expect([...floatTokensInText(out).keys()]).toEqual(expect.arrayContaining(["f32.const", "i32.trunc_f32_s"]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
