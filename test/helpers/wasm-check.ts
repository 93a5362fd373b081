// Module-format checker for build/moat.wasm, reusable from tests and benches.
//
//   const { violations, info } = await checkWasm(bytes);
//
// Rules (Violation.rule):
//   binary         malformed binary, or not a core module (a component, ...)
//   validate       wabt rejects it with only mutable-globals, sign-extension
//                  and sat-float-to-int enabled (readWasm + validate)
//   feature        decoded use of any other post-MVP feature (bulk memory,
//                  SIMD, reference types, multi-value, threads, tail calls,
//                  exceptions, memory64, multi-memory, extended-const, GC)
//   imports        any import at all
//   memory         not exactly one memory
//   memory-export  memory 0 not exported as "memory"
//   memory-fixed   memory min != max (or no max): the memory could grow
//   memory-grow    a memory.grow instruction
//   datacount      a DataCount section (id 12)
//   start          a start section whose function can reach an import
//   float          any f32/f64: types, params/results, locals, globals, block
//                  types or instructions (decoded opcodes, cross-checked on
//                  wabt's text output token by token)
//   size           more than maxBytes (default 16384) bytes
//
// The opcode decoder is our own (see wasm-sections.ts for the reader), so a
// bug in wabt does not hide a violation and vice versa.

import { gzipSync } from "node:zlib";
import wabtInit from "wabt";
import { ALLOWED_FEATURES } from "../../host/wasm-features.mjs";
import { SECTION_NAMES, WasmFormatError, WasmReader, walkSections } from "./wasm-sections.js";

/** The raw-size budget for build/moat.wasm, in bytes. */
export const MAX_MODULE_BYTES = 16384;

/** Exactly the wabt feature set the module must validate under (shared with the build). */
export { ALLOWED_FEATURES };

export type Rule =
  | "binary"
  | "validate"
  | "feature"
  | "imports"
  | "memory"
  | "memory-export"
  | "memory-fixed"
  | "memory-grow"
  | "datacount"
  | "start"
  | "float"
  | "size";

export interface Violation {
  rule: Rule;
  message: string;
  /** Byte offset in the module, when known. */
  offset?: number;
}

export interface MemoryInfo {
  imported: boolean;
  minPages: number;
  maxPages: number | null;
  shared: boolean;
  memory64: boolean;
  exportedAs: string[];
}

export interface WasmCheckInfo {
  bytes: number;
  gzipBytes: number;
  maxBytes: number;
  /** Section kinds in file order; custom sections as "custom:NAME". */
  sections: string[];
  imports: string[];
  exports: { name: string; kind: string; index: number }[];
  memories: MemoryInfo[];
  /** Initial pages of memory 0 (null without a memory). */
  memoryPages: number | null;
  /** Defined (non-imported) functions. */
  functions: number;
  /** Decoded instructions in all function bodies. */
  instructions: number;
  startFunction: number | null;
}

export interface WasmCheckResult {
  ok: boolean;
  violations: Violation[];
  info: WasmCheckInfo;
}

export interface WasmCheckOptions {
  /** Raw-size budget in bytes (default MAX_MODULE_BYTES). */
  maxBytes?: number;
}

// ------------------------------------------------------------------ wabt ---

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabtPromise: Promise<Wabt> | undefined;
export function getWabt(): Promise<Wabt> {
  wabtPromise ??= wabtInit();
  return wabtPromise;
}

/**
 * wabt's JS glue reads `view.buffer.byteLength` bytes from the start of the
 * view's ArrayBuffer (ignoring byteOffset/length), so a pooled Node Buffer or
 * a subarray makes it parse garbage. Always pass an exact, unshared copy.
 */
export function exactBytes(buf: Uint8Array | ArrayBuffer): Uint8Array {
  return new Uint8Array(buf instanceof ArrayBuffer ? buf.slice(0) : buf);
}

type WabtModule = ReturnType<Wabt["readWasm"]>;

/**
 * Validate with an explicit feature set. wabt's `validate()` takes its own
 * feature options (missing from its .d.ts) and, when called without them,
 * validates with wabt's *defaults* (bulk memory, SIMD, reference types and
 * multi-value on), whatever features `readWasm` was given. The reader only
 * rejects unknown opcodes; e.g. a two-result function type passes
 * readWasm(multi_value: false) + validate() unless validate gets the features.
 */
export function validateWith(m: WabtModule, features: Partial<Record<keyof typeof ALLOWED_FEATURES, boolean>>): void {
  (m.validate as (options?: object) => void).call(m, features);
}

/** Assemble WAT with wabt (features default to wabt's defaults). */
export async function watToWasm(text: string, features: Partial<Record<keyof typeof ALLOWED_FEATURES, boolean>> = {}): Promise<Uint8Array> {
  const wabt = await getWabt();
  const m = wabt.parseWat("inline.wat", text, features);
  try {
    m.resolveNames();
    validateWith(m, features);
    return exactBytes(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

// ------------------------------------------------------------- opcodes ---

const OPCODE_ROWS = [
  "unreachable nop block loop if else try catch throw rethrow throw_ref end br br_if br_table return",
  "call call_indirect return_call return_call_indirect call_ref return_call_ref - - delegate catch_all drop select select_t - - try_table",
  "local.get local.set local.tee global.get global.set table.get table.set - i32.load i64.load f32.load f64.load i32.load8_s i32.load8_u i32.load16_s i32.load16_u",
  "i64.load8_s i64.load8_u i64.load16_s i64.load16_u i64.load32_s i64.load32_u i32.store i64.store f32.store f64.store i32.store8 i32.store16 i64.store8 i64.store16 i64.store32 memory.size",
  "memory.grow i32.const i64.const f32.const f64.const i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u",
  "i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u f32.eq f32.ne f32.lt f32.gt f32.le",
  "f32.ge f64.eq f64.ne f64.lt f64.gt f64.le f64.ge i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s",
  "i32.rem_u i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr i64.clz i64.ctz i64.popcnt i64.add i64.sub i64.mul i64.div_s",
  "i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr f32.abs f32.neg f32.ceil f32.floor f32.trunc",
  "f32.nearest f32.sqrt f32.add f32.sub f32.mul f32.div f32.min f32.max f32.copysign f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt",
  "f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign i32.wrap_i64 i32.trunc_f32_s i32.trunc_f32_u i32.trunc_f64_s i32.trunc_f64_u i64.extend_i32_s i64.extend_i32_u i64.trunc_f32_s i64.trunc_f32_u",
  "i64.trunc_f64_s i64.trunc_f64_u f32.convert_i32_s f32.convert_i32_u f32.convert_i64_s f32.convert_i64_u f32.demote_f64 f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u f64.promote_f32 i32.reinterpret_f32 i64.reinterpret_f64 f32.reinterpret_i32 f64.reinterpret_i64",
  "i32.extend8_s i32.extend16_s i64.extend8_s i64.extend16_s i64.extend32_s",
];
const OPCODE_NAMES: readonly string[] = OPCODE_ROWS.flatMap((row, i) => {
  const names = row.split(" ");
  if (names.length !== (i < OPCODE_ROWS.length - 1 ? 16 : 5)) throw new Error(`opcode table row ${i} is malformed`);
  return names;
});

const FC_NAMES = [
  "i32.trunc_sat_f32_s",
  "i32.trunc_sat_f32_u",
  "i32.trunc_sat_f64_s",
  "i32.trunc_sat_f64_u",
  "i64.trunc_sat_f32_s",
  "i64.trunc_sat_f32_u",
  "i64.trunc_sat_f64_s",
  "i64.trunc_sat_f64_u",
  "memory.init",
  "data.drop",
  "memory.copy",
  "memory.fill",
  "table.init",
  "elem.drop",
  "table.copy",
  "table.grow",
  "table.size",
  "table.fill",
];

/** Proposal of an opcode this checker does not allow (cannot decode further). */
const DISALLOWED_OPCODE: Record<number, string> = {
  0x06: "exceptions",
  0x07: "exceptions",
  0x08: "exceptions",
  0x09: "exceptions",
  0x0a: "exceptions",
  0x12: "tail-call",
  0x13: "tail-call",
  0x14: "function-references",
  0x15: "function-references",
  0x18: "exceptions",
  0x19: "exceptions",
  0x1f: "exceptions",
  0x25: "reference-types",
  0x26: "reference-types",
  0xd0: "reference-types",
  0xd1: "reference-types",
  0xd2: "reference-types",
  0xd3: "function-references",
  0xd4: "function-references",
  0xd5: "function-references",
  0xd6: "function-references",
  0xfb: "gc",
  0xfd: "simd",
  0xfe: "threads",
};

/** True for any f32/f64 type name, instruction name or WAT token. */
export function isFloatName(token: string): boolean {
  return /(^|[._])f(32|64)([._]|$)/.test(token);
}

/**
 * Float tokens in a WAT text (wabt or wasm-tools output), token by token:
 * strings, comments and $names are skipped. Returns token -> count.
 */
export function floatTokensInText(text: string): Map<string, number> {
  const found = new Map<string, number>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ";" && text[i + 1] === ";") {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === "(" && text[i + 1] === ";") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === "(" && text[i + 1] === ";") {
          depth++;
          i += 2;
        } else if (text[i] === ";" && text[i + 1] === ")") {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
    } else if (c === "(" || c === ")" || /\s/.test(c)) {
      i++;
    } else {
      const start = i;
      while (i < n && !/[\s()"]/.test(text[i]!) && !(text[i] === ";" && text[i + 1] === ";")) i++;
      const token = text.slice(start, i);
      if (!token.startsWith("$") && isFloatName(token)) found.set(token, (found.get(token) ?? 0) + 1);
    }
  }
  return found;
}

// -------------------------------------------------------------- decoder ---

const VALTYPE_NAMES: Record<number, string> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};
const EXPORT_KINDS = ["func", "table", "memory", "global", "tag"];
const SECTION_ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

type Add = (rule: Rule, message: string, offset?: number) => void;

interface Tally {
  count: number;
  offset: number;
  where: string;
}

class Decoder {
  readonly info: WasmCheckInfo;
  private readonly types: { params: number[]; results: number[] }[] = [];
  private readonly funcTypes: number[] = [];
  private readonly importNames: string[] = [];
  private importedFuncs = 0;
  private readonly calls = new Map<number, Set<number>>();
  private readonly indirect = new Set<number>();
  private readonly floatOps = new Map<string, Tally>();
  private readonly featureOps = new Map<string, Tally & { feature: string }>();
  private readonly grows: Tally = { count: 0, offset: -1, where: "" };

  constructor(
    private readonly bytes: Uint8Array,
    private readonly add: Add,
    info: WasmCheckInfo,
  ) {
    this.info = info;
  }

  run(): void {
    const sections = walkSections(this.bytes);
    const seen = new Set<number>();
    let lastOrder = 0;
    let definedFuncs = 0;
    for (const s of sections) {
      this.info.sections.push(s.id === 0 ? `custom:${s.customName}` : s.kind);
      if (s.id !== 0) {
        if (seen.has(s.id)) throw new WasmFormatError(`duplicate ${s.kind} section`, s.offset);
        seen.add(s.id);
        const order = SECTION_ORDER[s.id];
        if (order !== undefined) {
          if (order < lastOrder) throw new WasmFormatError(`${s.kind} section out of order`, s.offset);
          lastOrder = order;
        }
      }
      const r = new WasmReader(this.bytes, s.start, s.end);
      switch (s.id) {
        case 0:
          break;
        case 1:
          this.typeSection(r);
          break;
        case 2:
          this.importSection(r);
          break;
        case 3: {
          definedFuncs = r.u32();
          for (let i = 0; i < definedFuncs; i++) this.funcTypes.push(r.u32());
          this.info.functions = definedFuncs;
          break;
        }
        case 4:
          this.tableSection(r);
          break;
        case 5: {
          const n = r.u32();
          for (let i = 0; i < n; i++) this.info.memories.push(this.memoryType(r, false));
          break;
        }
        case 6: {
          const n = r.u32();
          for (let i = 0; i < n; i++) {
            const where = `global ${i}`;
            this.valtype(r, where);
            const mut = r.u8();
            if (mut > 1) r.fail(`bad mutability ${mut}`);
            this.constExpr(r, `${where} initializer`);
          }
          break;
        }
        case 7: {
          const n = r.u32();
          for (let i = 0; i < n; i++) {
            const name = r.name();
            const kind = r.u8();
            const index = r.u32();
            if (kind === 4) this.add("feature", `export "${name}" is a tag (exceptions)`, s.start);
            this.info.exports.push({ name, kind: EXPORT_KINDS[kind] ?? `kind(${kind})`, index });
          }
          break;
        }
        case 8:
          this.info.startFunction = r.u32();
          break;
        case 9:
          this.elementSection(r);
          break;
        case 10: {
          const n = r.u32();
          if (n !== definedFuncs) r.fail(`code section has ${n} bodies for ${definedFuncs} functions`, s.start);
          for (let i = 0; i < n; i++) {
            const size = r.u32();
            this.functionBody(r.sub(size), this.importedFuncs + i);
          }
          break;
        }
        case 11:
          this.dataSection(r);
          break;
        case 12:
          this.add("datacount", `DataCount section (id 12) present (count ${r.u32()}): it only exists for bulk memory`, s.offset);
          r.pos = r.end;
          break;
        case 13:
          this.add("feature", "tag section (id 13): exceptions", s.offset);
          r.pos = r.end;
          break;
        default:
          throw new WasmFormatError(`unknown section id ${s.id}`, s.offset);
      }
      if (!r.atEnd) r.fail(`${s.kind} section has ${r.end - r.pos} trailing bytes`);
    }
    this.finish();
  }

  private valtype(r: WasmReader, where: string): number {
    const at = r.pos;
    const t = r.u8();
    switch (t) {
      case 0x7f:
      case 0x7e:
        return t;
      case 0x7d:
      case 0x7c:
        this.add("float", `${where} has type ${VALTYPE_NAMES[t]}`, at);
        return t;
      case 0x7b:
        this.add("feature", `${where} has type v128 (simd)`, at);
        return t;
      case 0x70:
      case 0x6f:
        this.add("feature", `${where} has type ${VALTYPE_NAMES[t]} (reference-types)`, at);
        return t;
      case 0x63:
      case 0x64:
        r.sleb(33);
        this.add("feature", `${where} has a typed reference type (function-references/gc)`, at);
        return t;
      default:
        if (t >= 0x65 && t <= 0x74) {
          this.add("feature", `${where} has heap type 0x${t.toString(16)} (gc)`, at);
          return t;
        }
        return r.fail(`${where}: bad value type 0x${t.toString(16)}`, at);
    }
  }

  private typeSection(r: WasmReader): void {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const form = r.u8();
      if (form !== 0x60) {
        this.add("feature", `type ${i} has form 0x${form.toString(16)} (gc)`, at);
        r.pos = r.end; // cannot decode further
        return;
      }
      const params: number[] = [];
      const results: number[] = [];
      const np = r.u32();
      for (let j = 0; j < np; j++) params.push(this.valtype(r, `type ${i} param ${j}`));
      const nr = r.u32();
      for (let j = 0; j < nr; j++) results.push(this.valtype(r, `type ${i} result ${j}`));
      if (nr > 1) this.add("feature", `type ${i} has ${nr} results (multi-value)`, at);
      this.types.push({ params, results });
    }
  }

  private limits(r: WasmReader, what: string): { min: number; max: number | null; shared: boolean; is64: boolean } {
    const at = r.pos;
    const flags = r.u8();
    if (flags > 0x0f) r.fail(`${what}: bad limits flags 0x${flags.toString(16)}`, at);
    const is64 = (flags & 0x04) !== 0;
    const shared = (flags & 0x02) !== 0;
    const read = () => (is64 ? Number(r.sleb(64) & 0xffffffffffffffffn) : r.u32());
    const min = read();
    const max = flags & 0x01 ? read() : null;
    if (flags & 0x08) {
      r.u32();
      this.add("feature", `${what} has a custom page size (custom-page-sizes)`, at);
    }
    if (is64) this.add("feature", `${what} is 64-bit (memory64)`, at);
    if (shared) this.add("feature", `${what} is shared (threads)`, at);
    return { min, max, shared, is64 };
  }

  private memoryType(r: WasmReader, imported: boolean): MemoryInfo {
    const index = this.info.memories.length;
    const l = this.limits(r, `memory ${index}`);
    return { imported, minPages: l.min, maxPages: l.max, shared: l.shared, memory64: l.is64, exportedAs: [] };
  }

  private tableSection(r: WasmReader): void {
    const n = r.u32();
    if (n > 1) this.add("feature", `${n} tables (reference-types)`, r.pos);
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const t = r.u8();
      if (t === 0x40) {
        this.add("feature", `table ${i} has an initializer (function-references)`, at);
        r.pos = r.end;
        return;
      }
      if (t !== 0x70) this.add("feature", `table ${i} has element type 0x${t.toString(16)} (reference-types)`, at);
      this.limits(r, `table ${i}`);
    }
  }

  private importSection(r: WasmReader): void {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const mod = r.name();
      const field = r.name();
      const kind = r.u8();
      const label = `${mod}.${field}`;
      this.importNames.push(label);
      this.info.imports.push(`${EXPORT_KINDS[kind] ?? `kind(${kind})`} ${label}`);
      this.add("imports", `imports ${EXPORT_KINDS[kind] ?? `kind ${kind}`} "${mod}" "${field}"`, at);
      switch (kind) {
        case 0:
          this.funcTypes.push(r.u32());
          this.importedFuncs++;
          break;
        case 1: {
          const t = r.u8();
          if (t !== 0x70) this.add("feature", `imported table ${label} has element type 0x${t.toString(16)}`, at);
          this.limits(r, `imported table ${label}`);
          break;
        }
        case 2:
          this.info.memories.push(this.memoryType(r, true));
          break;
        case 3:
          this.valtype(r, `imported global ${label}`);
          r.u8();
          break;
        case 4:
          this.add("feature", `imported tag ${label} (exceptions)`, at);
          r.u8();
          r.u32();
          break;
        default:
          r.fail(`import ${label}: bad kind ${kind}`, at);
      }
    }
  }

  private constExpr(r: WasmReader, where: string): void {
    for (;;) {
      const at = r.pos;
      const op = r.u8();
      switch (op) {
        case 0x0b:
          return;
        case 0x41:
          r.sleb(32);
          break;
        case 0x42:
          r.sleb(64);
          break;
        case 0x23:
          r.u32();
          break;
        case 0x43:
          r.skip(4);
          this.add("float", `${where} uses f32.const`, at);
          break;
        case 0x44:
          r.skip(8);
          this.add("float", `${where} uses f64.const`, at);
          break;
        case 0xd0:
          r.sleb(33);
          this.add("feature", `${where} uses ref.null (reference-types)`, at);
          break;
        case 0xd2:
          r.u32();
          this.add("feature", `${where} uses ref.func (reference-types)`, at);
          break;
        case 0x6a:
        case 0x6b:
        case 0x6c:
        case 0x7c:
        case 0x7d:
        case 0x7e:
          this.add("feature", `${where} uses ${OPCODE_NAMES[op]} (extended-const)`, at);
          break;
        default:
          r.fail(`${where}: opcode 0x${op.toString(16)} not allowed in a constant expression`, at);
      }
    }
  }

  private elementSection(r: WasmReader): void {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const flags = r.u32();
      if (flags !== 0) {
        this.add("feature", `element segment ${i} uses form ${flags} (bulk-memory/reference-types)`, at);
        r.pos = r.end; // the other forms are not decoded here
        return;
      }
      this.constExpr(r, `element segment ${i} offset`);
      const count = r.u32();
      for (let j = 0; j < count; j++) r.u32();
    }
  }

  private dataSection(r: WasmReader): void {
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const at = r.pos;
      const flags = r.u32();
      if (flags === 0) {
        this.constExpr(r, `data segment ${i} offset`);
      } else if (flags === 1) {
        this.add("feature", `data segment ${i} is passive (bulk-memory)`, at);
      } else if (flags === 2) {
        const mem = r.u32();
        this.add("feature", `data segment ${i} names memory ${mem} explicitly (${mem === 0 ? "bulk-memory" : "multi-memory"})`, at);
        this.constExpr(r, `data segment ${i} offset`);
      } else {
        r.fail(`data segment ${i}: bad flags ${flags}`, at);
      }
      r.skip(r.u32());
    }
  }

  private blockType(r: WasmReader, at: number, func: number): void {
    const b = r.peek();
    if (b === 0x40) {
      r.u8();
      return;
    }
    if (VALTYPE_NAMES[b] !== undefined || b === 0x63 || b === 0x64 || (b >= 0x65 && b <= 0x74)) {
      this.valtype(r, `block type in func ${func}`);
      return;
    }
    const idx = r.sleb(33);
    if (idx < 0n) r.fail(`bad block type ${idx}`, at);
    this.add("feature", `block with type index ${idx} in func ${func} (multi-value)`, at);
  }

  /** "func 7" or 'func 7 (export "parse")'. */
  private funcLabel(func: number): string {
    const names = this.info.exports.filter((e) => e.kind === "func" && e.index === func).map((e) => `"${e.name}"`);
    return names.length ? `func ${func} (export ${names.join(", ")})` : `func ${func}`;
  }

  private tally(map: Map<string, Tally>, name: string, at: number, func: number): void {
    const t = map.get(name);
    if (t) t.count++;
    else map.set(name, { count: 1, offset: at, where: this.funcLabel(func) });
  }

  private featureOp(name: string, feature: string, at: number, func: number): void {
    const t = this.featureOps.get(name);
    if (t) t.count++;
    else this.featureOps.set(name, { count: 1, offset: at, where: this.funcLabel(func), feature });
  }

  private functionBody(r: WasmReader, func: number): void {
    const groups = r.u32();
    let locals = 0;
    for (let g = 0; g < groups; g++) {
      const count = r.u32();
      locals += count;
      if (locals > 50000) r.fail(`func ${func} declares too many locals`);
      this.valtype(r, `func ${func} locals (${count})`);
    }
    const calls = new Set<number>();
    this.calls.set(func, calls);
    let depth = 0;
    for (;;) {
      const at = r.pos;
      const op = r.u8();
      this.info.instructions++;
      if (op >= 0x45 && op <= 0xc4) {
        const name = OPCODE_NAMES[op]!;
        if (isFloatName(name)) this.tally(this.floatOps, name, at, func);
        continue;
      }
      if (op >= 0x28 && op <= 0x3e) {
        const align = r.u32();
        if (align & 0x40) {
          r.u32();
          this.featureOp(OPCODE_NAMES[op]!, "multi-memory", at, func);
        }
        r.u32();
        const name = OPCODE_NAMES[op]!;
        if (isFloatName(name)) this.tally(this.floatOps, name, at, func);
        continue;
      }
      switch (op) {
        case 0x00: // unreachable
        case 0x01: // nop
        case 0x05: // else
        case 0x0f: // return
        case 0x1a: // drop
        case 0x1b: // select
          break;
        case 0x02:
        case 0x03:
        case 0x04:
          this.blockType(r, at, func);
          depth++;
          break;
        case 0x0b:
          if (depth === 0) {
            if (!r.atEnd) r.fail(`func ${func}: ${r.end - r.pos} bytes after the final end`);
            return;
          }
          depth--;
          break;
        case 0x0c:
        case 0x0d:
          r.u32();
          break;
        case 0x0e: {
          const n = r.u32();
          for (let i = 0; i <= n; i++) r.u32();
          break;
        }
        case 0x10:
          calls.add(r.u32());
          break;
        case 0x11: {
          r.u32();
          const table = r.u8(); // MVP: exactly one 0x00 byte
          if (table !== 0x00) this.featureOp("call_indirect (table index)", "reference-types", at, func);
          this.indirect.add(func);
          break;
        }
        case 0x1c: {
          const n = r.u32();
          for (let i = 0; i < n; i++) this.valtype(r, `typed select in func ${func}`);
          this.featureOp("select (typed)", "reference-types", at, func);
          break;
        }
        case 0x20:
        case 0x21:
        case 0x22:
        case 0x23:
        case 0x24:
          r.u32();
          break;
        case 0x3f:
        case 0x40: {
          const mem = r.u8(); // MVP: exactly one 0x00 byte
          if (mem !== 0x00) this.featureOp(OPCODE_NAMES[op]!, "multi-memory", at, func);
          if (op === 0x40) {
            this.grows.count++;
            if (this.grows.offset < 0) {
              this.grows.offset = at;
              this.grows.where = this.funcLabel(func);
            }
          }
          break;
        }
        case 0x41:
          r.sleb(32);
          break;
        case 0x42:
          r.sleb(64);
          break;
        case 0x43:
          r.skip(4);
          this.tally(this.floatOps, "f32.const", at, func);
          break;
        case 0x44:
          r.skip(8);
          this.tally(this.floatOps, "f64.const", at, func);
          break;
        case 0xfc: {
          const sub = r.u32();
          const name = FC_NAMES[sub];
          if (name === undefined) {
            this.featureOp(`0xfc ${sub}`, "unknown", at, func);
            r.pos = r.end;
            return;
          }
          if (sub <= 7) {
            this.tally(this.floatOps, name, at, func); // allowed feature, but float
          } else {
            this.featureOp(name, sub <= 14 ? "bulk-memory" : "reference-types", at, func);
            // immediates, so decoding can go on
            if (sub === 8) {
              r.u32();
              r.u8();
            } else if (sub === 10) {
              r.u8();
              r.u8();
            } else if (sub === 11) {
              r.u8();
            } else if (sub === 12 || sub === 14) {
              r.u32();
              r.u32();
            } else {
              r.u32();
            }
          }
          break;
        }
        default: {
          const feature = DISALLOWED_OPCODE[op];
          if (!feature) r.fail(`func ${func}: unknown opcode 0x${op.toString(16)}`, at);
          this.featureOp(OPCODE_NAMES[op] && OPCODE_NAMES[op] !== "-" ? OPCODE_NAMES[op]! : `0x${op.toString(16)}`, feature, at, func);
          r.pos = r.end; // immediates unknown here: stop decoding this body
          return;
        }
      }
    }
  }

  private finish(): void {
    const { info, add } = this;

    for (const [name, t] of this.floatOps) {
      add("float", `float instruction ${name} x${t.count} (first in ${t.where})`, t.offset);
    }
    for (const [name, t] of this.featureOps) {
      add("feature", `${name} x${t.count} (${t.feature}; first in ${t.where})`, t.offset);
    }
    if (this.grows.count > 0) {
      add("memory-grow", `memory.grow x${this.grows.count} (first in ${this.grows.where})`, this.grows.offset);
    }

    // Memory: exactly one, exported as "memory", fixed size.
    for (const e of info.exports) {
      if (e.kind === "memory") info.memories[e.index]?.exportedAs.push(e.name);
      else if (e.name === "memory") add("memory-export", `export "memory" is a ${e.kind}, not the memory`);
    }
    if (info.memories.length !== 1) add("memory", `${info.memories.length} memories (expected exactly 1)`);
    const mem = info.memories[0];
    info.memoryPages = mem ? mem.minPages : null;
    if (mem) {
      if (!mem.exportedAs.includes("memory")) {
        add(
          "memory-export",
          `memory 0 is not exported as "memory" (${mem.exportedAs.length ? `exported as ${mem.exportedAs.map((n) => `"${n}"`).join(", ")}` : "not exported"})`,
        );
      }
      if (mem.maxPages === null) {
        add("memory-fixed", `memory 0 has ${mem.minPages} pages and no maximum: it can grow`);
      } else if (mem.maxPages !== mem.minPages) {
        add("memory-fixed", `memory 0 has min ${mem.minPages} != max ${mem.maxPages} pages: it can grow`);
      }
    }

    // Start: its function must not reach an import (directly or indirectly).
    const start = info.startFunction;
    if (start !== null) {
      if (start < this.importedFuncs) {
        add("start", `start function ${start} is the import ${this.importNames[start] ?? "?"}`);
      } else {
        const seen = new Set<number>([start]);
        const queue = [start];
        const reached: string[] = [];
        let viaIndirect = false;
        while (queue.length) {
          const f = queue.shift()!;
          if (this.indirect.has(f) && this.importedFuncs > 0) viaIndirect = true;
          for (const callee of this.calls.get(f) ?? []) {
            if (callee < this.importedFuncs) reached.push(this.importNames[callee] ?? `func ${callee}`);
            else if (!seen.has(callee)) {
              seen.add(callee);
              queue.push(callee);
            }
          }
        }
        if (reached.length) add("start", `start function ${start} calls import(s) ${[...new Set(reached)].join(", ")}`);
        if (viaIndirect) add("start", `start function ${start} reaches call_indirect in a module that imports functions`);
      }
    }
  }
}

// ----------------------------------------------------------------- main ---

/** Check a module against every rule; never throws for a bad module. */
export async function checkWasm(input: Uint8Array | ArrayBuffer, options: WasmCheckOptions = {}): Promise<WasmCheckResult> {
  const bytes = exactBytes(input);
  const maxBytes = options.maxBytes ?? MAX_MODULE_BYTES;
  const violations: Violation[] = [];
  const add: Add = (rule, message, offset) => violations.push(offset === undefined ? { rule, message } : { rule, message, offset });
  const info: WasmCheckInfo = {
    bytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    maxBytes,
    sections: [],
    imports: [],
    exports: [],
    memories: [],
    memoryPages: null,
    functions: 0,
    instructions: 0,
    startFunction: null,
  };

  if (bytes.length > maxBytes) {
    add("size", `${bytes.length} bytes is over the ${maxBytes}-byte budget by ${bytes.length - maxBytes}`);
  }

  // 1. wabt, with exactly the allowed features.
  const wabt = await getWabt();
  let text: string | null = null;
  let m: WabtModule | undefined;
  try {
    m = wabt.readWasm(bytes, { readDebugNames: false, check: true, ...ALLOWED_FEATURES });
    validateWith(m, ALLOWED_FEATURES);
    text = m.toText({ foldExprs: false, inlineExport: false });
  } catch (e) {
    const msg = String((e as Error)?.message ?? e)
      .replace(/\s+/g, " ")
      .trim();
    add("validate", `wabt rejects it with only mutable-globals, sign-extension, sat-float-to-int enabled: ${msg}`);
  } finally {
    m?.destroy();
  }

  // 2. Our own structural decode.
  try {
    new Decoder(bytes, add, info).run();
  } catch (e) {
    if (!(e instanceof WasmFormatError)) throw e;
    add("binary", e.message, e.offset);
  }

  // 3. Float cross-check on wabt's text, token by token.
  if (text !== null) {
    const tokens = floatTokensInText(text);
    if (tokens.size) {
      add("float", `wabt text output has float tokens: ${[...tokens].map(([t, c]) => `${t} x${c}`).join(", ")}`);
    }
  }

  return { ok: violations.length === 0, violations, info };
}

export function formatViolations(violations: readonly Violation[]): string {
  if (!violations.length) return "no violations";
  return violations
    .map((v) => `  [${v.rule}] ${v.message}${v.offset === undefined ? "" : ` @0x${v.offset.toString(16)}`}`)
    .join("\n");
}

/** One-line summary of a check, for logs and benches. */
export function summarize(info: WasmCheckInfo): string {
  const mem = info.memories[0];
  const memText = mem
    ? `memory ${mem.minPages}${mem.maxPages === mem.minPages ? "" : `..${mem.maxPages ?? "inf"}`} page(s) (${(mem.minPages * 64).toLocaleString("en-US")} KiB)`
    : "no memory";
  return (
    `${info.bytes.toLocaleString("en-US")} B raw / ${info.gzipBytes.toLocaleString("en-US")} B gzip ` +
    `(budget ${info.maxBytes.toLocaleString("en-US")} B, ${(info.maxBytes - info.bytes).toLocaleString("en-US")} B left), ` +
    `${memText}, ${info.functions} funcs, ${info.instructions} instrs, ${info.imports.length} imports, ` +
    `exports [${info.exports.map((e) => e.name).join(", ")}], sections [${info.sections.join(", ")}]`
  );
}

export { SECTION_NAMES };
