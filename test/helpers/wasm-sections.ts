// Minimal WebAssembly binary reading: LEB128 reader and section walker.
// Deliberately independent of wabt/binaryen/wasm-tools so the format checks
// have a parser of their own.

export const SECTION_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "custom",
  1: "type",
  2: "import",
  3: "function",
  4: "table",
  5: "memory",
  6: "global",
  7: "export",
  8: "start",
  9: "element",
  10: "code",
  11: "data",
  12: "datacount",
  13: "tag",
});

export class WasmFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at 0x${offset.toString(16)})`);
    this.name = "WasmFormatError";
  }
}

/** Cursor over a byte range with the LEB128 forms the binary format uses. */
export class WasmReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  fail(message: string, at = this.pos): never {
    throw new WasmFormatError(message, at);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("unexpected end");
    return this.bytes[this.pos++]!;
  }

  peek(): number {
    if (this.pos >= this.end) this.fail("unexpected end");
    return this.bytes[this.pos]!;
  }

  /** Unsigned LEB128, at most 5 bytes, value < 2^32. */
  u32(): number {
    const at = this.pos;
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (i === 4 && b > 0x0f) this.fail("u32 LEB128 out of range", at);
        return result;
      }
    }
    return this.fail("u32 LEB128 longer than 5 bytes", at);
  }

  /** Signed LEB128 of at most `bits` bits; returns the value as a bigint. */
  sleb(bits: 32 | 33 | 64): bigint {
    const at = this.pos;
    const maxBytes = Math.ceil(bits / 7);
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 1n << shift; // sign-extend
        const min = -(1n << BigInt(bits - 1));
        const max = (1n << BigInt(bits - 1)) - 1n;
        if (result < min || result > max) this.fail(`s${bits} LEB128 out of range`, at);
        return result;
      }
    }
    return this.fail(`s${bits} LEB128 too long`, at);
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) this.fail(`need ${n} bytes, ${this.end - this.pos} left`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    this.take(n);
  }

  name(): string {
    const n = this.u32();
    const at = this.pos;
    const raw = this.take(n);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      return this.fail("name is not valid UTF-8", at);
    }
  }

  /** A nested reader over the next `n` bytes; advances this one past them. */
  sub(n: number): WasmReader {
    const start = this.pos;
    this.skip(n);
    return new WasmReader(this.bytes, start, start + n);
  }
}

export interface WasmSection {
  /** Section id (0 = custom). */
  id: number;
  /** "type", "code", ... or "unknown(N)". */
  kind: string;
  /** Custom sections only: the section's name. */
  customName?: string;
  /** Offset of the section id byte. */
  offset: number;
  /** Offset of the first payload byte (after a custom section's name: still the payload start). */
  start: number;
  /** One past the last payload byte. */
  end: number;
  /** Payload size in bytes. */
  size: number;
}

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;

/**
 * Walks the top-level sections of a core module. Throws WasmFormatError on a
 * bad header, truncated section or a component binary (layer != 0).
 */
export function walkSections(bytes: Uint8Array): WasmSection[] {
  const r = new WasmReader(bytes);
  if (bytes.length < 8) r.fail("shorter than the 8-byte header", 0);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== WASM_MAGIC[i]) r.fail("bad magic (not a wasm binary)", i);
  }
  const version = bytes[4]! | (bytes[5]! << 8);
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer !== 0) r.fail(`layer ${layer}: a component, not a core module`, 6);
  if (version !== 1) r.fail(`unsupported core version ${version}`, 4);
  r.pos = 8;
  const out: WasmSection[] = [];
  while (!r.atEnd) {
    const offset = r.pos;
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    if (start + size > bytes.length) r.fail(`section ${id} (${size} bytes) overruns the file`, offset);
    const section: WasmSection = {
      id,
      kind: SECTION_NAMES[id] ?? `unknown(${id})`,
      offset,
      start,
      end: start + size,
      size,
    };
    if (id === 0) section.customName = new WasmReader(bytes, start, start + size).name();
    out.push(section);
    r.pos = start + size;
  }
  return out;
}

/** Section ids in file order (custom sections included as 0). */
export function sectionIds(bytes: Uint8Array): number[] {
  return walkSections(bytes).map((s) => s.id);
}

/**
 * Returns a copy of `bytes` with a section inserted before the first section
 * whose id is in `before` (or at the end). Used to hand-make bad modules.
 */
export function insertSection(bytes: Uint8Array, id: number, payload: Uint8Array, before: number[]): Uint8Array {
  const secs = walkSections(bytes);
  const at = secs.find((s) => before.includes(s.id))?.offset ?? bytes.length;
  const size = encodeU32(payload.length);
  const out = new Uint8Array(bytes.length + 1 + size.length + payload.length);
  out.set(bytes.subarray(0, at), 0);
  let p = at;
  out[p++] = id;
  out.set(size, p);
  p += size.length;
  out.set(payload, p);
  p += payload.length;
  out.set(bytes.subarray(at), p);
  return out;
}

export function encodeU32(value: number): Uint8Array {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return Uint8Array.from(out);
}
