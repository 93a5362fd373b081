// Generates assembly/text.ts: the fixed response text the head injector copies (reason phrases,
// security header lines, canned framing lines), the field-name lists it checks against and the
// parser's few constant tables, as byte blobs. AssemblyScript string literals are UTF-16; bytes in data halve the size and need no decoding.
// Run: node host/gen/text.mjs
import { writeFileSync } from 'node:fs';

export const REASONS = {
  100: 'Continue', 101: 'Switching Protocols', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict',
  410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable',
  417: 'Expectation Failed', 422: 'Unprocessable Content', 426: 'Upgrade Required',
  428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

// Sent on every final response unless the application set a field of the same name.
export const SECURITY_HEADERS = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Content-Security-Policy', "default-src 'self'"],
  ['Referrer-Policy', 'no-referrer'],
];

// Framing is the module's: an application that sets one of these gets E_RESP_FRAMING.
export const FRAMING_NAMES = ['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer'];
// Fingerprinting headers are dropped without error (RFC 9110 10.2.4 leaves Server optional).
export const DROPPED_NAMES = ['server', 'x-powered-by'];

const bytes = (s) => [...Buffer.from(s, 'latin1')];

// Request fields with framing or routing meaning, in F_* order (fields.ts): index + 1 is the id.
export const SPECIAL_NAMES = ['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'content-type'];

// The u64 constants of the word-at-a-time scans, each one byte in all eight lanes (scan.ts says
// why they are data). First in the segment, so each is 8-aligned.
export const LANES = [0x01, 0x1f, 0x20, 0x21, 0x2d, 0x7f, 0x80, 0xfa];

// Every blob lives in one data segment (TEXT) at a fixed offset: wasm3 evaluates each segment's
// offset in a throw-away runtime at load (~2.7 K Thumb instructions apiece), so 19 segments cost
// ~50 K instructions more than one.
const parts = [];
let at = 0;
const blob = (name, arr, why) => {
  parts.push(arr);
  const off = at;
  at += arr.length;
  return `${why ? `// ${why}\n` : ''}@inline export const ${name}: usize = TEXT + ${off};\n@inline export const ${name}_LEN: u32 = ${arr.length};\n`;
};

function reasons() {
  const out = [];
  for (const [code, text] of Object.entries(REASONS)) out.push(Number(code) & 0xff, Number(code) >> 8, text.length, ...bytes(text));
  return [...out, 0, 0];
}
function lines() {
  const out = [];
  for (const [n, v] of SECURITY_HEADERS) { const l = `${n}: ${v}\r\n`; out.push(n.length, l.length, ...bytes(l)); }
  return [...out, 0];
}
function names(list) {
  return [...list.flatMap((n) => [n.length, ...bytes(n)]), 0];
}
// fieldIdOf() (fields.ts) picks the one candidate by length: for lengths 4..17, [id, offset of the
// name's bytes in SPECIAL_NAMES], id 0 for none. The names' lengths differ, and all are lower-case
// letters and "-", which OR-ing 0x20 leaves as they are.
function byLength(list) {
  const t = new Array(28).fill(0);
  let off = 0;
  list.forEach((n, i) => {
    if (n.length < 4 || n.length > 17 || t[(n.length - 4) * 2] || !/^[a-z-]+$/.test(n)) throw new Error(`special name ${n}`);
    t[(n.length - 4) * 2] = i + 1;
    t[(n.length - 4) * 2 + 1] = off + 1;
    off += 1 + n.length;
  });
  return t;
}

const lanes = LANES.flatMap((b) => new Array(8).fill(b));
const laneNames = LANES.map((b, i) => `@inline export const LANE_${b.toString(16).toUpperCase().padStart(2, '0')}: usize = TEXT + ${i * 8};`).join('\n');
parts.push(lanes);
at += lanes.length;
const body = `// ${LANES.length} u64 scan constants, LANE_XX: the byte 0xXX in each of the eight lanes.
${laneNames}

${blob('FIELD_BY_LENGTH', byLength(SPECIAL_NAMES), 'Special field name by length 4..17: [u8 id][u8 offset in SPECIAL_NAMES], id 0 for none.')}
${blob('REASONS', reasons(), 'Reason phrases: [u16 status][u8 len][bytes]..., ended by status 0.')}
${blob('SECURITY_LINES', lines(), 'Default security fields: [u8 name len][u8 line len][line incl. CRLF]..., ended by 0.')}
${blob('FRAMING_NAMES', names(FRAMING_NAMES), 'Lower-case names an application may not set: [u8 len][bytes]..., ended by 0.')}
${blob('DROPPED_NAMES', names(DROPPED_NAMES), 'Lower-case names dropped from application fields.')}
${blob('SPECIAL_NAMES', names(SPECIAL_NAMES), 'Request fields with framing or routing meaning; index + 1 is the field id (F_HOST...).')}
${blob('T_HTTP11', bytes('HTTP/1.1 '), 'Status-line prefix.')}
${blob('T_CL', bytes('Content-Length: '), '')}
${blob('T_CHUNKED', bytes('Transfer-Encoding: chunked\r\n'), '')}
${blob('T_CLOSE', bytes('Connection: close\r\n'), '')}
${blob('T_KEEP', bytes('Connection: keep-alive\r\n'), '')}
${blob('T_HSTS', bytes('Strict-Transport-Security: max-age='), '')}
${blob('T_SUBDOMAINS', bytes('; includeSubDomains'), '')}
${blob('T_FORM', bytes('application/x-www-form-urlencoded'), 'Content-Type prefixes that select the form / upload body limit.')}
${blob('T_MULTIPART', bytes('multipart/form-data'), '')}
${blob('T_CHUNKED_NAME', bytes('chunked'), '')}
${blob('T_CLOSE_NAME', bytes('close'), '')}
${blob('T_KEEP_NAME', bytes('keep-alive'), '')}
${blob('T_CONTINUE', bytes('100-continue'), '')}
${blob('T_HTTP_PREFIX', bytes('HTTP/'), '')}`;
const out = `// GENERATED by host/gen/text.mjs — do not edit.
// One segment for every blob below (offsets into it).
const TEXT = memory.data<u8>([${parts.flat().join(',')}], 8);

${body}`;
writeFileSync(new URL('../../assembly/text.ts', import.meta.url), out);
