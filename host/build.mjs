#!/usr/bin/env node
// host/build.mjs: compile assembly/ into build/moat.wasm (+ build/moat.wat).
//
//   node host/build.mjs            build if anything in assembly/, asconfig.json
//                                  or this script is newer than build/moat.wasm
//   node host/build.mjs --force    always rebuild
//   node host/build.mjs --no-opt   skip the binaryen wasm-opt pass
//
// Steps:
//   1. AssemblyScript compiler through its JS API, driven by asconfig.json.
//      The compiler's files are captured in memory and only written at the
//      end, so a failed build never leaves a half-written build/moat.wasm.
//   2. The wasm-opt that `jco opt` runs (jco's own binaryen dependency),
//      called directly with an explicit feature set (see WASM_OPT_ARGS).
//      `jco opt` itself (1.35.0) cannot be used: given a core module rather
//      than a component it runs wasm-opt, prints the smaller size, and then
//      writes the *input* bytes back unchanged (its rewrite only splices
//      modules nested in a component). Verified with cmp on build/moat.wasm.
//      The optimized module is kept only if it is smaller, validates under
//      the allowed feature set (wabt) and in V8, and has the same imports,
//      exports, memory and section kinds as the compiler's output.
//   3. build/moat.wat is written from the final binary (wabt), so it always
//      describes the bytes in build/moat.wasm.
//
// Prints one line on stdout (raw + gzip sizes). Compiler warnings go to
// stderr. Exits 1 with the compiler's message when compilation fails.

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { ALLOWED_FEATURES } from "./wasm-features.mjs";

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), "..");
const require = createRequire(import.meta.url);

const WABT_FEATURES = ALLOWED_FEATURES;

// jco opt's default wasm-opt arguments (-Oz --low-memory-unused
// --enable-bulk-memory --strip-debug) are wrong here: bulk memory is
// forbidden, and --low-memory-unused lets binaryen assume addresses below
// 1024 are never touched, which is unsound with asconfig's memoryBase 0.
// wasm-opt enables bulk-memory, reference types, multivalue etc. by default
// when the input has no target_features section, so start from MVP and
// enable exactly the allowed set. (-Oz once measured smallest: --converge
// and -Oz -Oz came out 3 bytes larger, -O3/-O4 larger still.)
// asconfig.json compiles at -O0 so that binaryen's inliner runs only here,
// where -ocimfs caps how large a single-caller function may be and still be
// inlined: unbounded, every parser state handler folded into one 3.8 KB
// feed(), the shape interpreters (wasm3's per-function stack height, WAMR
// classic) handle worst. Capped, the largest function is ~0.4 KB.
const WASM_OPT_ARGS = [
  "-Oz",
  "--one-caller-inline-max-function-size=20",
  "--mvp-features",
  "--enable-mutable-globals",
  "--enable-sign-ext",
  "--enable-nontrapping-float-to-int",
  "--strip-debug",
];

const USAGE = "usage: node host/build.mjs [--force] [--no-opt]";

function fail(message) {
  process.stderr.write(`moat build failed: ${message.trimEnd()}\n`);
  process.exit(1);
}

const argv = process.argv.slice(2);
for (const a of argv) {
  if (a === "-h" || a === "--help") {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (a !== "--force" && a !== "--no-opt") fail(`unknown argument ${a}\n${USAGE}`);
}
const FORCE = argv.includes("--force");
const NO_OPT = argv.includes("--no-opt");

const started = Date.now();
const CONFIG = join(ROOT, "asconfig.json");
const SRC_DIR = join(ROOT, "assembly");

let config;
try {
  config = JSON.parse(readFileSync(CONFIG, "utf8"));
} catch (e) {
  fail(`cannot read ${relative(ROOT, CONFIG)}: ${e.message}`);
}
const OUT_WASM = resolve(ROOT, config?.options?.outFile ?? "build/moat.wasm");
const OUT_WAT = resolve(ROOT, config?.options?.textFile ?? "build/moat.wat");
const show = (p) => relative(ROOT, p) || p;

// ---------------------------------------------------------------- helpers --

const fmt = (n) => n.toLocaleString("en-US");
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const sizes = (buf) => `${fmt(buf.length)} B raw / ${fmt(gz(buf))} B gzip`;

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // catches deleted files
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function writeAtomic(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/** Minimal section walker: [{id, name, start, end}] or throws. */
function sections(buf) {
  const u8 = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (u8.length < 8 || u8[0] !== 0 || u8[1] !== 0x61 || u8[2] !== 0x73 || u8[3] !== 0x6d) {
    throw new Error("not a wasm binary");
  }
  let p = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (p >= u8.length) throw new Error("truncated LEB128");
      const b = u8[p++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error("LEB128 too long");
    }
  };
  const out = [];
  while (p < u8.length) {
    const id = u8[p++];
    const size = leb();
    const start = p;
    const end = p + size;
    if (end > u8.length) throw new Error(`section ${id} overruns the file`);
    let name = "";
    if (id === 0) {
      const n = leb();
      name = Buffer.from(u8.subarray(p, p + n)).toString("utf8");
    }
    out.push({ id, name, start, end });
    p = end;
  }
  return out;
}

/** Shape that must survive optimization unchanged. */
function shape(buf) {
  const wasmModule = new WebAssembly.Module(buf);
  const secs = sections(buf);
  const body = (id) => {
    const s = secs.find((x) => x.id === id);
    return s ? Buffer.from(buf.subarray(s.start, s.end)).toString("hex") : "";
  };
  const exports = WebAssembly.Module.exports(wasmModule).map((e) => `${e.kind}:${e.name}`).sort();
  const imports = WebAssembly.Module.imports(wasmModule).map((i) => `${i.kind}:${i.module}.${i.name}`).sort();
  return {
    ids: [...new Set(secs.filter((s) => s.id !== 0).map((s) => s.id))].sort((x, y) => x - y).join(","),
    memory: body(5),
    exports: exports.join(","),
    imports: imports.join(","),
  };
}

async function loadWabt() {
  const { default: init } = await import("wabt");
  return init();
}

// wabt's JS glue copies `view.buffer.byteLength` bytes from the start of the
// view's ArrayBuffer, ignoring byteOffset/length: a pooled Node Buffer makes
// it read trailing garbage. Always hand it an exact, unshared copy.
const exact = (buf) => new Uint8Array(buf);

/** null if ok, else a reason string. */
function wabtReject(wabt, buf) {
  let m;
  try {
    m = wabt.readWasm(exact(buf), { readDebugNames: false, ...WABT_FEATURES });
    // validate() takes its own feature set; without it wabt validates with
    // its defaults (bulk memory, SIMD, reference types, multi-value on).
    m.validate(WABT_FEATURES);
    return null;
  } catch (e) {
    return String(e?.message ?? e).trim();
  } finally {
    m?.destroy();
  }
}

/** The wasm-opt script `jco opt` spawns: binaryen, resolved from jco. */
function wasmOptPath() {
  const candidates = [];
  try {
    const jcoRequire = createRequire(require.resolve("@bytecodealliance/jco"));
    candidates.push(jcoRequire.resolve("binaryen/bin/wasm-opt"));
  } catch {}
  try {
    candidates.push(require.resolve("binaryen/bin/wasm-opt"));
  } catch {}
  return candidates.find((c) => existsSync(c)) ?? null;
}

function binaryenVersion(wasmOpt) {
  try {
    return JSON.parse(readFileSync(join(dirname(wasmOpt), "..", "package.json"), "utf8")).version.split(".")[0];
  } catch {
    return "?";
  }
}

// ------------------------------------------------------------ up to date? --

if (!existsSync(SRC_DIR)) fail(`${show(SRC_DIR)}/ does not exist`);

if (!FORCE && existsSync(OUT_WASM) && existsSync(OUT_WAT)) {
  const newestInput = Math.max(newestMtime(SRC_DIR), newestMtime(CONFIG), newestMtime(SELF));
  if (statSync(OUT_WASM).mtimeMs > newestInput) {
    const buf = readFileSync(OUT_WASM);
    process.stdout.write(`moat: ${show(OUT_WASM)} up to date, ${sizes(buf)} (--force to rebuild)\n`);
    process.exit(0);
  }
}

// ---------------------------------------------------------------- compile --

let asc;
try {
  ({ default: asc } = await import("assemblyscript/asc"));
} catch (e) {
  fail(`cannot load the AssemblyScript compiler (devDependency "assemblyscript"): ${e.message}`);
}

const emitted = new Map(); // absolute path -> Uint8Array | string
let compilerOutput = "";
const sink = (write) => ({
  write(chunk) {
    write(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  },
});

let result;
try {
  result = await asc.main(["--config", relative(ROOT, CONFIG) || "asconfig.json", "--baseDir", ROOT], {
    stdout: sink((s) => (compilerOutput += s)),
    stderr: sink((s) => (compilerOutput += s)),
    writeFile(filename, contents, baseDir) {
      emitted.set(resolve(baseDir ?? ROOT, filename), contents);
    },
  });
} catch (e) {
  fail(`${compilerOutput}\n${e?.stack ?? e}`);
}
if (result.error) {
  fail(`${compilerOutput || ""}\n${result.error.message ?? result.error}`);
}
if (compilerOutput.trim()) process.stderr.write(compilerOutput.endsWith("\n") ? compilerOutput : `${compilerOutput}\n`);

const rawOut = emitted.get(OUT_WASM);
if (!(rawOut instanceof Uint8Array)) {
  fail(`the compiler reported success but emitted no ${show(OUT_WASM)} (emitted: ${[...emitted.keys()].map(show).join(", ") || "nothing"})`);
}
const raw = Buffer.from(rawOut);

const wabt = await loadWabt();
const rawReject = wabtReject(wabt, raw);
if (rawReject) {
  process.stderr.write(
    `moat build warning: compiler output does not validate under the allowed feature set ` +
      `(mutable-globals, sign-ext, nontrapping-f2i):\n${rawReject}\n`,
  );
}

// ------------------------------------------------------------ wasm-opt ----

let final = raw;
let optNote = "wasm-opt skipped (--no-opt)";
if (!NO_OPT) {
  const wasmOpt = wasmOptPath();
  if (!wasmOpt) {
    optNote = "wasm-opt unavailable";
    process.stderr.write("moat build warning: binaryen wasm-opt (dependency of @bytecodealliance/jco) not found; keeping the compiler output\n");
  } else {
    const label = `wasm-opt ${binaryenVersion(wasmOpt)}`;
    const dir = mkdtempSync(join(tmpdir(), "moat-build-"));
    try {
      const inPath = join(dir, "moat.asc.wasm");
      const outPath = join(dir, "moat.opt.wasm");
      writeFileSync(inPath, raw);
      // Same argument order jco uses: <in> ...args -o <out>.
      const r = spawnSync(process.execPath, [wasmOpt, inPath, ...WASM_OPT_ARGS, "-o", outPath], {
        encoding: "utf8",
        cwd: ROOT,
        timeout: 300_000,
      });
      if (r.status !== 0 || !existsSync(outPath)) {
        const why = (r.error?.message ?? `${r.stderr ?? ""}${r.stdout ?? ""}`).trim() || `exit ${r.status}`;
        optNote = `${label} failed, kept asc output`;
        process.stderr.write(`moat build warning: ${label} failed; keeping the compiler output:\n${why}\n`);
      } else {
        const opt = readFileSync(outPath);
        let reason = null;
        if (opt.length >= raw.length) reason = "not smaller";
        if (!reason) reason = wabtReject(wabt, opt);
        if (!reason && !WebAssembly.validate(opt)) reason = "rejected by WebAssembly.validate";
        if (!reason) {
          let a;
          let b;
          try {
            a = shape(raw);
            b = shape(opt);
          } catch (e) {
            reason = `cannot inspect: ${e.message}`;
          }
          // Sections may only disappear (the -O0 table / element sections do).
          const extra = reason ? [] : b.ids.split(",").filter((id) => !a.ids.split(",").includes(id));
          if (extra.length) reason = `added section ids ${extra.join(",")}`;
          for (const k of ["memory", "exports", "imports"]) {
            if (reason) break;
            if (a[k] !== b[k]) reason = `changed ${k}: ${a[k] || "(none)"} -> ${b[k] || "(none)"}`;
          }
        }
        if (reason) {
          optNote = `asc ${fmt(raw.length)} B, ${label} ${fmt(opt.length)} B ${reason.split("\n")[0]}; kept asc output`;
          if (reason !== "not smaller") {
            process.stderr.write(`moat build warning: ${label} output rejected: ${reason}\n`);
          }
        } else {
          final = opt;
          optNote = `asc ${sizes(raw)} -> ${label} -${fmt(raw.length - opt.length)} B`;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

// ------------------------------------------------------------------ write --

let wat = emitted.get(OUT_WAT);
if (final !== raw || typeof wat !== "string") {
  let m;
  try {
    m = wabt.readWasm(exact(final), { readDebugNames: true, check: false, ...WABT_FEATURES, bulk_memory: true });
    m.generateNames();
    m.applyNames();
    wat = m.toText({ foldExprs: false, inlineExport: false });
  } catch (e) {
    wat = `;; wat unavailable: ${e.message}\n`;
  } finally {
    m?.destroy();
  }
}

for (const [path, contents] of emitted) {
  if (path === OUT_WASM || path === OUT_WAT) continue;
  writeAtomic(path, contents);
}
writeAtomic(OUT_WAT, wat);
writeAtomic(OUT_WASM, final); // last: its mtime marks the build as complete

const secs = ((Date.now() - started) / 1000).toFixed(1);
process.stdout.write(`moat: ${show(OUT_WASM)} ${sizes(final)} (${optNote}) in ${secs}s\n`);
