// The config file: units, the schema (a table of bad configs → exact one-line messages), the
// embedded default, merging over it, and the mapping onto the module's config words checked
// against a real module.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError, DEFAULT_CONFIG_PATH, compileConfig, defaultConfigText, loadConfig, moduleDefaults, parseConfig, toModuleConfig, validateConfig,
} from '../host/config.ts';
import { ConfigWord, NEVER, Verdict, encodeConfig, loadMoat, type ModuleConfig } from '../host/module.ts';
import { formatDuration, formatSize, parseCount, parseDuration, parseSize } from '../host/units.ts';
import type { MoatConfig } from '../host/types.ts';

const HOST_DIR = fileURLToPath(new URL('../host/', import.meta.url));
const DURATION_UNITS = 'msecs, secs, mins, hours, days, weeks, months, years';
const SIZE_UNITS = 'bytes, K, KB, M, MB, G, GB';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'moat-config-'));
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'device.crt'), 'not checked here\n');
  writeFileSync(join(dir, 'device.key'), 'not checked here\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError message `fn` throws (fails the test when it throws nothing or something else). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError, got none');
}

const web = (w: object) => ({ web: w });
const limits = (l: object) => web({ limits: l });
const timeouts = (t: object) => web({ timeouts: t });
const headers = (h: object) => web({ headers: h });
const routes = (r: unknown[], documents: string | null = 'www') => web({ documents, routes: r });

// [what, config object (validated with baseDir = the temp dir), exact message]
const BAD: [string, unknown, string | (() => string)][] = [
  // durations
  ['"5m" is ambiguous', timeouts({ parse: '5m' }), `web.timeouts.parse: "5m" — "m" is ambiguous: spell the unit out (${DURATION_UNITS})`],
  ['"30s" is ambiguous', timeouts({ request: '30s' }), `web.timeouts.request: "30s" — "s" is ambiguous: spell the unit out (${DURATION_UNITS})`],
  ['a bare JSON number', timeouts({ parse: 5 }), `web.timeouts.parse: 5 — a duration needs a unit (${DURATION_UNITS}), as in "30 secs"`],
  ['a bare digit string', timeouts({ inactivity: '5' }), `web.timeouts.inactivity: "5" — a duration needs a unit (${DURATION_UNITS}), as in "30 secs"`],
  ['an unknown unit', timeouts({ parse: '5 parsecs' }), `web.timeouts.parse: "5 parsecs" — unknown duration unit "parsecs" (use ${DURATION_UNITS})`],
  ['a negative duration', timeouts({ parse: '-5 secs' }), 'web.timeouts.parse: "-5 secs" — a duration cannot be negative'],
  ['a fractional count', timeouts({ parse: '1.5 secs' }), 'web.timeouts.parse: "1.5 secs" — the count before the unit must be a whole number (write "1500 msecs")'],
  ['a fractional count in hours', timeouts({ session: '1.5 hours' }), 'web.timeouts.session: "1.5 hours" — the count before the unit must be a whole number (write "90 mins")'],
  ['a zero timeout', timeouts({ tls: '0 secs' }), 'web.timeouts.tls: "0 secs" — must be more than zero (use "infinite" for no limit)'],
  ['a timeout past the u32 clock', timeouts({ session: '1 month' }), 'web.timeouts.session: "1 month" — too long: the module\'s clock allows at most 2147483647 ms (about 24.8 days); use "infinite" for no limit'],
  ['a duration that is not a string', timeouts({ parse: true }), 'web.timeouts.parse: true — a duration is a string such as "30 secs" or "infinite"'],
  ['a duration with no number', timeouts({ parse: 'soon' }), `web.timeouts.parse: "soon" — a duration is a whole number with a unit (${DURATION_UNITS}), as in "30 secs"`],
  ['a session timeout without unit', web({ sessions: { timeout: '60' } }), `web.sessions.timeout: "60" — a duration needs a unit (${DURATION_UNITS}), as in "30 secs"`],
  // sizes
  ['a digit-string size', limits({ body: '100' }), `web.limits.body: "100" — a size in a string needs a unit (${SIZE_UNITS}); write bytes as a JSON number`],
  ['a fractional size', limits({ upload: '1.5MB' }), 'web.limits.upload: "1.5MB" — the count before the unit must be a whole number (write "1536K")'],
  ['an unknown size unit', limits({ body: '10 TB' }), `web.limits.body: "10 TB" — unknown size unit "TB" (use ${SIZE_UNITS})`],
  ['an unlimited size', limits({ body: 'unlimited' }), 'web.limits.body: "unlimited" — this size cannot be unlimited'],
  ['a negative JSON size', limits({ form: -1 }), 'web.limits.form: -1 — a size in bytes must be a whole number, 0 or more'],
  ['a fractional JSON size', limits({ form: 1.5 }), 'web.limits.form: 1.5 — a size in bytes must be a whole number, 0 or more'],
  ['a negative size string', limits({ body: '-1K' }), 'web.limits.body: "-1K" — a size cannot be negative'],
  ['a size past u32', limits({ upload: '4GB' }), 'web.limits.upload: "4GB" — too large: at most 4294967295 bytes'],
  ['a size that is not a number or string', limits({ body: [1] }), `web.limits.body: [1] — a size is a JSON integer of bytes or a string with a unit (${SIZE_UNITS}), as in "100K"`],
  ['a zero size', limits({ body: 0 }), 'web.limits.body: 0 — must be at least 1'],
  // counts
  ['a count in exponent form', limits({ headers: '1e3' }), 'web.limits.headers: "1e3" — a count is a whole number, 0 or more (a JSON integer or a string of digits)'],
  ['a count with a unit', limits({ connections: '10K' }), 'web.limits.connections: "10K" — a count is a whole number, 0 or more (a JSON integer or a string of digits)'],
  ['zero connections per client', limits({ clientConnections: 0 }), 'web.limits.clientConnections: 0 — must be at least 1'],
  // limits the module cannot hold
  ['more connections than slots', limits({ connections: 300 }), 'web.limits.connections: 300 — the module holds at most 255 connections'],
  ['a field section as large as the window', limits({ header: '16K' }), 'web.limits.header: "16K" — must be smaller than the module\'s 16384-byte input window, moat.window (at most 16383 bytes)'],
  ['a URI larger than the window', limits({ uri: '20K' }), 'web.limits.uri: "20K" — must be smaller than the module\'s 16384-byte input window, moat.window (at most 16383 bytes)'],
  ['a window below the minimum', { moat: { window: 256 } }, 'moat.window: 256 — must be at least 512 bytes (a request line and a few fields)'],
  ['a window smaller than the URI limit', { moat: { window: '8K' } }, 'web.limits.uri: "8K" — must be smaller than the module\'s 8192-byte input window, moat.window (at most 8191 bytes)'],
  ['a window the module cannot hold', { moat: { window: '64K' } }, 'moat.window: 65536 — the module refused it (code 46): its tables (moat.window 65536, web.limits.connections 50, moat.defense.clients 64) do not fit one 64 KiB page; with this key at its default (16384) they do'],
  ['tables that only fit with two keys lowered', { moat: { window: '40K', defense: { clients: 600 } }, web: { limits: { connections: 255 } } }, 'moat.window, web.limits.connections, moat.defense.clients: "40960, 255, 600" — the module refused them (code 46): together its tables do not fit one 64 KiB page, and no one of them back at its default makes them fit: lower more than one of them'],
  ['a client table the module cannot hold beside a large window', { moat: { window: '32K', defense: { clients: 1024 } } }, 'moat.defense.clients: 1024 — the module refused it (code 46): its tables (moat.window 32768, web.limits.connections 50, moat.defense.clients 1024) do not fit one 64 KiB page; with this key at its default (64) they do'],
  // unknown keys and shapes
  ['an unknown top-level key', { bogus: 1 }, 'bogus: unknown key'],
  ['an unknown key in web', web({ document: './www' }), 'web.document: unknown key'],
  ['an unknown limit', limits({ bodyy: '1K' }), 'web.limits.bodyy: unknown key'],
  ['an unknown key in a route', routes([{ match: '/', hander: 'file' }]), 'web.routes[0].hander: unknown key'],
  ['an unknown key in tls.hsts', { tls: { certificate: 'device.crt', key: 'device.key', hsts: { maxage: '1 day' } } }, 'tls.hsts.maxage: unknown key'],
  ['an unknown key in log.access', { log: { access: { colour: true } } }, 'log.access.colour: unknown key'],
  ['a key that is not an identifier', { 'odd key': 1 }, '["odd key"]: unknown key'],
  ['__proto__ is just an unknown key', JSON.parse('{"web": {"__proto__": {"x": 1}}}'), 'web.__proto__: unknown key'],
  ['a config that is not an object', [], 'config: [] — the config must be one JSON5 object'],
  ['a section that is not an object', web({ limits: 5 }), 'web.limits: 5 — must be an object'],
  // listen
  ['listen as one string', web({ listen: 'http://:8080' }), 'web.listen: "http://:8080" — must be an array of endpoints such as ["http://:8080"]'],
  ['no endpoints', web({ listen: [] }), 'web.listen: [] — needs at least one endpoint'],
  ['an ftp endpoint', web({ listen: ['ftp://:21'] }), 'web.listen[0]: "ftp://:21" — the scheme must be http or https'],
  ['an endpoint without a scheme', web({ listen: ['localhost:8080'] }), 'web.listen[0]: "localhost:8080" — an endpoint is "http://HOST:PORT" or "https://HOST:PORT"'],
  ['a port past 65535', web({ listen: ['http://:99999'] }), 'web.listen[0]: "http://:99999" — the port must be a number from 0 to 65535'],
  ['an empty port', web({ listen: ['http://127.0.0.1:'] }), 'web.listen[0]: "http://127.0.0.1:" — the port must be a number from 0 to 65535'],
  ['a short IPv4 address', web({ listen: ['http://1.2.3:80'] }), 'web.listen[0]: "http://1.2.3:80" — not an IPv4 address: 1.2.3'],
  ['a bad IPv6 address', web({ listen: ['http://[::g]:80'] }), 'web.listen[0]: "http://[::g]:80" — not an IPv6 address: [::g]'],
  ['a bare IPv6 address', web({ listen: ['http://::1:80'] }), 'web.listen[0]: "http://::1:80" — an IPv6 address needs brackets, as in "http://[::1]:8080"'],
  ['a host name with a space', web({ listen: ['http://my device:80'] }), 'web.listen[0]: "http://my device:80" — not a host name: my device'],
  ['an endpoint with a path', web({ listen: ['http://:8080/app'] }), 'web.listen[0]: "http://:8080/app" — an endpoint has no path'],
  ['an endpoint listed twice', web({ listen: ['http://:8080', 'http://:8080'] }), 'web.listen[1]: "http://:8080" — the same address and port as web.listen[0]'],
  ['an endpoint that is not a string', web({ listen: [8080] }), 'web.listen[0]: 8080 — an endpoint is a string such as "http://:8080"'],
  ['https without tls', web({ listen: ['http://:8080', 'https://:8443'] }), 'web.listen[1]: "https://:8443" — https needs the tls section (certificate and key)'],
  ['https with a missing certificate', { web: { listen: ['https://:8443'] }, tls: { certificate: 'missing.crt', key: 'device.key' } }, () => `tls.certificate: "missing.crt" — file not found: ${join(dir, 'missing.crt')}`],
  ['https with a missing key', { web: { listen: ['https://:8443'] }, tls: { certificate: 'device.crt', key: 'nokey.pem' } }, () => `tls.key: "nokey.pem" — file not found: ${join(dir, 'nokey.pem')}`],
  ['tls without a key', { tls: { certificate: 'device.crt' } }, 'tls: {"certificate":"device.crt"} — needs "key" (a PEM file)'],
  ['an HSTS max-age in msecs', { tls: { certificate: 'device.crt', key: 'device.key', hsts: { maxAge: '1500 msecs' } } }, 'tls.hsts.maxAge: "1500 msecs" — max-age is whole seconds'],
  ['an infinite HSTS max-age', { tls: { certificate: 'device.crt', key: 'device.key', hsts: { maxAge: 'forever' } } }, 'tls.hsts.maxAge: "forever" — this duration cannot be infinite'],
  // headers
  ['a field name with a space', headers({ 'X Bad': '1' }), 'web.headers["X Bad"]: "1" — the field name must be a token (letters, digits and !#$%&\'*+-.^_`|~)'],
  ['a field name with a colon', headers({ 'X-A:': '1' }), 'web.headers["X-A:"]: "1" — the field name must be a token (letters, digits and !#$%&\'*+-.^_`|~)'],
  ['a value with CR LF', headers({ 'X-A': 'a\r\nSet-Cookie: x=1' }), 'web.headers["X-A"]: "a\\r\\nSet-Cookie: x=1" — a field value must not contain CR or LF'],
  ['a value with a control character', headers({ 'X-A': 'a\u0001b' }), 'web.headers["X-A"]: "a\\u0001b" — a field value must not contain control characters'],
  ['a value with DEL', headers({ 'X-A': 'a\u007fb' }), 'web.headers["X-A"]: "a\u007fb" — a field value must not contain control characters'],
  ['a non-ASCII value', headers({ 'X-A': 'café' }), 'web.headers["X-A"]: "café" — a field value must be ASCII'],
  ['a value with a leading space', headers({ 'X-A': ' v' }), 'web.headers["X-A"]: " v" — a field value must not start or end with a space or tab'],
  ['a value that is a number', headers({ 'X-A': 5 }), 'web.headers["X-A"]: 5 — a field value must be a string'],
  ['Content-Length', headers({ 'Content-Length': '5' }), 'web.headers["Content-Length"]: "5" — a framing field: the module writes it'],
  ['transfer-encoding in lower case', headers({ 'transfer-encoding': 'chunked' }), 'web.headers["transfer-encoding"]: "chunked" — a framing field: the module writes it'],
  ['Connection', headers({ Connection: 'close' }), 'web.headers.Connection: "close" — a framing field: the module writes it'],
  ['Server', headers({ Server: 'moat' }), 'web.headers.Server: "moat" — the module never sends this field'],
  ['HSTS in headers', headers({ 'Strict-Transport-Security': 'max-age=31536000' }), 'web.headers["Strict-Transport-Security"]: "max-age=31536000" — use tls.hsts so it is sent on TLS only'],
  ['one field twice', headers({ 'X-A': '1', 'x-a': '2' }), 'web.headers["x-a"]: "2" — the same field as web.headers["X-A"]'],
  // routes
  ['an unknown handler', routes([{ match: '/', handler: 'cgi' }]), 'web.routes[0].handler: "cgi" — unknown handler (known: file, status, echo, login, logout, session, metrics, dashboard-api, dashboard-ui)'],
  ['a lower-case method', routes([{ match: '/', methods: ['get'], handler: 'file' }]), 'web.routes[0].methods[0]: "get" — methods are case-sensitive: write "GET"'],
  ['a method that is not a token', routes([{ match: '/', methods: ['GET', 'PO ST'], handler: 'file' }]), 'web.routes[0].methods[1]: "PO ST" — a method must be a token (letters, digits and !#$%&\'*+-.^_`|~)'],
  ['an empty method list', routes([{ match: '/', methods: [], handler: 'file' }]), 'web.routes[0].methods: [] — needs at least one method (leave it out for any)'],
  ['a method listed twice', routes([{ match: '/', methods: ['GET', 'GET'], handler: 'file' }]), 'web.routes[0].methods[1]: "GET" — listed twice'],
  ['a match without a slash', routes([{ match: 'api', handler: 'status' }]), 'web.routes[0].match: "api" — must be a path prefix starting with "/"'],
  ['a match with a query', routes([{ match: '/a?b', handler: 'status' }]), 'web.routes[0].match: "/a?b" — may hold only path characters (no spaces, "?", "#" or bare "%")'],
  ['a match with a dot-dot segment', routes([{ match: '/a/../b', handler: 'status' }]), 'web.routes[0].match: "/a/../b" — must not hold "." or ".." segments'],
  ['a route without a handler', routes([{ match: '/' }]), 'web.routes[0]: {"match":"/"} — a route needs "handler"'],
  ['two routes with one prefix', routes([{ match: '/a', handler: 'status' }, { match: '/a', handler: 'echo' }]), 'web.routes[1].match: "/a" — the same prefix as web.routes[0]'],
  ['a file route with no documents', routes([{ match: '/', handler: 'file' }], null), 'web.routes[0].handler: "file" — needs web.documents (the document root is null)'],
  ['a role with a space', routes([{ match: '/', handler: 'status', role: 'super user' }]), 'web.routes[0].role: "super user" — must be one of "viewer", "operator", "admin"'],
  // the rest of the schema
  ['a missing document root', web({ documents: 'nope' }), () => `web.documents: "nope" — folder not found: ${join(dir, 'nope')}`],
  ['a document root that is a file', web({ documents: 'device.crt' }), () => `web.documents: "device.crt" — not a folder: ${join(dir, 'device.crt')}`],
  ['an index with a folder', web({ index: 'a/index.html' }), 'web.index: "a/index.html" — must be a file name (no folders)'],
  ['a sameSite in lower case', web({ sessions: { sameSite: 'lax' } }), 'web.sessions.sameSite: "lax" — must be one of "Strict", "Lax", "None"'],
  ['a cookie name with a space', web({ sessions: { cookie: 'my session' } }), 'web.sessions.cookie: "my session" — a cookie name must be a token (letters, digits and !#$%&\'*+-.^_`|~)'],
  ['an access log format', { log: { access: { format: 'xml' } } }, 'log.access.format: "xml" — must be one of "common", "json"'],
  ['an error log level', { log: { error: { level: 'verbose' } } }, 'log.error.level: "verbose" — must be one of "error", "warn", "info", "debug"'],
  ['a log file in a missing folder', { log: { security: { path: 'logs/security.log' } } }, () => `log.security.path: "logs/security.log" — its folder does not exist: ${join(dir, 'logs')}`],
  ['stealth as a string', { moat: { stealth: 'yes' } }, 'moat.stealth: "yes" — must be true or false'],
];

describe('bad configs: one exact line each', () => {
  it('the table is large enough', () => expect(BAD.length).toBeGreaterThanOrEqual(30));
  for (const [what, config, message] of BAD) {
    it(what, () => {
      const expected = typeof message === 'function' ? message() : message;
      expect(errorOf(() => validateConfig(config, { baseDir: dir }))).toBe(expected);
    });
  }

  it('the error names its key', () => {
    try {
      validateConfig(limits({ bodyy: 1 }), { baseDir: dir });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).key).toBe('web.limits.bodyy');
    }
  });

  it('a JSON5 syntax error gives file:line:col', () => {
    const text = '{\n  web: {\n    listen: [oops],\n  },\n}\n';
    expect(errorOf(() => parseConfig(text, join(dir, 'bad.json5')))).toBe(`${join(dir, 'bad.json5')}:3:14: invalid character 'o'`);
    expect(errorOf(() => parseConfig('{web: {', 'short.json5'))).toBe('short.json5:1:8: invalid end of input');
  });

  it('a missing file says so', () => {
    expect(errorOf(() => loadConfig(join(dir, 'none.json5')))).toBe(`${join(dir, 'none.json5')}: cannot read the config file (not found)`);
  });

  it('handler names come from the caller', () => {
    const cfg = routes([{ match: '/x', handler: 'custom' }]);
    expect(errorOf(() => validateConfig(cfg, { baseDir: dir }))).toBe('web.routes[0].handler: "custom" — unknown handler (known: file, status, echo, login, logout, session, metrics, dashboard-api, dashboard-ui)');
    expect(validateConfig(cfg, { baseDir: dir, handlers: ['file', 'custom'] }).web.routes).toEqual([{ match: '/x', methods: null, handler: 'custom', role: null }]);
  });
});

describe('units', () => {
  const DURATIONS: [string, number][] = [
    ['250 msec', 250], ['250 msecs', 250], ['250 millisecond', 250], ['250 milliseconds', 250],
    ['1 sec', 1000], ['30 secs', 30000], ['1 second', 1000], ['2 seconds', 2000],
    ['1 min', 60000], ['5 mins', 300000], ['1 minute', 60000], ['3 minutes', 180000],
    ['1 hr', 3600000], ['2 hrs', 7200000], ['1 hour', 3600000], ['4 hours', 14400000],
    ['1 day', 86400000], ['2 days', 172800000], ['1 week', 604800000], ['2 weeks', 1209600000],
    ['1 month', 2592000000], ['2 months', 5184000000], ['1 year', 31536000000], ['2 years', 63072000000],
    ['5 MINS', 300000], ['5Mins', 300000], ['5mins', 300000], ['  7 Secs ', 7000],
    ['infinite', Infinity], ['never', Infinity], ['Forever', Infinity], ['unlimited', Infinity],
  ];
  for (const [text, ms] of DURATIONS) {
    it(`duration ${JSON.stringify(text)} = ${ms} ms`, () => expect(parseDuration(text, 'd', { max: Infinity })).toBe(ms));
  }

  it('a valid duration reaches the config', () => {
    const cfg = validateConfig(timeouts({ parse: '2 secs', inactivity: '10 mins', request: 'never', session: '24 days', tls: '500 msecs' }), { baseDir: dir });
    expect(cfg.web.timeouts).toEqual({ parse: 2000, inactivity: 600000, request: Infinity, session: 24 * 86400000, tls: 500 });
  });

  const SIZES: [unknown, number][] = [
    [0, 0], [1, 1], [102400, 102400], ['100K', 102400], ['100k', 102400], ['10KB', 10240], ['10 kb', 10240], ['4KiB', 4096],
    ['1M', 1048576], ['1MB', 1048576], ['2 mb', 2097152], ['1MiB', 1048576], ['1G', 1073741824], ['3GB', 3221225472],
    ['512 bytes', 512], ['1 byte', 1], ['64b', 64], ['0.5K', 512], ['.5K', 512],
  ];
  for (const [value, bytes] of SIZES) {
    if (value === '0.5K' || value === '.5K') {
      it(`size ${JSON.stringify(value)} is refused with a hint`, () => {
        expect(errorOf(() => parseSize(value, 's'))).toBe(`s: ${JSON.stringify(value)} — the count before the unit must be a whole number (write "512 bytes")`);
      });
      continue;
    }
    it(`size ${JSON.stringify(value)} = ${bytes} bytes`, () => expect(parseSize(value, 's')).toBe(bytes));
  }

  it('sizes may be unlimited where the key allows it', () => {
    expect(parseSize('unlimited', 's', { unlimited: true })).toBe(Infinity);
    expect(parseSize('Infinite', 's', { unlimited: true })).toBe(Infinity);
  });

  it('counts are JSON integers or digit strings', () => {
    expect(parseCount(100, 'c')).toBe(100);
    expect(parseCount('100', 'c')).toBe(100);
    expect(parseCount(0, 'c')).toBe(0);
    expect(errorOf(() => parseCount(1.5, 'c'))).toBe('c: 1.5 — a count is a whole number, 0 or more (a JSON integer or a string of digits)');
    expect(errorOf(() => parseCount(-1, 'c'))).toBe('c: -1 — a count is a whole number, 0 or more (a JSON integer or a string of digits)');
    expect(errorOf(() => parseCount(2 ** 32, 'c'))).toBe('c: 4294967296 — too large: at most 4294967295');
  });

  it('formats sizes and durations back', () => {
    expect([102400, 1048576, 1536 * 1024, 1000, 0].map(formatSize)).toEqual(['100K', '1M', '1536K', '1000 bytes', '0 bytes']);
    expect([5000, 60000, 3600000, 5400000, 86400000, 1500, Infinity].map(formatDuration))
      .toEqual(['5 secs', '1 min', '1 hour', '90 mins', '1 day', '1500 msecs', 'infinite']);
  });

  it('long values are shortened in messages', () => {
    expect(errorOf(() => parseDuration('x'.repeat(100), 'k'))).toBe(`k: "${'x'.repeat(58)}… — a duration is a whole number with a unit (${DURATION_UNITS}), as in "30 secs"`);
  });
});

describe('listen endpoints', () => {
  const cases: [string, object][] = [
    ['http://:8080', { scheme: 'http', host: '', port: 8080 }],
    ['http://*:8080', { scheme: 'http', host: '', port: 8080 }],
    ['https://127.0.0.1:8443', { scheme: 'https', host: '127.0.0.1', port: 8443 }],
    ['http://[::1]:80', { scheme: 'http', host: '::1', port: 80 }],
    ['http://[::1]', { scheme: 'http', host: '::1', port: 80 }],
    ['https://Device.Local', { scheme: 'https', host: 'device.local', port: 443 }],
    ['HTTP://0.0.0.0:0', { scheme: 'http', host: '0.0.0.0', port: 0 }],
    ['http://localhost:8080/', { scheme: 'http', host: 'localhost', port: 8080 }],
  ];
  for (const [text, spec] of cases) {
    it(text, () => {
      const cfg = validateConfig({ web: { listen: [text] }, tls: { certificate: 'device.crt', key: 'device.key' } }, { baseDir: dir });
      expect(cfg.web.listen).toEqual([spec]);
    });
  }
});

describe('the embedded default', () => {
  it('loads with the documented values', () => {
    const cfg = loadConfig();
    expect(cfg.web.listen).toEqual([{ scheme: 'http', host: '127.0.0.1', port: 8080 }]);
    expect(cfg.web.documents).toBe(join(HOST_DIR, 'site'));
    expect(cfg.web.index).toBe('index.html');
    expect(cfg.web.limits).toEqual({
      body: 102400, form: 10240, upload: 1048576, header: 10240, headers: 100, uri: 8192, chunkExt: 1024,
      connections: 50, clientConnections: 10, clientRequests: 1200, sessions: 20,
    });
    expect(cfg.web.timeouts).toEqual({ parse: 5000, inactivity: 300000, request: 300000, session: 3600000, tls: 10000 });
    expect(cfg.web.headers).toEqual([]);
    expect(cfg.web.routes).toEqual([
      { match: '/api/status', methods: ['GET'], handler: 'status', role: null },
      { match: '/api/echo', methods: ['POST'], handler: 'echo', role: null },
      { match: '/auth/login', methods: ['POST'], handler: 'login', role: null },
      { match: '/auth/logout', methods: ['POST'], handler: 'logout', role: null },
      { match: '/auth/session', methods: ['GET'], handler: 'session', role: null },
      { match: '/metrics', methods: ['GET'], handler: 'metrics', role: 'operator' },
      { match: '/_moat/api/', methods: ['GET', 'HEAD', 'POST'], handler: 'dashboard-api', role: 'viewer' },
      { match: '/_moat/', methods: ['GET', 'HEAD'], handler: 'dashboard-ui', role: null },
      { match: '/', methods: ['GET', 'HEAD'], handler: 'file', role: null },
    ]);
    expect(cfg.web.sessions).toEqual({ cookie: 'moat-session', enable: true, sameSite: 'Strict', timeout: 3600000 });
    expect(cfg.tls).toBeNull();
    expect(cfg.log).toEqual({ access: { path: 'stdout', format: 'common' }, error: { path: 'stderr', level: 'info' }, security: { path: 'stderr' }, operations: { path: null } });
    expect(cfg.auth).toEqual({ users: null, login: { failures: 5, window: 900000, lock: 60000 } });
    const ban = (counter: string, over: number, per: number, minutes: number) => ({ counter, over, per, remedy: 'ban', for: minutes * 60000, severity: 'high' });
    expect(cfg.moat).toEqual({
      stealth: false,
      window: 16384,
      defense: {
        clients: 64, delay: 2000,
        rules: [
          ban('badRequests', 20, 60000, 5), ban('limitHits', 20, 60000, 5),
          { counter: 'notFound', over: 20, per: 60000, remedy: 'delay', for: 300000, severity: 'medium' },
          ban('notFound', 60, 300000, 15), ban('authFailures', 10, 300000, 15),
          { counter: 'errors', over: 50, per: 60000, remedy: 'alert', for: 0, severity: 'high' },
        ],
      },
      audit: { schedule: true, state: null },
    });
  });

  it('a bundle\'s embedded copy of the text wins over the file', () => {
    const g = globalThis as { __MOAT_DEFAULT_CONFIG__?: string };
    expect(defaultConfigText()).toContain("listen: ['http://127.0.0.1:8080']");
    g.__MOAT_DEFAULT_CONFIG__ = '{ /* bundled */ }';
    try {
      expect(defaultConfigText()).toBe('{ /* bundled */ }');
    } finally {
      delete g.__MOAT_DEFAULT_CONFIG__;
    }
  });

  it('is the same file loaded by name', () => {
    expect(loadConfig(DEFAULT_CONFIG_PATH)).toEqual(loadConfig());
  });

  it('compiles to exactly the module defaults', () => {
    const blob = compileConfig(loadConfig());
    expect(blob.length).toBe(256);
    expect(new DataView(blob.buffer).getUint32(0, true)).toBe(0x3154414d);
    expect(Buffer.from(blob).toString('hex')).toBe(Buffer.from(encodeConfig(moduleDefaults())).toString('hex'));
  });

  it('is served from a site with an index page and a style sheet', async () => {
    const { readFileSync } = await import('node:fs');
    const html = readFileSync(join(HOST_DIR, 'site', 'index.html'), 'utf8');
    expect(html).toContain('<title>Moat demo device</title>');
    expect(html).toContain('href="/api/status"');
    expect(html).toContain('href="/style.css"');
    expect(readFileSync(join(HOST_DIR, 'site', 'style.css'), 'utf8')).toMatch(/body\s*\{/);
  });
});

describe('a user file over the default', () => {
  it('keeps every default it leaves out, with no document root and no routes', () => {
    const file = join(dir, 'min.json5');
    writeFileSync(file, "// just the port\n{ web: { listen: ['http://:9000'] } }\n");
    const cfg = loadConfig(file);
    const base = loadConfig();
    expect(cfg.web.listen).toEqual([{ scheme: 'http', host: '', port: 9000 }]);
    expect(cfg.web.limits).toEqual(base.web.limits);
    expect(cfg.web.timeouts).toEqual(base.web.timeouts);
    expect(cfg.web.documents).toBeNull();
    expect(cfg.web.routes).toEqual([]);
  });

  it('resolves paths from the file\'s folder and serves documents by default', () => {
    const sub = join(dir, 'conf');
    mkdirSync(join(sub, 'public'), { recursive: true });
    mkdirSync(join(sub, 'logs'), { recursive: true });
    writeFileSync(join(sub, 'c.crt'), 'x');
    writeFileSync(join(sub, 'c.key'), 'x');
    const file = join(sub, 'moat.json5');
    writeFileSync(file, `{
      web: { listen: ['https://:8443'], documents: 'public', limits: { body: '1MB' }, timeouts: { session: 'infinite' } },
      tls: { certificate: 'c.crt', key: 'c.key', hsts: { maxAge: '2 days', subdomains: true } },
      log: { access: { path: 'logs/access.log', format: 'json' } },
    }`);
    const cfg = loadConfig(file);
    expect(cfg.web.documents).toBe(join(sub, 'public'));
    expect(cfg.web.routes).toEqual([{ match: '/', methods: ['GET', 'HEAD'], handler: 'file', role: null }]);
    expect(cfg.web.limits.body).toBe(1048576);
    expect(cfg.web.limits.form).toBe(10240);
    expect(cfg.web.timeouts.session).toBe(Infinity);
    expect(cfg.web.sessions.timeout).toBe(Infinity);
    expect(cfg.tls).toEqual({ certificate: join(sub, 'c.crt'), key: join(sub, 'c.key'), hsts: { maxAge: 172800, subdomains: true } });
    expect(cfg.log.access).toEqual({ path: join(sub, 'logs', 'access.log'), format: 'json' });
    expect(cfg.log.error).toEqual({ path: 'stderr', level: 'info' });
  });

  it('headers keep their order and names', () => {
    const cfg = validateConfig(headers({ 'Cache-Control': 'no-store', 'X-Device': 'demo\tone' }), { baseDir: dir });
    expect(cfg.web.headers).toEqual([['Cache-Control', 'no-store'], ['X-Device', 'demo\tone']]);
  });

  it('tls paths need not exist without an https endpoint', () => {
    const cfg = validateConfig({ tls: { certificate: 'later.crt', key: 'later.key', hsts: true } }, { baseDir: dir });
    expect(cfg.tls).toEqual({ certificate: join(dir, 'later.crt'), key: join(dir, 'later.key'), hsts: { maxAge: 31536000, subdomains: false } });
  });
});

describe('the module words', () => {
  const custom = (): MoatConfig => validateConfig({
    web: {
      limits: {
        body: '64K', form: '4K', upload: '2MB', header: '4K', headers: 20, uri: '1K', chunkExt: 100,
        connections: 12, clientConnections: 3, clientRequests: '7', sessions: 5,
      },
      timeouts: { parse: '2 secs', inactivity: '1 min', request: 'never', session: '2 hours', tls: '3 secs' },
    },
    tls: { certificate: 'device.crt', key: 'device.key', hsts: { maxAge: '1 day', subdomains: true } },
    moat: { stealth: true, window: '6K' },
  }, { baseDir: dir });

  /** The module words of the default defense rules plus a clientRequests rule of `perMinute`. */
  const defaultDefenseWords = (perMinute: number) => {
    const rules: [number, number, number, number][] = [
      [0x301, 20, 60000, 300000], [0x302, 20, 60000, 300000], [0x203, 20, 60000, 300000], [0x303, 60, 300000, 900000],
      [0x304, 10, 300000, 900000], [0x105, 50, 60000, 0], [0x400, perMinute, 60000, 0], [0, 0, 0, 0],
    ];
    const out: Record<string, number> = { clients: 64, delay_ms: 2000, rule_count: 7 };
    rules.forEach(([kind, over, per, dur], i) => Object.assign(out, { [`rule${i}_kind`]: kind, [`rule${i}_over`]: over, [`rule${i}_per_ms`]: per, [`rule${i}_for_ms`]: dur }));
    return out;
  };

  it('toModuleConfig maps each key to its word', () => {
    expect(toModuleConfig(custom())).toEqual({
      slots: 12, uri_bytes: 1024, header_bytes: 4096, header_count: 20, body_bytes: 65536, form_bytes: 4096,
      upload_bytes: 2097152, chunk_ext_bytes: 100, client_connections: 3, client_requests: 7, sessions: 5,
      timeout_parse_ms: 2000, timeout_inactivity_ms: 60000, timeout_request_ms: NEVER, timeout_session_ms: 7200000,
      timeout_tls_ms: 3000, flags: 1 | 2 | 4, hsts_max_age: 86400, window_bytes: 6144,
      ...defaultDefenseWords(7),
    });
  });

  it('a real module configured from it reads the same words back', async () => {
    const words = toModuleConfig(custom());
    const moat = await loadMoat(words);
    expect(moat.config).toMatchObject(words);
    expect(moat.config.window_bytes).toBe(6144);
    expect(moat.x.inputCap()).toBe(6144);
  });

  it('the compiled blob carries the words and the module enforces them', async () => {
    const blob = compileConfig(custom());
    const v = new DataView(blob.buffer, blob.byteOffset);
    const words = toModuleConfig(custom()) as ModuleConfig;
    for (const [k, i] of Object.entries(ConfigWord)) {
      if (k === 'magic') expect(v.getUint32(0, true)).toBe(0x3154414d);
      else if (k in words) expect([k, v.getUint32(4 * i, true)]).toEqual([k, words[k as keyof ModuleConfig]]);
      else expect([k, v.getUint32(4 * i, true)]).toEqual([k, moduleDefaults()[k as keyof ModuleConfig]]);
    }
    const moat = await loadMoat();
    moat.writeBlob(blob);
    expect(moat.init()).toBeGreaterThan(0);
    // uri 1K: a 2000-byte target is refused with 414.
    const slot = moat.open(0, false, 0);
    const req = Buffer.from(`GET /${'a'.repeat(2000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1');
    moat.write(req, 0);
    const r = moat.feed(slot, 0, req.length, 0);
    expect(r.verdict & Verdict.ERROR).toBe(Verdict.ERROR);
    expect(r.status).toBe(414);
    // 12 slots: the 13th open is refused.
    for (let i = 1; i < 12; i++) expect(moat.open(0, false, 0)).toBeGreaterThanOrEqual(0);
    expect(moat.open(0, false, 0)).toBeLessThan(0);
  });

  it('no HSTS and no stealth leave the flags clear and the max-age at the default', () => {
    const words = toModuleConfig(loadConfig());
    expect(words.flags).toBe(0);
    expect('hsts_max_age' in words).toBe(false);
  });

  it('a hand-built config with a timeout past the clock is refused by name', () => {
    const cfg = loadConfig();
    cfg.web.timeouts.request = 2 ** 31;
    expect(errorOf(() => toModuleConfig(cfg))).toBe('web.timeouts.request: 2147483648 — too long: the module\'s clock allows at most 2147483647 ms (about 24.8 days); use "infinite" for no limit');
    cfg.web.timeouts.request = 0;
    expect(errorOf(() => toModuleConfig(cfg))).toBe('web.timeouts.request: 0 — a timeout is a whole number of ms, more than zero');
  });

  it('a hand-built config whose limits do not fit is refused by compileConfig', () => {
    const cfg = loadConfig();
    cfg.web.limits.header = 16384;
    expect(errorOf(() => compileConfig(cfg))).toBe('web.limits.header: 16384 — must be smaller than the module\'s 16384-byte input window, moat.window (at most 16383 bytes)');
    cfg.web.limits.header = 10240;
    cfg.web.limits.connections = 256;
    expect(errorOf(() => compileConfig(cfg))).toBe('web.limits.connections: 256 — the module holds at most 255 connections');
    cfg.web.limits.connections = 255;
    expect(compileConfig(cfg).length).toBe(256);
  });
});
