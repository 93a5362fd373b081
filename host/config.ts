// The config file: JSON5 text → a validated MoatConfig (host/types.ts) → the module's 32-word
// config blob. The embedded default (host/default-config.json5) documents every key; a user's
// file is merged over it key by key (arrays and web.headers replace), except that a file leaving
// out web.documents has no document root, and one leaving out web.routes gets a single
// GET/HEAD "file" route when it has a document root and no routes otherwise.
//
// Every refusal is a ConfigError with one line: `<key.path>: <JSON of the value> — <rule>`, or
// `<file>:<line>:<col>: <reason>` for JSON5 syntax errors.
import JSON5 from 'json5';
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import type { ListenSpec, MoatConfig, RouteSpec } from './types.ts';
import {
  ConfigFlag, DefenseCounter, DefenseRemedy, MAX_RULES, Moat, NEVER, encodeConfig, wasmBytes, type ModuleConfig,
} from './module.ts';
import type { DefenseConfig, DefenseRule, Severity } from './types.ts';
import { ConfigError, MAX_TIMEOUT_MS, U32_MAX, fail, parseCount, parseDuration, parseSize } from './units.ts';

export { ConfigError } from './units.ts';

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('./default-config.json5', import.meta.url));
/** Handler names a config may use unless the caller passes its own list. */
export const DEFAULT_HANDLERS: readonly string[] = ['file', 'status', 'echo', 'login', 'logout', 'session', 'metrics', 'dashboard-api', 'dashboard-ui'];

export interface ConfigOptions {
  /** Handler names routes may use (default DEFAULT_HANDLERS). */
  handlers?: readonly string[];
  /** Folder relative paths (documents, tls, log files) resolve against (default: the cwd). */
  baseDir?: string;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** `path.key`, or `path["odd key"]` when the key is not an identifier. */
function sub(path: string, k: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(k)) return path ? `${path}.${k}` : k;
  return `${path}[${JSON.stringify(k)}]`;
}

/** An object whose keys are all in `keys`; the root's path is "". */
function section(value: unknown, path: string, keys: readonly string[]): Obj {
  if (!isObj(value)) fail(path || 'config', value, path ? 'must be an object' : 'the config must be one JSON5 object');
  for (const k of Object.keys(value)) {
    if (!keys.includes(k)) throw new ConfigError(`${sub(path, k)}: unknown key`, sub(path, k));
  }
  return value;
}

function setOwn(o: Obj, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Plain objects merge key by key; anything else in `over` replaces `base`. */
function merge(base: unknown, over: unknown, path: string): unknown {
  if (!isObj(base) || !isObj(over) || path === 'web.headers') return over;
  const out: Obj = {};
  for (const [k, v] of Object.entries(base)) setOwn(out, k, v);
  for (const [k, v] of Object.entries(over)) setOwn(out, k, Object.hasOwn(base, k) ? merge(base[k], v, sub(path, k)) : v);
  return out;
}

// ---- JSON5 text ---------------------------------------------------------------------------------

function parseText(text: string, origin: string): unknown {
  try {
    return JSON5.parse(text);
  } catch (e) {
    const err = e as SyntaxError & { lineNumber?: number; columnNumber?: number };
    const reason = err.message.replace(/^JSON5: /, '').replace(/ at \d+:\d+$/, '');
    throw new ConfigError(`${origin}:${err.lineNumber ?? 1}:${err.columnNumber ?? 1}: ${reason}`);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: cannot read the config file (${code === 'ENOENT' ? 'not found' : code ?? (e as Error).message})`);
  }
}

/** The embedded default's text: the bundle's copy (host/bundle.mjs) or the file next to this one. */
export function defaultConfigText(): string {
  return (globalThis as { __MOAT_DEFAULT_CONFIG__?: string }).__MOAT_DEFAULT_CONFIG__ ?? readText(DEFAULT_CONFIG_PATH);
}

let defaultRaw: unknown;
const embeddedRaw = (): unknown => (defaultRaw ??= parseText(defaultConfigText(), DEFAULT_CONFIG_PATH));

// ---- entry points -------------------------------------------------------------------------------

/** The config in `file` (merged over the embedded default), or the embedded default itself. */
export function loadConfig(file?: string, opts: Omit<ConfigOptions, 'baseDir'> = {}): MoatConfig {
  if (file === undefined) return build(embeddedRaw(), dirname(DEFAULT_CONFIG_PATH), opts.handlers ?? DEFAULT_HANDLERS);
  return parseConfig(readText(file), file, opts);
}

/** JSON5 `text` read from `origin` (a file name: messages name it, relative paths resolve from its folder). */
export function parseConfig(text: string, origin: string, opts: Omit<ConfigOptions, 'baseDir'> = {}): MoatConfig {
  return validateConfig(parseText(text, origin), { ...opts, baseDir: dirname(resolve(origin)) });
}

/**
 * Validates a parsed config object merged over the embedded default, checks the module accepts
 * the limits (compileConfig), and returns the resolved config.
 */
export function validateConfig(obj: unknown, opts: ConfigOptions = {}): MoatConfig {
  const merged = merge(embeddedRaw(), obj, '');
  if (isObj(merged) && isObj(merged.web)) {
    const userWeb = isObj(obj) && isObj(obj.web) ? obj.web : {};
    const web: Obj = { ...merged.web };
    if (!Object.hasOwn(userWeb, 'documents')) web.documents = null;
    if (!Object.hasOwn(userWeb, 'routes')) web.routes = web.documents == null ? [] : [{ match: '/', methods: ['GET', 'HEAD'], handler: 'file' }];
    merged.web = web;
  }
  return build(merged, resolve(opts.baseDir ?? process.cwd()), opts.handlers ?? DEFAULT_HANDLERS);
}

function build(raw: unknown, baseDir: string, handlers: readonly string[]): MoatConfig {
  const root = section(raw, '', ['web', 'tls', 'log', 'auth', 'moat']);
  const w = section(root.web, 'web', ['listen', 'hosts', 'documents', 'index', 'limits', 'timeouts', 'headers', 'routes', 'sessions']);

  const listen = parseListen(w.listen, 'web.listen');
  const hosts = parseHosts(w.hosts, 'web.hosts');
  const documents = parseFolder(w.documents, 'web.documents', baseDir);
  const index = parseFileName(w.index, 'web.index');

  const l = section(w.limits, 'web.limits', LIMIT_KEYS);
  const limits = {} as MoatConfig['web']['limits'];
  for (const k of LIMIT_KEYS) {
    const path = `web.limits.${k}`, v = l[k];
    const n = SIZE_LIMITS.has(k) ? parseSize(v, path) : parseCount(v, path);
    const min = k === 'clientRequests' ? 0 : 1;
    if (n < min) fail(path, v, `must be at least ${min}`);
    limits[k] = n;
  }

  const t = section(w.timeouts, 'web.timeouts', TIMEOUT_KEYS);
  const timeouts = {} as MoatConfig['web']['timeouts'];
  for (const k of TIMEOUT_KEYS) timeouts[k] = parseDuration(t[k], `web.timeouts.${k}`);

  const headers = parseHeaders(w.headers, 'web.headers');
  const routes = parseRoutes(w.routes, 'web.routes', handlers, documents);

  const s = section(w.sessions, 'web.sessions', ['cookie', 'enable', 'sameSite', 'timeout']);
  const sessions: MoatConfig['web']['sessions'] = {
    cookie: parseToken(s.cookie, 'web.sessions.cookie', 'a cookie name must be a token (letters, digits and !#$%&\'*+-.^_`|~)'),
    enable: parseBool(s.enable, 'web.sessions.enable'),
    sameSite: parseEnum(s.sameSite, 'web.sessions.sameSite', ['Strict', 'Lax', 'None'] as const),
    timeout: s.timeout === undefined ? timeouts.session : parseDuration(s.timeout, 'web.sessions.timeout'),
  };

  const https = listen.findIndex((e) => e.scheme === 'https');
  const tls = parseTls(root.tls, 'tls', baseDir, https >= 0);
  if (https >= 0 && tls === null) {
    fail(`web.listen[${https}]`, (w.listen as unknown[])[https], 'https needs the tls section (certificate and key)');
  }

  const lg = section(root.log, 'log', ['access', 'error', 'security', 'operations']);
  const access = section(lg.access, 'log.access', ['path', 'format']);
  const error = section(lg.error, 'log.error', ['path', 'level']);
  const security = section(lg.security, 'log.security', ['path']);
  const log: MoatConfig['log'] = {
    access: { path: parseLogPath(access.path, 'log.access.path', baseDir), format: parseEnum(access.format, 'log.access.format', ['common', 'json'] as const) },
    error: { path: parseLogPath(error.path, 'log.error.path', baseDir), level: parseEnum(error.level, 'log.error.level', ['error', 'warn', 'info', 'debug'] as const) },
    security: { path: parseLogPath(security.path, 'log.security.path', baseDir) },
    operations: { path: parseFilePath(section(lg.operations, 'log.operations', ['path']).path, 'log.operations.path', baseDir) },
  };

  const a = section(root.auth, 'auth', ['users', 'login']);
  const login = section(a.login, 'auth.login', ['failures', 'window', 'lock']);
  const auth: MoatConfig['auth'] = {
    users: parseFilePath(a.users, 'auth.users', baseDir),
    login: {
      failures: parseCount(login.failures, 'auth.login.failures'),
      window: parseDuration(login.window, 'auth.login.window', { infinite: false }),
      lock: parseDuration(login.lock, 'auth.login.lock', { infinite: false }),
    },
  };
  if (auth.login.failures < 1) fail('auth.login.failures', login.failures, 'must be at least 1');
  if (sessions.sameSite === 'None') fail('web.sessions.sameSite', s.sameSite, '"None" sends the session cookie on cross-site requests; use "Strict" or "Lax"');

  const m = section(root.moat, 'moat', ['stealth', 'window', 'defense', 'audit']);
  const window = parseSize(m.window, 'moat.window');
  if (window < MIN_WINDOW) fail('moat.window', m.window, `must be at least ${MIN_WINDOW} bytes (a request line and a few fields)`);
  const au = section(m.audit, 'moat.audit', ['schedule', 'state']);
  const cfg: MoatConfig = {
    web: { listen, hosts, documents, index, limits, timeouts, headers, routes, sessions },
    tls,
    log,
    auth,
    moat: {
      stealth: parseBool(m.stealth, 'moat.stealth'),
      window,
      defense: parseDefense(m.defense, 'moat.defense'),
      audit: { schedule: parseBool(au.schedule, 'moat.audit.schedule'), state: parseFilePath(au.state, 'moat.audit.state', baseDir) },
    },
  };
  compile(cfg, l);
  return cfg;
}

const LIMIT_KEYS = ['body', 'form', 'upload', 'header', 'headers', 'uri', 'chunkExt', 'connections', 'clientConnections', 'clientRequests', 'sessions'] as const;
const SIZE_LIMITS = new Set<string>(['body', 'form', 'upload', 'header', 'uri', 'chunkExt']);
const TIMEOUT_KEYS = ['parse', 'inactivity', 'request', 'session', 'tls'] as const;

// ---- scalar helpers -----------------------------------------------------------------------------

function parseBool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, v, 'must be true or false');
  return v;
}

function parseEnum<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) fail(path, v, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  return v as T;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TOKEN_RULE = 'must be a token (letters, digits and !#$%&\'*+-.^_`|~)';

function parseToken(v: unknown, path: string, rule: string): string {
  if (typeof v !== 'string' || !TOKEN.test(v)) fail(path, v, rule);
  return v;
}

function parseFileName(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '' || v === '.' || v === '..' || /[/\\\x00-\x1f\x7f]/.test(v)) {
    fail(path, v, 'must be a file name (no folders)');
  }
  return v;
}

function statOf(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function pathString(v: unknown, path: string, what: string): string {
  if (typeof v !== 'string' || v === '' || v.includes('\0')) fail(path, v, `must be ${what}`);
  return v;
}

/** A folder (relative to baseDir) that exists, or null. */
function parseFolder(v: unknown, path: string, baseDir: string): string | null {
  if (v === null) return null;
  const abs = resolve(baseDir, pathString(v, path, 'a folder path or null'));
  const st = statOf(abs);
  if (!st) fail(path, v, `folder not found: ${abs}`);
  if (!st.isDirectory()) fail(path, v, `not a folder: ${abs}`);
  return abs;
}

/** A file (relative to baseDir); must exist when `mustExist`. */
function parseFile(v: unknown, path: string, baseDir: string, mustExist: boolean): string {
  const abs = resolve(baseDir, pathString(v, path, 'a file path'));
  if (mustExist) {
    const st = statOf(abs);
    if (!st) fail(path, v, `file not found: ${abs}`);
    if (!st.isFile()) fail(path, v, `not a file: ${abs}`);
  }
  return abs;
}

/** A file the server writes (its folder must exist), or null. */
function parseFilePath(v: unknown, path: string, baseDir: string): string | null {
  if (v === 'stdout' || v === 'stderr') fail(path, v, 'must be a file path or null');
  return parseLogPath(v, path, baseDir);
}

function parseLogPath(v: unknown, path: string, baseDir: string): string | null {
  if (v === null || v === 'stdout' || v === 'stderr') return v;
  const abs = resolve(baseDir, pathString(v, path, '"stdout", "stderr", a file path or null'));
  const dir = dirname(abs);
  if (!statOf(dir)?.isDirectory()) fail(path, v, `its folder does not exist: ${dir}`);
  if (statOf(abs)?.isDirectory()) fail(path, v, `is a folder: ${abs}`);
  return abs;
}

// ---- web.listen ---------------------------------------------------------------------------------

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** "http://HOST:PORT" → ListenSpec; host "" = every interface; port 0 = any free port. */
export function parseListenString(v: unknown, path: string): ListenSpec {
  if (typeof v !== 'string') fail(path, v, 'an endpoint is a string such as "http://:8080"');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]*\]|[^:/[\]]*)(?::([^/]*))?(.*)$/.exec(v);
  if (!m) fail(path, v, 'an endpoint is "http://HOST:PORT" or "https://HOST:PORT"');
  const [, schemeRaw, hostRaw, portRaw, rest] = m;
  const scheme = schemeRaw.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') fail(path, v, 'the scheme must be http or https');
  if (rest !== '' && rest !== '/') fail(path, v, 'an endpoint has no path');
  let host: string;
  if (hostRaw.startsWith('[')) {
    host = hostRaw.slice(1, -1);
    if (isIP(host) !== 6) fail(path, v, `not an IPv6 address: ${hostRaw}`);
  } else if (hostRaw === '' || hostRaw === '*') {
    host = '';
  } else if (/^[\d.]+$/.test(hostRaw)) {
    if (isIP(hostRaw) !== 4) fail(path, v, `not an IPv4 address: ${hostRaw}`);
    host = hostRaw;
  } else {
    if (!HOST_NAME.test(hostRaw)) fail(path, v, `not a host name: ${hostRaw}`);
    host = hostRaw.toLowerCase();
  }
  let port = scheme === 'https' ? 443 : 80;
  if (portRaw !== undefined) {
    if (portRaw.includes(':')) fail(path, v, 'an IPv6 address needs brackets, as in "http://[::1]:8080"');
    if (!/^\d{1,5}$/.test(portRaw) || Number(portRaw) > 65535) fail(path, v, 'the port must be a number from 0 to 65535');
    port = Number(portRaw);
  }
  return { scheme, host, port };
}

function parseListen(v: unknown, path: string): ListenSpec[] {
  if (!Array.isArray(v)) fail(path, v, 'must be an array of endpoints such as ["http://:8080"]');
  if (v.length === 0) fail(path, v, 'needs at least one endpoint');
  const out: ListenSpec[] = [];
  v.forEach((e, i) => {
    const spec = parseListenString(e, `${path}[${i}]`);
    const j = out.findIndex((o) => o.host === spec.host && o.port === spec.port && spec.port !== 0);
    if (j >= 0) fail(`${path}[${i}]`, e, `the same address and port as ${path}[${j}]`);
    out.push(spec);
  });
  return out;
}

// ---- web.hosts ----------------------------------------------------------------------------------

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

function parseHosts(v: unknown, path: string): string[] {
  if (!Array.isArray(v)) fail(path, v, 'must be an array such as ["auto"], ["device.example", "192.168.1.20"] or ["*"]');
  if (v.length === 0) fail(path, v, 'needs at least one entry ("*" allows every host)');
  v.forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (typeof e !== 'string') fail(p, e, 'must be a string');
    if (e === '*' || e === 'auto') return;
    const name = e.startsWith('*.') ? e.slice(2) : e;
    if (!e.startsWith('*.') && isIP(name.replace(/^\[(.*)\]$/, '$1')) === 6) return;
    if (name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) {
      fail(p, e, 'must be "auto", "*", a host name, "*." followed by a host name, an IPv4 address or an IPv6 address (no port, no scheme)');
    }
  });
  return v as string[];
}

// ---- web.headers --------------------------------------------------------------------------------

/** Field names the module writes itself (framing) or always drops; HSTS belongs to tls.hsts. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer']);
const DROPPED = new Set(['server', 'x-powered-by']);

function parseHeaders(v: unknown, path: string): [string, string][] {
  if (!isObj(v)) fail(path, v, 'must be an object of field name → value');
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(v)) {
    const p = sub(path, name);
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) fail(p, value, `the field name ${TOKEN_RULE}`);
    if (FRAMING.has(lower)) fail(p, value, 'a framing field: the module writes it');
    if (DROPPED.has(lower)) fail(p, value, 'the module never sends this field');
    if (lower === 'strict-transport-security') fail(p, value, 'use tls.hsts so it is sent on TLS only');
    const dup = out.find(([n]) => n.toLowerCase() === lower);
    if (dup) fail(p, value, `the same field as ${sub(path, dup[0])}`);
    if (typeof value !== 'string') fail(p, value, 'a field value must be a string');
    if (/[\r\n]/.test(value)) fail(p, value, 'a field value must not contain CR or LF');
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) fail(p, value, 'a field value must not contain control characters');
    if (/[^\x00-\x7f]/.test(value)) fail(p, value, 'a field value must be ASCII');
    if (/^[ \t]|[ \t]$/.test(value)) fail(p, value, 'a field value must not start or end with a space or tab');
    out.push([name, value]);
  }
  return out;
}

// ---- moat.defense -------------------------------------------------------------------------------

const COUNTERS = Object.keys(DefenseCounter) as DefenseRule['counter'][];
const REMEDIES = Object.keys(DefenseRemedy) as DefenseRule['remedy'][];
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
const DEFAULT_SEVERITY: Record<DefenseRule['remedy'], Severity> = { log: 'info', alert: 'high', delay: 'medium', ban: 'high', reject: 'low' };
/** Client records the module's one page can hold next to its other tables, with margin. */
export const MAX_CLIENTS = 1024;
/** The module's counters saturate at 65535 per window. */
const MAX_OVER = 65534;

function parseDefense(v: unknown, path: string): DefenseConfig {
  const d = section(v, path, ['clients', 'delay', 'rules']);
  const clients = parseCount(d.clients, `${path}.clients`);
  if (clients < 1 || clients > MAX_CLIENTS) fail(`${path}.clients`, d.clients, `must be 1 to ${MAX_CLIENTS}`);
  const delay = parseDuration(d.delay, `${path}.delay`, { infinite: false, zero: true, max: 60_000, maxRule: 'at most 1 min: a delayed client holds a connection slot meanwhile' });
  if (!Array.isArray(d.rules)) fail(`${path}.rules`, d.rules, 'must be an array of rules such as {counter: "badRequests", over: 20, per: "1 min", remedy: "ban", for: "5 mins"}');
  if (d.rules.length > MAX_RULES) fail(`${path}.rules`, `${d.rules.length} rules`, `at most ${MAX_RULES} rules (one more is used by web.limits.clientRequests when it is not 0)`);
  const rules = d.rules.map((r, i): DefenseRule => {
    const p = `${path}.rules[${i}]`;
    const o = section(r, p, ['counter', 'over', 'per', 'remedy', 'for', 'severity']);
    const counter = parseEnum(o.counter, `${p}.counter`, COUNTERS);
    const over = parseCount(o.over, `${p}.over`);
    if (over > MAX_OVER) fail(`${p}.over`, o.over, `at most ${MAX_OVER} (the module's counters are 16 bits)`);
    const per = parseDuration(o.per, `${p}.per`, { infinite: false });
    const remedy = parseEnum(o.remedy, `${p}.remedy`, REMEDIES);
    const lasting = remedy === 'ban' || remedy === 'delay';
    if (lasting && o.for === undefined) fail(p, r, `a "${remedy}" rule needs "for" (how long it lasts)`);
    if (!lasting && o.for !== undefined) fail(`${p}.for`, o.for, `only "ban" and "delay" rules last; a "${remedy}" rule has no "for"`);
    if (remedy === 'reject' && counter !== 'requests') fail(`${p}.remedy`, o.remedy, '"reject" (429) applies to the "requests" counter only');
    const forMs = lasting ? parseDuration(o.for, `${p}.for`, { infinite: false }) : 0;
    const severity = o.severity === undefined ? DEFAULT_SEVERITY[remedy] : parseEnum(o.severity, `${p}.severity`, SEVERITIES);
    return { counter, over, per, remedy, for: forMs, severity };
  });
  return { clients, delay, rules };
}

/** The rules the module runs: the configured ones, then web.limits.clientRequests as a 429 rule. */
export function moduleRules(cfg: MoatConfig): DefenseRule[] {
  const rules = [...cfg.moat.defense.rules];
  const n = cfg.web.limits.clientRequests;
  if (n > 0) rules.push({ counter: 'requests', over: n, per: 60_000, remedy: 'reject', for: 0, severity: 'low' });
  return rules;
}

// ---- web.routes ---------------------------------------------------------------------------------

const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

function parseRoutes(v: unknown, path: string, handlers: readonly string[], documents: string | null): RouteSpec[] {
  if (!Array.isArray(v)) fail(path, v, 'must be an array of routes such as [{match: "/", handler: "file"}]');
  const out: RouteSpec[] = [];
  v.forEach((r, i) => {
    const p = `${path}[${i}]`;
    const o = section(r, p, ['match', 'methods', 'handler', 'role', 'dryRun']);
    if (o.match === undefined) fail(p, r, 'a route needs "match" (a path prefix)');
    if (o.handler === undefined) fail(p, r, 'a route needs "handler"');
    const match = parseMatch(o.match, `${p}.match`);
    const j = out.findIndex((x) => x.match === match);
    if (j >= 0) fail(`${p}.match`, o.match, `the same prefix as ${path}[${j}]`);
    const methods = parseMethods(o.methods, `${p}.methods`);
    if (typeof o.handler !== 'string' || !handlers.includes(o.handler)) {
      fail(`${p}.handler`, o.handler, `unknown handler (known: ${handlers.join(', ')})`);
    }
    if (o.handler === 'file' && documents === null) fail(`${p}.handler`, o.handler, 'needs web.documents (the document root is null)');
    const role = o.role === undefined || o.role === null ? null : parseEnum(o.role, `${p}.role`, ['viewer', 'operator', 'admin'] as const);
    const dryRun = o.dryRun === undefined ? undefined : parseBool(o.dryRun, `${p}.dryRun`);
    out.push({ match, methods, handler: o.handler, role, ...(dryRun ? { dryRun } : {}) });
  });
  return out;
}

function parseMatch(v: unknown, path: string): string {
  if (typeof v !== 'string' || (v !== '' && !v.startsWith('/'))) fail(path, v, 'must be a path prefix starting with "/"');
  if (!PATH_CHARS.test(v.replace(/%[0-9A-Fa-f]{2}/g, ''))) fail(path, v, 'may hold only path characters (no spaces, "?", "#" or bare "%")');
  if (v.split('/').some((seg) => seg === '.' || seg === '..')) fail(path, v, 'must not hold "." or ".." segments');
  return v;
}

function parseMethods(v: unknown, path: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) fail(path, v, 'must be an array of methods such as ["GET", "POST"] (leave it out for any)');
  if (v.length === 0) fail(path, v, 'needs at least one method (leave it out for any)');
  const out: string[] = [];
  v.forEach((m, i) => {
    const p = `${path}[${i}]`;
    if (typeof m !== 'string' || !TOKEN.test(m)) fail(p, m, `a method ${TOKEN_RULE}`);
    if (m !== m.toUpperCase()) fail(p, m, `methods are case-sensitive: write ${JSON.stringify(m.toUpperCase())}`);
    if (out.includes(m)) fail(p, m, 'listed twice');
    out.push(m);
  });
  return out;
}

// ---- tls ----------------------------------------------------------------------------------------

function parseTls(v: unknown, path: string, baseDir: string, needed: boolean): MoatConfig['tls'] {
  if (v === null || v === undefined) return null;
  const o = section(v, path, ['certificate', 'key', 'hsts']);
  if (o.certificate === undefined) fail(path, v, 'needs "certificate" (a PEM file)');
  if (o.key === undefined) fail(path, v, 'needs "key" (a PEM file)');
  const certificate = parseFile(o.certificate, `${path}.certificate`, baseDir, needed);
  const key = parseFile(o.key, `${path}.key`, baseDir, needed);
  let hsts: { maxAge: number; subdomains: boolean } | null = null;
  if (o.hsts === true) hsts = { maxAge: 31536000, subdomains: false };
  else if (o.hsts !== undefined && o.hsts !== null && o.hsts !== false) {
    const h = section(o.hsts, `${path}.hsts`, ['maxAge', 'subdomains']);
    let maxAge = 31536000;
    if (h.maxAge !== undefined) {
      const ms = parseDuration(h.maxAge, `${path}.hsts.maxAge`, { infinite: false, zero: true, max: U32_MAX * 1000, maxRule: `too long: at most ${U32_MAX} secs` });
      if (ms % 1000 !== 0) fail(`${path}.hsts.maxAge`, h.maxAge, 'max-age is whole seconds');
      maxAge = ms / 1000;
    }
    hsts = { maxAge, subdomains: h.subdomains === undefined ? false : parseBool(h.subdomains, `${path}.hsts.subdomains`) };
  }
  return { certificate, key, hsts };
}

// ---- the module ---------------------------------------------------------------------------------

function word(v: number, path: string): number {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) fail(path, v, `does not fit a module config word (0 to ${U32_MAX})`);
  return v;
}

function millis(v: number, path: string): number {
  if (v === Infinity) return NEVER;
  if (!Number.isInteger(v) || v <= 0) fail(path, v, 'a timeout is a whole number of ms, more than zero');
  if (v > MAX_TIMEOUT_MS) fail(path, v, `too long: the module's clock allows at most ${MAX_TIMEOUT_MS} ms (about 24.8 days); use "infinite" for no limit`);
  return v;
}

/**
 * The module config words a MoatConfig sets (ABI.md "Config words"). Timeouts are ms with
 * Infinity → NEVER; flags: 1 stealth, 2 HSTS, 4 HSTS includeSubDomains; hsts_max_age in seconds.
 * Words it leaves out (spans, events, out) keep the module's defaults.
 */
export function toModuleConfig(cfg: MoatConfig): Partial<ModuleConfig> {
  const l = cfg.web.limits, t = cfg.web.timeouts, hsts = cfg.tls?.hsts ?? null;
  const out: Partial<ModuleConfig> = {
    slots: word(l.connections, 'web.limits.connections'),
    uri_bytes: word(l.uri, 'web.limits.uri'),
    header_bytes: word(l.header, 'web.limits.header'),
    header_count: word(l.headers, 'web.limits.headers'),
    body_bytes: word(l.body, 'web.limits.body'),
    form_bytes: word(l.form, 'web.limits.form'),
    upload_bytes: word(l.upload, 'web.limits.upload'),
    chunk_ext_bytes: word(l.chunkExt, 'web.limits.chunkExt'),
    client_connections: word(l.clientConnections, 'web.limits.clientConnections'),
    client_requests: word(l.clientRequests, 'web.limits.clientRequests'),
    sessions: word(l.sessions, 'web.limits.sessions'),
    window_bytes: word(cfg.moat.window, 'moat.window'),
    timeout_parse_ms: millis(t.parse, 'web.timeouts.parse'),
    timeout_inactivity_ms: millis(t.inactivity, 'web.timeouts.inactivity'),
    timeout_request_ms: millis(t.request, 'web.timeouts.request'),
    timeout_session_ms: millis(t.session, 'web.timeouts.session'),
    timeout_tls_ms: millis(t.tls, 'web.timeouts.tls'),
    flags: (cfg.moat.stealth ? ConfigFlag.stealth : 0) | (hsts ? ConfigFlag.hsts | (hsts.subdomains ? ConfigFlag.hstsSubdomains : 0) : 0),
  };
  if (hsts) out.hsts_max_age = word(hsts.maxAge, 'tls.hsts.maxAge');
  const rules = moduleRules(cfg);
  if (rules.length > MAX_RULES) {
    fail('moat.defense.rules', `${cfg.moat.defense.rules.length} rules`, `at most ${MAX_RULES - 1} rules while web.limits.clientRequests is on (it takes the ${MAX_RULES}th)`);
  }
  out.clients = cfg.moat.defense.clients;
  out.delay_ms = cfg.moat.defense.delay;
  out.rule_count = rules.length;
  const words = out as Record<string, number>;
  for (let i = 0; i < MAX_RULES; i++) {
    const r = rules[i];
    words[`rule${i}_kind`] = r ? DefenseCounter[r.counter] | (DefenseRemedy[r.remedy] << 8) : 0;
    words[`rule${i}_over`] = r?.over ?? 0;
    words[`rule${i}_per_ms`] = r?.per ?? 0;
    words[`rule${i}_for_ms`] = r?.for ?? 0;
  }
  return out;
}

let checker: Moat | undefined;
/** A module instance of our own, built synchronously, for defaults and init() checks. */
function checkerModule(): Moat {
  if (!checker) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {});
    checker = new Moat(instance.exports as unknown as ConstructorParameters<typeof Moat>[0]);
  }
  return checker;
}

/** The module's own defaults (init() on a blank blob). */
export function moduleDefaults(): ModuleConfig {
  return checkerModule().defaults();
}

/** Every module word for `cfg`: the module defaults overlaid with toModuleConfig(cfg). */
export function moduleWords(cfg: MoatConfig): ModuleConfig {
  return { ...moduleDefaults(), ...toModuleConfig(cfg) };
}

/** The keys whose values size the module's tables, with their module words (assembly/config.ts layout()). */
const TABLE_KEYS = [['moat.window', 'window_bytes'], ['web.limits.connections', 'slots'], ['moat.defense.clients', 'clients']] as const;

/** Smallest input window moat.window accepts: below it no useful request fits a feed. */
export const MIN_WINDOW = 512;

/** Most connection slots the module's layout takes (assembly/config.ts layout()). */
export const MAX_CONNECTIONS = 255;

/**
 * The 64-word config blob (256 bytes, first word "MAT1") for `cfg`, after checking that the
 * module's init() accepts it. A limit that does not fit the input window or the module's one
 * page of memory is a ConfigError naming the key.
 */
export function compileConfig(cfg: MoatConfig): Uint8Array {
  return compile(cfg, cfg.web.limits);
}

/** compileConfig, with messages showing the limits as written (`shown`, e.g. "16K"). */
function compile(cfg: MoatConfig, shown: Obj): Uint8Array {
  const w = moduleWords(cfg);
  if (w.slots > MAX_CONNECTIONS) fail('web.limits.connections', shown.connections, `the module holds at most ${MAX_CONNECTIONS} connections`);
  for (const [key, bytes] of [['uri', w.uri_bytes], ['header', w.header_bytes]] as const) {
    if (bytes >= w.window_bytes) {
      fail(`web.limits.${key}`, shown[key], `must be smaller than the module's ${w.window_bytes}-byte input window, moat.window (at most ${w.window_bytes - 1} bytes)`);
    }
  }
  const blob = encodeConfig(w);
  const m = checkerModule();
  m.writeBlob(blob);
  const hw = m.init();
  if (hw < 0) {
    // Which table does not fit? The module answers: a key is named when its value alone, put back
    // to the default, lets init() take the config.
    const d = moduleDefaults();
    const fits = (words: ModuleConfig) => { m.writeBlob(encodeConfig(words)); return m.init() > 0; };
    const culprit = TABLE_KEYS.find(([, word]) => w[word] > d[word] && fits({ ...w, [word]: d[word] }));
    if (culprit) {
      const [key, word] = culprit;
      const tables = TABLE_KEYS.map(([k, x]) => `${k} ${w[x]}`).join(', ');
      fail(key, w[word], `the module refused it (code ${-hw}): its tables (${tables}) do not fit one 64 KiB page; with this key at its default (${d[word]}) they do`);
    }
    fail(TABLE_KEYS.map(([key]) => key).join(', '), TABLE_KEYS.map(([, word]) => w[word]).join(', '),
      `the module refused them (code ${-hw}): together its tables do not fit one 64 KiB page, and no one of them back at its default makes them fit: lower more than one of them`);
  }
  return blob;
}
