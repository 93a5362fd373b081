// The module's byte-class table (256 bytes at classesPtr()) against predicates written here from the
// RFC text, independently of host/gen/tables.mjs: only the bit numbers come from the generator's
// header (assembly/tables.ts documents them), never its member lists.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMoat, Moat } from '../host/module.ts';

// RFC 5234 B.1 core rules
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;                         // DIGIT = %x30-39
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a); // ALPHA = %x41-5A / %x61-7A
const isHexdig = (c: number) => isDigit(c) || 'ABCDEFabcdef'.includes(String.fromCharCode(c)); // case-insensitive per RFC 5234 2.3
const isVchar = (c: number) => c >= 0x21 && c <= 0x7e;                          // VCHAR = %x21-7E
const isObsText = (c: number) => c >= 0x80 && c <= 0xff;                        // obs-text = %x80-FF

// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const isTchar = (c: number) => isDigit(c) || isAlpha(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)) && c < 0x80;
// RFC 9110 5.5: field-vchar = VCHAR / obs-text
const isFieldVchar = (c: number) => isVchar(c) || isObsText(c);
// RFC 9110 5.6.3: OWS = *( SP / HTAB )
const isWs = (c: number) => c === 0x20 || c === 0x09;
// RFC 3986 2.3 / 2.2
const isUnreserved = (c: number) => isAlpha(c) || isDigit(c) || (c < 0x80 && '-._~'.includes(String.fromCharCode(c)));
const isSubDelim = (c: number) => c < 0x80 && "!$&'()*+,;=".includes(String.fromCharCode(c));
// RFC 3986 3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"; 3.4: query = *( pchar / "/" / "?" )
// pct-encoded is three bytes, checked by the parser apart: the table leaves its "%" out.
const isTarget = (c: number) => isUnreserved(c) || isSubDelim(c) || c === 0x3a || c === 0x40 || c === 0x2f || c === 0x3f;
// RFC 3986 3.2.2: reg-name = *( unreserved / pct-encoded / sub-delims ), "%" left out as above
const isRegName = (c: number) => isUnreserved(c) || isSubDelim(c);
// RFC 9110 5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
const isQdtext = (c: number) => c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || isObsText(c);

const RULES: [name: string, bit: number, pred: (c: number) => boolean][] = [
  ['TCHAR', 1, isTchar],
  ['FIELD_VCHAR', 2, isFieldVchar],
  ['WS', 4, isWs],
  ['HEXDIG', 8, isHexdig],
  ['TARGET', 16, isTarget],
  ['REG_NAME', 32, isRegName],
  ['DIGIT', 64, isDigit],
  ['QDTEXT', 128, isQdtext],
];

let moat: Moat;
let table: Uint8Array;
beforeAll(async () => {
  moat = await loadMoat();
  const p = moat.x.classesPtr();
  table = moat.bytes.slice(p, p + 256);
});

describe('byte-class table', () => {
  it('lies inside linear memory, below the high-water mark', () => {
    const p = moat.x.classesPtr();
    expect(p).toBeGreaterThan(0);
    expect(p + 256).toBeLessThanOrEqual(moat.highWater);
  });

  it.each(RULES)('%s (bit %i) matches the RFC predicate for all 256 bytes', (name, bit, pred) => {
    const wrong: string[] = [];
    for (let c = 0; c < 256; c++) {
      const has = (table[c] & bit) !== 0;
      if (has !== pred(c)) wrong.push(`0x${c.toString(16).padStart(2, '0')} table=${has} rfc=${pred(c)}`);
    }
    expect(wrong, `${name} mismatches`).toEqual([]);
  });

  it('every bit of the table is one of the rules (no stray bits)', () => {
    const all = RULES.reduce((a, [, b]) => a | b, 0);
    expect(all).toBe(0xff);
    for (let c = 0; c < 256; c++) {
      let want = 0;
      for (const [, bit, pred] of RULES) if (pred(c)) want |= bit;
      expect(table[c], `byte 0x${c.toString(16)}`).toBe(want);
    }
  });

  it('spot checks written out by hand', () => {
    const has = (ch: string | number, bit: number) => (table[typeof ch === 'number' ? ch : ch.charCodeAt(0)] & bit) !== 0;
    // tchar: not delimiters
    for (const d of '"(),/:;<=>?@[\\]{} \t') expect(has(d, 1), `tchar ${JSON.stringify(d)}`).toBe(false);
    for (const t of "!#$%&'*+-.^_`|~09AZaz") expect(has(t, 1), `tchar ${t}`).toBe(true);
    // no control byte or DEL in any class except HTAB (WS, QDTEXT)
    for (let c = 0; c < 0x20; c++) expect(table[c], `CTL 0x${c.toString(16)}`).toBe(c === 9 ? 4 | 128 : 0);
    expect(table[0x7f]).toBe(0);
    // "#" ends a target (fragment), is not reg-name; "%" is in neither (pct-encoded is checked apart)
    expect(has('#', 16)).toBe(false);
    expect(has('%', 16) || has('%', 32)).toBe(false);
    // reg-name excludes ":" "@" "/" "?"
    for (const c of ':@/?') expect(has(c, 32), `reg-name ${c}`).toBe(false);
    // qdtext excludes DQUOTE and backslash
    expect(has('"', 128)).toBe(false);
    expect(has('\\', 128)).toBe(false);
    // obs-text is field-vchar and qdtext only
    for (let c = 0x80; c < 0x100; c++) expect(table[c]).toBe(2 | 128);
  });
});
