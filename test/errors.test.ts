// host/errors.ts REASONS against the module's error table: one reason per code, unique snake_case
// names, and the status each parser code maps to (written out here from RFC 9110 / 9112).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMoat, Moat } from '../host/module.ts';
import { REASONS, reasonOf } from '../host/errors.ts';

// Codes as documented in assembly/errors.ts and ABI.md; expected statuses from the RFCs:
// 400 malformed syntax/framing (RFC 9112), 413 content too large, 414 URI too long,
// 431 fields too large (RFC 6585), 501 unknown transfer coding (RFC 9112 6.1), 505 version,
// 408 timeout, 0 close silently.
const EXPECTED: Record<string, number> = {
  none: 0,
  bad_method: 400, method_too_long: 400, bad_target: 400, bad_percent_escape: 400, fragment_in_target: 400,
  userinfo_in_authority: 400, target_form_not_allowed: 400, uri_too_long: 414, bad_version: 400,
  version_not_supported: 505, bare_cr: 400, bare_lf: 400, obs_fold: 400, bad_field_name: 400,
  space_before_colon: 400, bad_field_value: 400, too_many_fields: 431, fields_too_large: 431,
  host_missing: 400, host_duplicate: 400, host_invalid: 400, content_length_invalid: 400,
  content_length_duplicate: 400, te_with_content_length: 400, te_in_http10: 400, te_chunked_not_final: 400,
  te_coding_not_implemented: 501, body_too_large: 413, chunk_size_invalid: 400, chunk_ext_invalid: 400,
  chunk_ext_too_long: 413, chunk_data_unterminated: 400, too_many_empty_lines: 400,
  parse_timeout: 408, request_timeout: 408, inactivity_timeout: 0, session_timeout: 0,
  connection_limit: 0, client_connection_limit: 0,
  connection_closed: 0, rate_limited: 429,
};
// Codes the module returns to the host (respond / init / bad slot), never answered to a client:
// they must not map to a client-error status of the parser set.
const HOST_ONLY = [
  'response_bad_status', 'response_bad_field_name', 'response_bad_field_value', 'response_framing_field',
  'response_head_too_large', 'bad_slot', 'bad_config', 'client_banned',
];
// Numbers the ABI fixes (ABI.md and the tests of respond/open rely on them).
const FIXED: Record<string, number> = {
  connection_limit: 38, client_connection_limit: 39, response_bad_status: 40, response_bad_field_name: 41,
  response_bad_field_value: 42, response_framing_field: 43, response_head_too_large: 44, bad_slot: 45, bad_config: 46,
};

let moat: Moat;
beforeAll(async () => { moat = await loadMoat(); });

describe('error codes', () => {
  it('REASONS has exactly one entry per module code', () => {
    // The module answers 500 for any code >= E_COUNT (its table size, visible only through
    // status()); the last code, rate_limited, answers 429, so the boundary shows where the
    // table ends and must coincide with the end of REASONS.
    const count = REASONS.length;
    expect(count).toBe(Object.keys(EXPECTED).length + HOST_ONLY.length);
    expect(moat.x.status(count - 1)).toBe(429);
    expect(moat.x.status(count)).toBe(500);
    expect(moat.x.status(count + 1)).toBe(500);
    expect(moat.x.status(0xffffffff)).toBe(500);
  });

  it('names are unique snake_case', () => {
    expect(new Set(REASONS).size).toBe(REASONS.length);
    for (const r of REASONS) expect(r).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  });

  it('every name is either a parser code with an expected status or a host-only code', () => {
    for (const r of REASONS) expect(r in EXPECTED || HOST_ONLY.includes(r), r).toBe(true);
    for (const r of [...Object.keys(EXPECTED), ...HOST_ONLY]) expect(REASONS, r).toContain(r);
  });

  it('status(code) matches the expected status of every parser code', () => {
    const wrong: string[] = [];
    REASONS.forEach((name, code) => {
      if (!(name in EXPECTED)) return;
      const got = moat.x.status(code);
      if (got !== EXPECTED[name]) wrong.push(`${code} ${name}: module ${got}, expected ${EXPECTED[name]}`);
    });
    expect(wrong).toEqual([]);
  });

  it('host-only codes never map to a status a client could be answered with from the parser set', () => {
    REASONS.forEach((name, code) => {
      if (!HOST_ONLY.includes(name)) return;
      expect([0, 500], name).toContain(moat.x.status(code));
    });
  });

  it('the codes the ABI names have their documented numbers', () => {
    for (const [name, code] of Object.entries(FIXED)) expect(REASONS[code], `code ${code}`).toBe(name);
    expect(REASONS[0]).toBe('none');
  });

  it('codes the module actually returns have the matching reason', async () => {
    // A parser error: bare LF ending a field line.
    const slot = moat.open(0, false, 0);
    const raw = Buffer.from('GET / HTTP/1.1\r\nHost: a\n\r\n');
    moat.write(raw);
    const r = moat.feed(slot, 0, raw.length, 0);
    expect(reasonOf(r.code)).toBe('bare_lf');
    expect(r.status).toBe(400);
    moat.close(slot);
    const s2 = moat.open(0, false, 0);
    const raw2 = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n');
    moat.write(raw2);
    const r2 = moat.feed(s2, 0, raw2.length, 0);
    expect(reasonOf(r2.code)).toBe('te_chunked_not_final');
    expect(r2.status).toBe(400);
    moat.close(s2);
    const s3 = moat.open(0, false, 0);
    const raw3 = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
    moat.write(raw3);
    const r3 = moat.feed(s3, 0, raw3.length, 0);
    expect(reasonOf(r3.code)).toBe('te_coding_not_implemented');
    expect(r3.status).toBe(501);
    moat.close(s3);
    // respond() refusals.
    const s4 = moat.open(0, false, 0);
    expect(reasonOf(-(moat.respond(s4, 99, 0) as number))).toBe('response_bad_status');
    moat.close(s4);
    expect(reasonOf(-(moat.respond(s4, 200, 0) as number))).toBe('bad_slot');
  });
});
