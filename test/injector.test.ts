// respond(): the response-head injector, driven through Moat.respond after a real request was fed
// on an opened slot. Every head the module produces is parsed by checkHead(), a small strict
// HTTP/1.1 response-head checker written here (CRLF only, token names, no duplicate names).
import { describe, expect, it } from 'vitest';
import { loadMoat, Moat, Verdict, EventKind, type AppField, type FeedResult, type ModuleConfig } from '../host/module.ts';

// ---------------------------------------------------------------------------------------------
// Strict response-head checker (RFC 9112 4, 5; RFC 9110 5.1, 5.5, 5.6.2)

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\x21-\x7e\x80-\xff]([\x21-\x7e\x80-\xff \t]*[\x21-\x7e\x80-\xff])?$|^$/;
const REASON = /^[\t \x21-\x7e\x80-\xff]*$/;

interface Head {
  status: number;
  reason: string;
  fields: [string, string][];
  text: string;
  /** Values of a field (case-insensitive name). */
  all(name: string): string[];
  get(name: string): string | undefined;
}

function checkHead(bytes: Uint8Array): Head {
  const text = Buffer.from(bytes).toString('latin1');
  if (!text.endsWith('\r\n\r\n')) throw new Error(`head does not end with CRLF CRLF: ${JSON.stringify(text)}`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text[i + 1] !== '\n') throw new Error(`bare CR at ${i}: ${JSON.stringify(text)}`);
    if (c === 10 && text[i - 1] !== '\r') throw new Error(`bare LF at ${i}: ${JSON.stringify(text)}`);
  }
  const lines = text.slice(0, -4).split('\r\n');
  const m = /^HTTP\/1\.1 ([1-5][0-9][0-9]) (.*)$/s.exec(lines[0]);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  if (!REASON.test(m[2])) throw new Error(`bad reason phrase: ${JSON.stringify(m[2])}`);
  const fields: [string, string][] = [];
  const seen = new Set<string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`field line without colon: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new Error(`field name is not a token: ${JSON.stringify(name)}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) throw new Error(`bad field value for ${name}: ${JSON.stringify(value)}`);
    const key = name.toLowerCase();
    if (seen.has(key)) throw new Error(`duplicate field ${name}: ${JSON.stringify(text)}`);
    seen.add(key);
    fields.push([name, value]);
  }
  const all = (n: string) => fields.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
  return { status: Number(m[1]), reason: m[2], fields, text, all, get: (n) => all(n)[0] };
}

// ---------------------------------------------------------------------------------------------
// Driving the module

const SECURITY: [string, string][] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Content-Security-Policy', "default-src 'self'"],
  ['Referrer-Policy', 'no-referrer'],
];

const GET11 = 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n';
const GET10 = 'GET / HTTP/1.0\r\n\r\n';

async function fresh(config: Partial<ModuleConfig> = {}): Promise<Moat> {
  return loadMoat(config);
}

/** Opens a slot and feeds `raw` until the request is DONE (or an error / close verdict). */
function feedRequest(moat: Moat, raw: string, tls = false, stopAtHead = false): { slot: number; r: FeedResult } {
  const slot = moat.open(7, tls, 0);
  expect(slot).toBeGreaterThanOrEqual(0);
  const bytes = Buffer.from(raw, 'latin1');
  moat.write(bytes, 0);
  let from = 0;
  for (;;) {
    const r = moat.feed(slot, from, bytes.length, 0);
    if (r.verdict & (Verdict.DONE | Verdict.ERROR | Verdict.CLOSE)) return { slot, r };
    if (stopAtHead && r.verdict & Verdict.HEAD) return { slot, r };
    if (r.verdict === Verdict.NEED_MORE || r.consumed >= bytes.length) return { slot, r };
    from = r.consumed;
  }
}

type Ok = { head: Uint8Array; close: boolean };
function ok(r: Ok | number): Ok {
  if (typeof r === 'number') throw new Error(`respond refused with ${r}`);
  return r;
}

function respondTo(moat: Moat, raw: string, status: number, length: number, fields: AppField[] = [], opts = 0, tls = false) {
  const { slot } = feedRequest(moat, raw, tls);
  const r = ok(moat.respond(slot, status, length, fields, opts, 0));
  return { slot, head: checkHead(r.head), close: r.close };
}

// ---------------------------------------------------------------------------------------------

describe('the head checker itself', () => {
  it('accepts a well-formed head and rejects malformed ones', () => {
    const b = (s: string) => Buffer.from(s, 'latin1');
    expect(checkHead(b('HTTP/1.1 200 OK\r\nA: b\r\n\r\n')).get('a')).toBe('b');
    expect(() => checkHead(b('HTTP/1.1 200 OK\nA: b\r\n\r\n'))).toThrow(/bare LF/);
    expect(() => checkHead(b('HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n'))).toThrow(/bare CR/);
    expect(() => checkHead(b('HTTP/1.1 200 OK\r\nA: b\r\na: c\r\n\r\n'))).toThrow(/duplicate/);
    expect(() => checkHead(b('HTTP/1.1 200 OK\r\nA b: c\r\n\r\n'))).toThrow(/token/);
    expect(() => checkHead(b('HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n'))).toThrow(/value/);
    expect(() => checkHead(b('HTTP/1.0 200 OK\r\n\r\n'))).toThrow(/status line/);
    expect(() => checkHead(b('HTTP/1.1 200 OK\r\n'))).toThrow(/CRLF CRLF/);
  });
});

describe('status line', () => {
  const cases: [number, string][] = [
    [200, 'OK'], [201, 'Created'], [204, 'No Content'], [301, 'Moved Permanently'], [304, 'Not Modified'],
    [400, 'Bad Request'], [404, 'Not Found'], [405, 'Method Not Allowed'], [408, 'Request Timeout'],
    [413, 'Content Too Large'], [414, 'URI Too Long'], [431, 'Request Header Fields Too Large'],
    [500, 'Internal Server Error'], [501, 'Not Implemented'], [503, 'Service Unavailable'],
    [505, 'HTTP Version Not Supported'],
  ];
  it.each(cases)('%i has the exact status line "%s"', async (status, reason) => {
    const moat = await fresh();
    const { head } = respondTo(moat, GET11, status, 0);
    expect(head.text.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${reason}`);
    expect(head.status).toBe(status);
    expect(head.reason).toBe(reason);
  });
});

describe('framing', () => {
  it('Content-Length: length, exactly once, no Transfer-Encoding, keep-alive kept on HTTP/1.1', async () => {
    const moat = await fresh();
    const { head, close } = respondTo(moat, GET11, 200, 12345);
    expect(head.all('Content-Length')).toEqual(['12345']);
    expect(head.all('Transfer-Encoding')).toEqual([]);
    expect(head.all('Connection')).toEqual([]);
    expect(close).toBe(false);
    expect(moat.result().verdict).toBe(0);
  });

  it('Content-Length: 0 for an empty body', async () => {
    const moat = await fresh();
    const { head } = respondTo(moat, GET11, 200, 0);
    expect(head.all('Content-Length')).toEqual(['0']);
  });

  it('chunked when length is -1 on HTTP/1.1', async () => {
    const moat = await fresh();
    const { head, close } = respondTo(moat, GET11, 200, -1);
    expect(head.all('Transfer-Encoding')).toEqual(['chunked']);
    expect(head.all('Content-Length')).toEqual([]);
    expect(head.all('Connection')).toEqual([]);
    expect(close).toBe(false);
  });

  it('close-delimited with Connection: close on HTTP/1.0 when length is -1 (even a keep-alive request)', async () => {
    for (const raw of [GET10, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n']) {
      const moat = await fresh();
      const { head, close } = respondTo(moat, raw, 200, -1);
      expect(head.all('Transfer-Encoding')).toEqual([]);
      expect(head.all('Content-Length')).toEqual([]);
      expect(head.all('Connection')).toEqual(['close']);
      expect(close).toBe(true);
      expect(moat.result().verdict).toBe(Verdict.CLOSE);
    }
  });

  it('Connection: keep-alive for a keep-alive HTTP/1.0 request', async () => {
    const moat = await fresh();
    const { head, close } = respondTo(moat, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 200, 5);
    expect(head.all('Connection')).toEqual(['keep-alive']);
    expect(head.all('Content-Length')).toEqual(['5']);
    expect(close).toBe(false);
  });

  it('Connection: close for a plain HTTP/1.0 request', async () => {
    const moat = await fresh();
    const { head, close } = respondTo(moat, GET10, 200, 5);
    expect(head.all('Connection')).toEqual(['close']);
    expect(close).toBe(true);
  });

  it.each([204, 304])('no Content-Length / Transfer-Encoding on %i', async (status) => {
    for (const length of [0, 5, -1]) {
      const moat = await fresh();
      const { head, close } = respondTo(moat, GET11, status, length);
      expect(head.all('Content-Length')).toEqual([]);
      expect(head.all('Transfer-Encoding')).toEqual([]);
      expect(close).toBe(false);
      for (const [n, v] of SECURITY) expect(head.all(n)).toEqual([v]);
    }
  });

  it('100 Continue is just the status line and CRLF, and the final response follows', async () => {
    const moat = await fresh();
    const raw = 'POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n';
    const { slot, r } = feedRequest(moat, raw, false, true);
    expect(r.verdict & Verdict.HEAD).toBeTruthy();
    const c = ok(moat.respond(slot, 100, -1, [], 0, 0));
    expect(Buffer.from(c.head).toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    expect(c.close).toBe(false);
    moat.write(Buffer.from('abc'), 0);
    expect(moat.feed(slot, 0, 3, 0).verdict & Verdict.DONE).toBeTruthy();
    const f = ok(moat.respond(slot, 200, 2, [], 0, 0));
    const head = checkHead(f.head);
    expect(head.status).toBe(200);
    expect(head.all('Content-Length')).toEqual(['2']);
    expect(f.close).toBe(false);
  });
});

describe('Connection: close', () => {
  it('when the request said close', async () => {
    const moat = await fresh();
    const { head, close } = respondTo(moat, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 200, 3);
    expect(head.all('Connection')).toEqual(['close']);
    expect(close).toBe(true);
  });

  it('after an error verdict', async () => {
    const moat = await fresh();
    const { slot, r } = feedRequest(moat, 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n');
    expect(r.verdict).toBe(Verdict.ERROR);
    expect(r.status).toBe(400);
    const res = ok(moat.respond(slot, r.status, 0, [], 0, 0));
    const head = checkHead(res.head);
    expect(head.status).toBe(400);
    expect(head.all('Connection')).toEqual(['close']);
    expect(res.close).toBe(true);
  });

  it('with opts = 1', async () => {
    const moat = await fresh();
    const { head, close } = respondTo(moat, GET11, 200, 3, [], 1);
    expect(head.all('Connection')).toEqual(['close']);
    expect(close).toBe(true);
  });

  it('when responding after HEAD but before any of the body was fed', async () => {
    const moat = await fresh();
    const { slot, r } = feedRequest(moat, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n', false, true);
    expect(r.verdict).toBe(Verdict.HEAD);
    const res = ok(moat.respond(slot, 413, 0, [], 0, 0));
    expect(checkHead(res.head).all('Connection')).toEqual(['close']);
    expect(res.close).toBe(true);
  });

  it('when responding before the body was fully fed', async () => {
    const moat = await fresh();
    const { slot, r } = feedRequest(moat, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
    // The head is reported and the call went on into the body; the message is not complete.
    expect(r.verdict).toBe(Verdict.HEAD);
    expect(r.consumed).toBe(51);
    const res = ok(moat.respond(slot, 200, 0, [], 0, 0));
    expect(checkHead(res.head).all('Connection')).toEqual(['close']);
    expect(res.close).toBe(true);
    // The rest of the body must not be parsed as a new request.
    moat.write(Buffer.from('defghijGET / HTTP/1.1\r\nHost: a\r\n\r\n'), 0);
    expect(moat.feed(slot, 0, 36, 0).verdict & (Verdict.HEAD | Verdict.DONE)).toBe(0);
  });

  it('when responding while the next request on a keep-alive connection is still mid-head', async () => {
    // The first request completed and was answered keep-alive; the second has only part of its
    // head. A response now cannot leave the connection open: the rest of that request would be
    // parsed and answered again (response desync). The flags of the previous request must not
    // decide persistence.
    const moat = await fresh();
    const { slot } = feedRequest(moat, GET11);
    expect(ok(moat.respond(slot, 200, 0, [], 0, 0)).close).toBe(false);
    const part = Buffer.from('GET /next HTTP/1.1\r\nHo');
    moat.write(part, 0);
    expect(moat.feed(slot, 0, part.length, 0).verdict).toBe(Verdict.NEED_MORE);
    const res = ok(moat.respond(slot, 503, 0, [], 0, 0));
    expect(checkHead(res.head).all('Connection')).toEqual(['close']);
    expect(res.close).toBe(true);
  });

  it('when responding on a fresh slot before any request', async () => {
    const moat = await fresh();
    const slot = moat.open(0, false, 0);
    const res = ok(moat.respond(slot, 503, 0, [], 0, 0));
    expect(checkHead(res.head).all('Connection')).toEqual(['close']);
    expect(res.close).toBe(true);
  });

  it('chunked request answered before the last chunk', async () => {
    const moat = await fresh();
    const { slot, r } = feedRequest(moat, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    expect(r.verdict).toBe(Verdict.HEAD);
    const res = ok(moat.respond(slot, 200, 0, [], 0, 0));
    expect(checkHead(res.head).all('Connection')).toEqual(['close']);
    expect(res.close).toBe(true);
  });
});

describe('security fields', () => {
  it('the four defaults are present exactly once', async () => {
    const moat = await fresh();
    const { head } = respondTo(moat, GET11, 200, 0, [['Content-Type', 'text/plain'], ['Cache-Control', 'no-store']]);
    for (const [n, v] of SECURITY) expect(head.all(n)).toEqual([v]);
    expect(head.all('Content-Type')).toEqual(['text/plain']);
    expect(head.all('Cache-Control')).toEqual(['no-store']);
    expect(head.all('Strict-Transport-Security')).toEqual([]);
  });

  it('are present on error responses too', async () => {
    const moat = await fresh();
    const { head } = respondTo(moat, GET11, 500, 0);
    for (const [n, v] of SECURITY) expect(head.all(n)).toEqual([v]);
  });

  it.each(SECURITY.map(([n]) => n))('an application %s replaces the default (any case)', async (name) => {
    for (const spelled of [name, name.toLowerCase(), name.toUpperCase()]) {
      const moat = await fresh();
      const { head } = respondTo(moat, GET11, 200, 0, [[spelled, 'app-value']]);
      expect(head.all(name)).toEqual(['app-value']);
      for (const [n, v] of SECURITY) if (n !== name) expect(head.all(n)).toEqual([v]);
    }
  });

  it('HSTS only on a TLS slot and only when flags bit 2 is set', async () => {
    const plain = await fresh({ hsts_max_age: 600 });
    expect(respondTo(plain, GET11, 200, 0, [], 0, true).head.all('Strict-Transport-Security')).toEqual([]);
    expect(respondTo(plain, GET11, 200, 0, [], 0, false).head.all('Strict-Transport-Security')).toEqual([]);

    const moat = await fresh();
    moat.configure({ flags: 2, hsts_max_age: 600 });
    expect(respondTo(moat, GET11, 200, 0, [], 0, false).head.all('Strict-Transport-Security')).toEqual([]);
    const tls = respondTo(moat, GET11, 200, 0, [], 0, true).head;
    expect(tls.all('Strict-Transport-Security')).toEqual(['max-age=600']);
    for (const [n, v] of SECURITY) expect(tls.all(n)).toEqual([v]);
  });

  it('HSTS includeSubDomains with flags 2|4, and an application HSTS replaces it', async () => {
    const moat = await fresh();
    moat.configure({ flags: 6, hsts_max_age: 600 });
    expect(respondTo(moat, GET11, 200, 0, [], 0, true).head.all('Strict-Transport-Security')).toEqual(['max-age=600; includeSubDomains']);
    const own = respondTo(moat, GET11, 200, 0, [['strict-transport-security', 'max-age=5']], 0, true).head;
    expect(own.all('Strict-Transport-Security')).toEqual(['max-age=5']);
  });

  it('Server and X-Powered-By are dropped (any case) and the drop is an event of kind 4', async () => {
    const moat = await fresh();
    const before = moat.eventCount();
    const { slot, head } = respondTo(moat, GET11, 200, 0, [['Server', 'nginx/1.0'], ['x-powered-by', 'PHP'], ['SERVER', 'x'], ['X-Kept', '1']]);
    expect(head.all('Server')).toEqual([]);
    expect(head.all('X-Powered-By')).toEqual([]);
    expect(head.all('X-Kept')).toEqual(['1']);
    const { events } = moat.events(before);
    const drops = events.filter((e) => e.kind === EventKind.RESPONSE);
    expect(drops.length).toBe(3);
    for (const e of drops) { expect(e.slot).toBe(slot); expect(e.client).toBe(7); }
  });
});

describe('refusals', () => {
  function refused(moat: Moat, fields: AppField[], status = 200, want: number) {
    const { slot } = feedRequest(moat, GET11);
    const before = moat.eventCount();
    const r = moat.respond(slot, status, 0, fields, 0, 0);
    expect(r).toBe(want);
    return { slot, events: moat.events(before).events };
  }

  const BAD_VALUES: [string, string][] = [
    ['CR', 'a\rb'], ['LF', 'a\nb'], ['CRLF + fake header', 'x\r\nSet-Cookie: admin=1'],
    ['CRLF CRLF + body', 'x\r\n\r\n<script>'], ['trailing CRLF', 'x\r\n'], ['NUL', 'a\x00b'], ['DEL', 'a\x7fb'],
    ['SOH', '\x01'], ['VT', 'a\x0bb'], ['FF', 'a\x0cb'], ['ESC', '\x1b[31m'], ['US', 'a\x1f'],
  ];
  it.each(BAD_VALUES)('value with %s → -42, no head, event kind 4', async (_, value) => {
    const moat = await fresh();
    const { slot, events } = refused(moat, [['X-Ok', 'fine'], ['X-Test', value]], 200, -42);
    const ev = events.filter((e) => e.kind === EventKind.RESPONSE);
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ slot, code: 42, client: 7 });
    // The slot still answers a clean response afterwards.
    const again = ok(moat.respond(slot, 200, 0, [['X-Test', 'clean']], 0, 0));
    expect(checkHead(again.head).all('X-Test')).toEqual(['clean']);
  });

  it('HTAB, SP and obs-text in values are allowed', async () => {
    const moat = await fresh();
    const { head } = respondTo(moat, GET11, 200, 0, [['X-Test', 'a\tb c\xe9\xff']]);
    expect(head.all('X-Test')).toEqual(['a\tb c\xe9\xff']);
  });

  const BAD_NAMES: [string, string][] = [
    ['space', 'X Test'], ['colon', 'X:Test'], ['empty', ''], ['(', '('], ['non-ASCII', 'X-T\xe9st'],
    ['0x80', '\x80'], ['HTAB', 'X\tY'], ['CR', 'X\rY'], ['LF', 'X\nY'], ['NUL', 'X\x00'], ['DQUOTE', '"X"'],
    ['slash', 'X/Y'], ['at', '@'], ['brackets', '[X]'], ['comma', 'X,Y'],
  ];
  it.each(BAD_NAMES)('name with %s → -41, no head, event kind 4', async (_, name) => {
    const moat = await fresh();
    const { slot, events } = refused(moat, [[name, 'v']], 200, -41);
    expect(events.filter((e) => e.kind === EventKind.RESPONSE)).toEqual([expect.objectContaining({ slot, code: 41 })]);
  });

  const FRAMING = ['Content-Length', 'Transfer-Encoding', 'Connection', 'Keep-Alive', 'Upgrade', 'TE', 'Trailer'];
  const spellings = (n: string) => [n, n.toLowerCase(), n.toUpperCase(), [...n].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join('')];
  it.each(FRAMING)('framing name %s in any case → -43, event kind 4', async (name) => {
    for (const spelled of spellings(name)) {
      const moat = await fresh();
      const { slot, events } = refused(moat, [['X-Before', '1'], [spelled, 'x']], 200, -43);
      expect(events.filter((e) => e.kind === EventKind.RESPONSE)).toEqual([expect.objectContaining({ slot, code: 43 })]);
    }
  });

  it('names that merely contain a framing name are fine', async () => {
    const moat = await fresh();
    const { head } = respondTo(moat, GET11, 200, 0, [['Content-Lengths', '1'], ['X-Connection', '2'], ['TEE', '3'], ['Trailers', '4']]);
    expect(head.all('Content-Lengths')).toEqual(['1']);
    expect(head.all('X-Connection')).toEqual(['2']);
    expect(head.all('TEE')).toEqual(['3']);
    expect(head.all('Trailers')).toEqual(['4']);
  });

  it.each([99, 600, 0, 1, 1000, 65736])('status %i → -40', async (status) => {
    const moat = await fresh();
    refused(moat, [], status, -40);
  });

  it('status 100 and 599 are accepted', async () => {
    const moat = await fresh();
    const { slot } = feedRequest(moat, GET11);
    expect(checkHead(ok(moat.respond(slot, 599, 0, [], 0, 0)).head).status).toBe(599);
    const m2 = await fresh();
    const s2 = feedRequest(m2, GET11).slot;
    expect(checkHead(ok(m2.respond(s2, 100, -1, [], 0, 0)).head).status).toBe(100);
  });

  it('a head that does not fit the output area → -44', async () => {
    const moat = await fresh({ out_bytes: 256 });
    const { slot } = feedRequest(moat, GET11);
    expect(moat.respond(slot, 200, 0, [['X-Long', 'a'.repeat(300)]], 0, 0)).toBe(-44);
    // A long field that fits alone still fails once the defaults are added.
    expect(moat.respond(slot, 200, 0, [['X-Long', 'a'.repeat(200)]], 0, 0)).toBe(-44);
    // And a small one fits.
    const small = ok(moat.respond(slot, 200, 0, [['X-Short', 'a']], 0, 0));
    expect(small.head.length).toBeLessThanOrEqual(256);
    checkHead(small.head);
  });

  it('a head refused for size (-44, caused by an application field) is recorded as an event of kind 4', async () => {
    // ABI.md: event kind 4 = "response field refused or dropped"; here the field is refused because
    // the head it would produce does not fit, and nothing is emitted, so it must be visible too.
    const moat = await fresh({ out_bytes: 256 });
    const { slot } = feedRequest(moat, GET11);
    const before = moat.eventCount();
    expect(moat.respond(slot, 200, 0, [['X-Long', 'a'.repeat(300)]], 0, 0)).toBe(-44);
    expect(moat.events(before).events).toEqual([expect.objectContaining({ kind: EventKind.RESPONSE, slot, code: 44 })]);
  });

  it('a closed or never-opened slot → -45', async () => {
    const moat = await fresh();
    const { slot } = feedRequest(moat, GET11);
    moat.close(slot);
    expect(moat.respond(slot, 200, 0, [], 0, 0)).toBe(-45);
    expect(moat.respond(9999, 200, 0, [], 0, 0)).toBe(-45);
  });
});
