// Authentication end to end: a real server from startFromConfig with a users file (written with
// UserStore, as `moat user` does), login/logout/session routes, /metrics for operators, an admin
// route and a state-changing route with custom handlers. Raw clients on 127.0.0.1 and other
// loopback addresses. Covers the session cookie's attributes, roles (401 / 403), device tokens,
// revocation and password changes made by another process, the per-account login throttle and the
// per-address authFailures ban, the session table's bound, CSRF, and that no secret reaches a log.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFromConfig, type Running } from '../host/serve.ts';
import { UserStore } from '../host/auth/users.ts';
import { json } from '../host/routes.ts';
import type { Handler } from '../host/types.ts';
import { generateDevCert } from '../host/cert.ts';
import { Client, type RawResponse } from './helpers/raw-http.ts';
import { exchange, field, removeTempDirs, send, tempDir, securityEntry, tempLogs, testConfig, type LogFiles } from './helpers/defense.ts';

const running: Running[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(running.splice(0).map((r) => r.close(200)));
});
afterAll(() => removeTempDirs());

// Passwords are distinctive strings, so a log search for them cannot miss or match by accident.
const PASSWORDS = {
  ada: 'ada-Pw-7Hq2xLm9Zr',      // admin
  otto: 'otto-Pw-4Nd8sKv1Qe',    // operator
  vic: 'vic-Pw-9Tc3yBw6Uf',      // viewer
  walt: 'walt-Pw-2Gx5pRj8Ha',    // viewer
} as const;
type UserName = keyof typeof PASSWORDS;
const NEW_OTTO = 'otto-NewPw-6Vb1mZs3Kd';
const WRONG = 'wrong-Pw-5Lf7nXc2Wy';

let template = '';
let deviceToken = '';
beforeAll(async () => {
  const dir = tempDir('moat-auth-users-');
  template = join(dir, 'users.json');
  const store = UserStore.load(template);
  await store.addUser('ada', 'admin', PASSWORDS.ada);
  await store.addUser('otto', 'operator', PASSWORDS.otto);
  await store.addUser('vic', 'viewer', PASSWORDS.vic);
  await store.addUser('walt', 'viewer', PASSWORDS.walt);
  deviceToken = store.addDevice('sensor', 'operator');
  store.save();
}, 30_000);

const ROUTES = [
  { match: '/auth/login', methods: ['POST'], handler: 'login' },
  { match: '/auth/logout', methods: ['POST'], handler: 'logout' },
  { match: '/auth/session', methods: ['GET'], handler: 'session' },
  { match: '/metrics', methods: ['GET'], handler: 'metrics', role: 'operator' },
  { match: '/admin', methods: ['GET'], handler: 'admin', role: 'admin' },
  { match: '/api/state', methods: ['POST'], handler: 'state', role: 'viewer' },
  { match: '/api/status', methods: ['GET'], handler: 'status' },
];

interface Server { r: Running; port: number; users: string; stateCalls: () => number }

interface Options {
  logs?: LogFiles | null;
  sessions?: number;
  login?: Record<string, unknown>;
  rules?: Record<string, unknown>[];
  /** An https listener with this certificate and key instead of http. */
  tls?: { certificate: string; key: string };
}

/** A server with a fresh copy of the users file; defense rules off unless given. */
async function start(o: Options = {}): Promise<Server> {
  const users = join(tempDir('moat-auth-'), 'users.json');
  copyFileSync(template, users);
  let calls = 0;
  const handlers: Record<string, Handler> = {
    admin: (req) => json(200, { admin: true, caller: req.caller?.name ?? null }),
    state: () => { calls++; return json(200, { calls }); },
  };
  const cfg = testConfig({
    web: { routes: ROUTES, limits: { sessions: o.sessions ?? 20 } },
    auth: { users, login: { failures: 5, window: '1 min', lock: '1 min', ...o.login } },
    moat: { defense: { rules: o.rules ?? [] } },
    ...(o.tls ? { tls: o.tls } : {}),
  }, { logs: o.logs ?? null, handlers: ['admin', 'state'], ...(o.tls ? { listen: ['https://127.0.0.1:0'] } : {}) });
  const r = await startFromConfig(cfg, { handlers });
  running.push(r);
  return { r, port: r.server.port, users, stateCalls: () => calls };
}

interface Req { method?: string; path: string; fields?: [string, string][]; body?: string; from?: string }

/** One request on a fresh connection; Host carries the port, so a same-origin Origin matches it. */
async function call(s: Server, q: Req): Promise<RawResponse> {
  const body = q.body ?? '';
  const fields: [string, string][] = [['Host', `127.0.0.1:${s.port}`], ...(q.fields ?? [])];
  if (q.body !== undefined) fields.push(['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]);
  const raw = `${q.method ?? 'GET'} ${q.path} HTTP/1.1\r\n${fields.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`;
  const x = await exchange(s.port, raw, sockets, { from: q.from, ms: 5000 });
  if (!x.res) throw new Error(`${q.method ?? 'GET'} ${q.path} from ${q.from ?? '127.0.0.1'}: closed without an answer`);
  return x.res;
}

const cookieField = (token: string): [string, string] => ['Cookie', `moat-session=${token}`];
const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];
const bodyOf = (res: RawResponse) => JSON.parse(res.body.toString()) as Record<string, unknown>;

const SET_COOKIE = /^moat-session=([A-Za-z0-9_-]{43}); Path=\/; HttpOnly; SameSite=Strict$/;

interface Login { res: RawResponse; cookie: string; csrf: string }

function loginRequest(user: string, password: string, from?: string): Req {
  return { method: 'POST', path: '/auth/login', body: JSON.stringify({ user, password }), from };
}

/** A login that must succeed: the session cookie's value and the CSRF token. */
async function login(s: Server, user: UserName, password: string = PASSWORDS[user], from?: string): Promise<Login> {
  const res = await call(s, loginRequest(user, password, from));
  expect(res.status, `login ${user}: ${res.body}`).toBe(200);
  const set = field(res, 'Set-Cookie');
  expect(set).toHaveLength(1);
  const m = SET_COOKIE.exec(set[0]);
  expect(m, set[0]).not.toBeNull();
  const b = bodyOf(res);
  return { res, cookie: m![1], csrf: b.csrf as string };
}

describe('login, roles and /metrics', () => {
  it('login sets a strict HttpOnly cookie; /metrics serves Prometheus text to an operator; 401 and 403 otherwise', async () => {
    const s = await start();
    const otto = await login(s, 'otto');
    expect(bodyOf(otto.res)).toEqual({ user: 'otto', role: 'operator', csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const setCookie = field(otto.res, 'Set-Cookie')[0];
    expect(setCookie).not.toMatch(/Secure/i);                 // plain http: no Secure, no __Host- prefix
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(field(otto.res, 'Cache-Control')).toEqual(['no-store']);

    const m = await call(s, { path: '/metrics', fields: [cookieField(otto.cookie)] });
    expect(m.status).toBe(200);
    expect(field(m, 'Content-Type')).toEqual(['text/plain; version=0.0.4; charset=utf-8']);
    const lines = m.body.toString().split('\n').filter((l) => l !== '');
    expect(lines).toContain('# TYPE moat_requests_total counter');
    expect(lines).toContain('# TYPE moat_connections_active gauge');
    expect(lines).toContain('moat_logins_total{outcome="ok"} 1');
    expect(lines).toContain('moat_sessions_active 1');
    expect(lines).toContain('moat_requests_total{status="200"} 1');     // the login; this response is not counted yet
    const active = lines.map((l) => /^moat_connections_active (\d+)$/.exec(l)).find(Boolean);
    expect(active, 'a moat_connections_active sample').toBeTruthy();
    expect(Number(active![1])).toBeGreaterThanOrEqual(1);                // at least this request's connection
    for (const l of lines) {
      if (l.startsWith('#')) expect(l).toMatch(/^# (HELP|TYPE) moat_[a-z_]+ .+$/);
      else expect(l).toMatch(/^moat_[a-z_]+(\{[a-z_]+="[^"\\\n]*"\})? \d+$/);
    }

    const anon = await call(s, { path: '/metrics' });
    expect(anon.status).toBe(401);
    expect(field(anon, 'WWW-Authenticate')).toEqual(['Bearer realm="moat"']);
    expect(bodyOf(anon)).toEqual({ error: 401, reason: 'authentication_required' });
    const forged = await call(s, { path: '/metrics', fields: [cookieField('A'.repeat(43))] });
    expect(forged.status).toBe(401);

    const vic = await login(s, 'vic');
    const low = await call(s, { path: '/metrics', fields: [cookieField(vic.cookie)] });
    expect(low.status).toBe(403);
    expect(bodyOf(low)).toEqual({ error: 403, reason: 'forbidden' });
    expect((await call(s, { path: '/admin', fields: [cookieField(otto.cookie)] })).status).toBe(403);

    const ada = await login(s, 'ada');
    const admin = await call(s, { path: '/admin', fields: [cookieField(ada.cookie)] });
    expect(admin.status).toBe(200);
    expect(bodyOf(admin)).toEqual({ admin: true, caller: 'ada' });
    const who = await call(s, { path: '/auth/session', fields: [cookieField(otto.cookie)] });
    expect(bodyOf(who)).toEqual({ user: 'otto', kind: 'user', role: 'operator', via: 'session', csrf: otto.csrf });

    const bad = await call(s, loginRequest('otto', WRONG));
    expect(bad.status).toBe(401);
    expect(bodyOf(bad)).toEqual({ error: 401, reason: 'invalid_credentials' });
    expect(field(bad, 'Set-Cookie')).toEqual([]);
  });
});

describe('over TLS', () => {
  it('the session cookie is __Host-moat-session with Secure; the unprefixed name is not accepted', async () => {
    const cert = await generateDevCert({ out: tempDir('moat-auth-tls-') });
    const s = await start({ tls: { certificate: cert.certPath, key: cert.keyPath } });
    const ca = readFileSync(cert.certPath, 'utf8');
    const tlsCall = async (raw: string) => {
      const c = await Client.connectTls(s.port, ca, sockets);
      const x = await send(c, raw, { ms: 5000 });
      expect(x.res, 'an answer over TLS').not.toBeNull();
      return x.res!;
    };
    const creds = JSON.stringify({ user: 'otto', password: PASSWORDS.otto });
    const host = `localhost:${s.port}`;
    const res = await tlsCall(`POST /auth/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${creds.length}\r\n\r\n${creds}`);
    expect(res.status).toBe(200);
    const set = field(res, 'Set-Cookie');
    expect(set).toHaveLength(1);
    const m = /^__Host-moat-session=([A-Za-z0-9_-]{43}); Path=\/; HttpOnly; Secure; SameSite=Strict$/.exec(set[0]);
    expect(m, set[0]).not.toBeNull();
    const who = await tlsCall(`GET /auth/session HTTP/1.1\r\nHost: ${host}\r\nCookie: __Host-moat-session=${m![1]}\r\n\r\n`);
    expect(who.status).toBe(200);
    expect(bodyOf(who)).toMatchObject({ user: 'otto', via: 'session' });
    const plain = await tlsCall(`GET /auth/session HTTP/1.1\r\nHost: ${host}\r\nCookie: moat-session=${m![1]}\r\n\r\n`);
    expect(plain.status).toBe(401);
  });
});

describe('device tokens, revocation and password changes', () => {
  it('a device token works until another process revokes the device: the very next request is 401', async () => {
    const s = await start();
    const ok = await call(s, { path: '/metrics', fields: [bearer(deviceToken)] });
    expect(ok.status).toBe(200);
    const who = await call(s, { path: '/auth/session', fields: [bearer(deviceToken)] });
    expect(bodyOf(who)).toEqual({ user: 'sensor', kind: 'device', role: 'operator', via: 'bearer' });
    expect((await call(s, { path: '/metrics', fields: [bearer(deviceToken.slice(0, -1) + (deviceToken.endsWith('A') ? 'B' : 'A'))] })).status).toBe(401);

    const cli = UserStore.load(s.users);                 // what `moat user revoke` does in its own process
    expect(cli.revoke('sensor')).toBe(true);
    cli.save();
    const after = await call(s, { path: '/metrics', fields: [bearer(deviceToken)] });
    expect(after.status).toBe(401);
    expect(field(after, 'WWW-Authenticate')).toEqual(['Bearer realm="moat"']);
  });

  it('revoking a user ends their live session at once, and they cannot log in again', async () => {
    const s = await start();
    const ada = await login(s, 'ada');
    const otto = await login(s, 'otto');
    expect((await call(s, { path: '/admin', fields: [cookieField(ada.cookie)] })).status).toBe(200);

    const cli = UserStore.load(s.users);
    cli.revoke('ada');
    cli.save();
    expect((await call(s, { path: '/admin', fields: [cookieField(ada.cookie)] })).status).toBe(401);
    expect((await call(s, { path: '/auth/session', fields: [cookieField(ada.cookie)] })).status).toBe(401);
    expect((await call(s, loginRequest('ada', PASSWORDS.ada))).status).toBe(401);
    // Someone else's session is not affected.
    expect((await call(s, { path: '/metrics', fields: [cookieField(otto.cookie)] })).status).toBe(200);
  });

  it('a password change ends the live session; only the new password logs in', async () => {
    const s = await start();
    const otto = await login(s, 'otto');
    expect((await call(s, { path: '/metrics', fields: [cookieField(otto.cookie)] })).status).toBe(200);

    const cli = UserStore.load(s.users);
    await cli.setPassword('otto', NEW_OTTO);
    cli.save();
    expect((await call(s, { path: '/metrics', fields: [cookieField(otto.cookie)] })).status).toBe(401);
    expect((await call(s, loginRequest('otto', PASSWORDS.otto))).status).toBe(401);
    const again = await login(s, 'otto', NEW_OTTO);
    expect((await call(s, { path: '/metrics', fields: [cookieField(again.cookie)] })).status).toBe(200);
  });
});

describe('login brute force', () => {
  it('per account: after auth.login.failures failures the account answers 429 + Retry-After, from any address', async () => {
    const s = await start({ login: { failures: 3, window: '1 min', lock: '1 min' } });
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      const res = await call(s, loginRequest('vic', WRONG, from));
      expect(res.status, from).toBe(401);
    }
    for (const [from, password] of [['127.0.0.5', WRONG], ['127.0.0.6', PASSWORDS.vic]] as const) {
      const res = await call(s, loginRequest('vic', password, from));
      expect(res.status, `${from} while locked`).toBe(429);   // even the right password: the account is locked
      expect(bodyOf(res)).toEqual({ error: 429, reason: 'login_throttled' });
      const retry = field(res, 'Retry-After');
      expect(retry).toHaveLength(1);
      expect(retry[0]).toMatch(/^[1-9]\d*$/);
      expect(Number(retry[0])).toBeLessThanOrEqual(60);
      expect(field(res, 'Set-Cookie')).toEqual([]);
    }
    // The lock is on the account, not the addresses: another account logs in from them.
    await login(s, 'otto', PASSWORDS.otto, '127.0.0.2');
    expect(s.r.server.metrics.value('logins', 'failed')).toBe(3);
    expect(s.r.server.metrics.value('logins', 'throttled')).toBe(2);
  });

  it('per address: more auth failures than the authFailures rule allows get that address banned; others still log in', async () => {
    const logs = tempLogs();
    const s = await start({
      logs,
      login: { failures: 100 },
      rules: [{ counter: 'authFailures', over: 3, per: '1 min', remedy: 'ban', for: '1 min' }],
    });
    // Different made-up names each time, so the per-account throttle never sees a second failure.
    for (let i = 1; i <= 4; i++) {
      const res = await call(s, loginRequest(`guess${i}`, WRONG, '127.0.0.2'));
      expect(res.status).toBe(401);
      if (i === 4) expect(field(res, 'Connection')).toEqual(['close']);   // the answer that tripped the ban
    }
    // Every later connection from that address is dropped at accept, even with the right password.
    const rightLogin = JSON.stringify({ user: 'otto', password: PASSWORDS.otto });
    for (const raw of [
      `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${rightLogin.length}\r\n\r\n${rightLogin}`,
      'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    ]) {
      const x = await exchange(s.port, raw, sockets, { from: '127.0.0.2', ms: 2000 });
      expect(x.res).toBeNull();
      expect(x.received).toBe(0);
    }
    // (Wait for the ban to be logged before another client connects: see defense.test.ts on slot reuse.)
    const ban = await securityEntry(logs.security, (e) => e.kind === 'defense', 2000, 'the ban');
    expect(ban).toMatchObject({ remedy: 'ban', client: '127.0.0.2', rule: 'rule 0: authFailures > 3 per 1 min -> ban for 1 min' });
    const otto = await login(s, 'otto', PASSWORDS.otto, '127.0.0.3');
    expect((await call(s, { path: '/metrics', fields: [cookieField(otto.cookie)], from: '127.0.0.3' })).status).toBe(200);
  });
});

describe('the session table', () => {
  it('with web.limits.sessions = 3 the 4th user gets 503; the first 3 keep working; re-logins evict nobody else', async () => {
    const s = await start({ sessions: 3 });
    const ada = await login(s, 'ada');
    const otto = await login(s, 'otto');
    const vic = await login(s, 'vic');
    const walt = await call(s, loginRequest('walt', PASSWORDS.walt));
    expect(walt.status).toBe(503);
    expect(bodyOf(walt)).toEqual({ error: 503, reason: 'session_limit' });
    expect(field(walt, 'Retry-After')).toEqual(['60']);
    expect(field(walt, 'Set-Cookie')).toEqual([]);
    for (const l of [ada, otto, vic]) expect((await call(s, { path: '/auth/session', fields: [cookieField(l.cookie)] })).status).toBe(200);

    let latest = otto;
    for (let i = 0; i < 5; i++) latest = await login(s, 'otto');
    for (const l of [ada, vic, latest]) expect((await call(s, { path: '/auth/session', fields: [cookieField(l.cookie)] })).status).toBe(200);
    expect((await call(s, loginRequest('walt', PASSWORDS.walt))).status).toBe(503);
    const m = await call(s, { path: '/metrics', fields: [cookieField(latest.cookie)] });
    expect(m.body.toString().split('\n')).toContain('moat_sessions_active 3');
  });
});

describe('CSRF on state-changing requests', () => {
  it('refuses a session POST without the token, with a wrong one, cross-origin or cross-site; the handler runs only when all pass', async () => {
    const s = await start();
    const vic = await login(s, 'vic');
    const other = await login(s, 'walt');
    const origin = `http://127.0.0.1:${s.port}`;
    const post = (fields: [string, string][]) => call(s, { method: 'POST', path: '/api/state', body: '{}', fields: [cookieField(vic.cookie), ...fields] });

    const cases: [string, [string, string][], string][] = [
      ['no token', [['Origin', origin]], 'csrf_token'],
      ['another session\'s token', [['X-CSRF-Token', other.csrf], ['Origin', origin]], 'csrf_token'],
      ['a made-up token', [['X-CSRF-Token', 'x'.repeat(43)]], 'csrf_token'],
      ['Origin of another site', [['X-CSRF-Token', vic.csrf], ['Origin', 'http://evil.example']], 'csrf_origin_mismatch'],
      ['Origin on another port', [['X-CSRF-Token', vic.csrf], ['Origin', `http://127.0.0.1:${s.port + 1}`]], 'csrf_origin_mismatch'],
      ['Origin null', [['X-CSRF-Token', vic.csrf], ['Origin', 'null']], 'csrf_origin_mismatch'],
      ['Sec-Fetch-Site cross-site', [['X-CSRF-Token', vic.csrf], ['Sec-Fetch-Site', 'cross-site'], ['Origin', origin]], 'csrf_cross_site'],
      ['Sec-Fetch-Site same-site', [['X-CSRF-Token', vic.csrf], ['Sec-Fetch-Site', 'same-site']], 'csrf_cross_site'],
    ];
    for (const [what, fields, reason] of cases) {
      const res = await post(fields);
      expect(res.status, what).toBe(403);
      expect(bodyOf(res), what).toEqual({ error: 403, reason });
      expect(s.stateCalls(), `handler ran for: ${what}`).toBe(0);
    }

    const ok = await post([['X-CSRF-Token', vic.csrf], ['Origin', origin], ['Sec-Fetch-Site', 'same-origin']]);
    expect(ok.status).toBe(200);
    expect(bodyOf(ok)).toEqual({ calls: 1 });
    // A non-browser client sends neither Origin nor Fetch Metadata: the token alone suffices.
    expect((await post([['X-CSRF-Token', vic.csrf]])).status).toBe(200);
    expect(s.stateCalls()).toBe(2);

    // Logout is state-changing too: refused without the token, then done with it.
    const noToken = await call(s, { method: 'POST', path: '/auth/logout', body: '', fields: [cookieField(vic.cookie)] });
    expect(noToken.status).toBe(403);
    expect((await call(s, { path: '/auth/session', fields: [cookieField(vic.cookie)] })).status).toBe(200);
    const out = await call(s, { method: 'POST', path: '/auth/logout', body: '', fields: [cookieField(vic.cookie), ['X-CSRF-Token', vic.csrf]] });
    expect(out.status).toBe(200);
    expect(bodyOf(out)).toEqual({ ended: true });
    expect(field(out, 'Set-Cookie')).toEqual(['moat-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict']);
    expect((await call(s, { path: '/auth/session', fields: [cookieField(vic.cookie)] })).status).toBe(401);
    expect(s.stateCalls()).toBe(2);
  });
});

describe('logs', () => {
  it('no password, device token, session cookie or CSRF token appears in the access, error or security log', async () => {
    const logs = tempLogs();
    const s = await start({ logs });
    const secrets: string[] = [...Object.values(PASSWORDS), WRONG, deviceToken];
    const ada = await login(s, 'ada');
    const otto = await login(s, 'otto');
    secrets.push(ada.cookie, otto.cookie, ada.csrf, otto.csrf);
    expect((await call(s, loginRequest('otto', WRONG))).status).toBe(401);
    expect((await call(s, loginRequest('vic', PASSWORDS.vic + 'x'))).status).toBe(401);
    secrets.push(PASSWORDS.vic + 'x');
    expect((await call(s, { path: '/admin', fields: [cookieField(ada.cookie)] })).status).toBe(200);
    expect((await call(s, { path: '/metrics', fields: [cookieField(otto.cookie)] })).status).toBe(200);
    expect((await call(s, { path: '/metrics', fields: [bearer(deviceToken)] })).status).toBe(200);
    const fake = 'moat_' + 'Zq'.repeat(21) + 'Z';
    secrets.push(fake);
    expect((await call(s, { path: '/metrics', fields: [bearer(fake)] })).status).toBe(401);
    // A token some client put in the query string is redacted in the access log.
    expect((await call(s, { path: `/metrics?access_token=${deviceToken}` })).status).toBe(401);
    expect((await call(s, { method: 'POST', path: '/api/state', body: '{}', fields: [cookieField(otto.cookie), ['X-CSRF-Token', ada.csrf]] })).status).toBe(403);
    expect((await call(s, { method: 'POST', path: '/api/state', body: '{}', fields: [cookieField(otto.cookie), ['X-CSRF-Token', otto.csrf]] })).status).toBe(200);
    expect((await call(s, { method: 'POST', path: '/auth/logout', body: '', fields: [cookieField(ada.cookie), ['X-CSRF-Token', ada.csrf]] })).status).toBe(200);
    expect((await call(s, { path: '/auth/session', fields: [cookieField(ada.cookie)] })).status).toBe(401);

    // Closing the server flushes and closes the log files.
    running.splice(running.indexOf(s.r), 1);
    await s.r.close(200);
    const access = readFileSync(logs.access, 'utf8');
    const error = readFileSync(logs.error, 'utf8');
    const security = readFileSync(logs.security, 'utf8');
    // The logs did record this traffic (so the search below searched something).
    expect(access.split('\n').filter((l) => l.includes('"POST /auth/login HTTP/1.1"'))).toHaveLength(4);
    expect(access).toContain('"GET /metrics?access_token=*** HTTP/1.1" 401');
    const sec = security.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(sec.filter((e) => e.reason === 'login').map((e) => e.user)).toEqual(['ada', 'otto']);
    expect(sec.filter((e) => e.reason === 'login_failed').map((e) => e.user)).toEqual(['otto', 'vic']);
    expect(sec.some((e) => e.reason === 'bad_device_token')).toBe(true);
    expect(sec.some((e) => e.reason === 'csrf_token')).toBe(true);
    for (const secret of secrets) {
      for (const [name, text] of [['access', access], ['error', error], ['security', security]] as const) {
        expect(text.includes(secret), `${name} log holds a secret (${secret.slice(0, 6)}…)`).toBe(false);
      }
    }
  });
});
