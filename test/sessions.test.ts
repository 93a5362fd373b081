// Sessions, session cookies and CSRF checks as pure functions: the table's bound and fairness,
// expiry with an injected clock, what the store keeps in memory, exact Set-Cookie values, cookie
// parsing against duplicates and junk, and each CSRF rule with a case that passes and one that
// is refused.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { SessionStore } from '../host/auth/sessions.ts';
import { MAX_COOKIE_HEADER, clearCookie, cookieName, readCookie, sessionCookie } from '../host/auth/cookies.ts';
import { csrfProblem, isUnsafeMethod } from '../host/auth/csrf.ts';

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

function login(store: SessionStore, name: string, now = 0): string {
  const r = store.create({ name, role: 'user', generation: 1 }, now);
  if (!r) throw new Error(`create for ${name} was refused`);
  return r.token;
}

describe('SessionStore limits', () => {
  it('refuses the (max+1)th distinct user and keeps max', () => {
    const store = new SessionStore({ max: 20, idleMs: 60_000 });
    for (let i = 0; i < 20; i++) login(store, `u${i}`);
    expect(store.size).toBe(20);
    expect(store.max).toBe(20);
    expect(store.create({ name: 'u20', role: 'user', generation: 1 }, 1)).toBeNull();
    expect(store.size).toBe(20);
  });

  it('purges expired sessions before refusing, which makes room', () => {
    const store = new SessionStore({ max: 3, idleMs: 1000 });
    login(store, 'a', 0); login(store, 'b', 0); login(store, 'c', 500);
    expect(store.create({ name: 'd', role: 'user', generation: 1 }, 999)).toBeNull();
    // a and b went idle at 1000; c is still live until 1500.
    expect(store.create({ name: 'd', role: 'user', generation: 1 }, 1000)).not.toBeNull();
    expect(store.size).toBe(2);
  });

  it('replaces a user\'s own least recently used session at the per-user limit', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000, perUser: 2 });
    const a1 = login(store, 'alice', 0);
    const a2 = login(store, 'alice', 1);
    const b1 = login(store, 'bob', 2);
    expect(store.get(a1, 3)).not.toBeNull();
    const a3 = login(store, 'alice', 4);
    expect(store.get(a2, 5)).toBeNull();
    expect(store.get(a1, 5)?.user).toBe('alice');
    expect(store.get(a3, 5)?.user).toBe('alice');
    expect(store.get(b1, 5)?.user).toBe('bob');
    expect(store.size).toBe(3);
  });

  it('never evicts another user\'s live session when the table is full', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000, perUser: 2 });
    login(store, 'alice', 0); login(store, 'alice', 1);
    const bob = login(store, 'bob', 2);
    const carol = login(store, 'carol', 3);
    expect(store.create({ name: 'alice', role: 'user', generation: 1 }, 4)).not.toBeNull();
    expect(store.create({ name: 'dave', role: 'user', generation: 1 }, 5)).toBeNull();
    expect(store.create({ name: 'bob', role: 'user', generation: 1 }, 6)).toBeNull();
    expect(store.get(bob, 7)?.user).toBe('bob');
    expect(store.get(carol, 7)?.user).toBe('carol');
    expect(store.size).toBe(4);
  });

  it('one user logging in repeatedly cannot exhaust the table', () => {
    const store = new SessionStore({ max: 20, idleMs: 60_000 });
    expect(store.perUser).toBe(5);
    for (let i = 0; i < 100; i++) login(store, 'mallory', i);
    expect(store.size).toBe(5);
    for (let i = 0; i < 15; i++) login(store, `u${i}`, 200);
    expect(store.size).toBe(20);
  });

  it('per-user default is max/4 rounded down, at least 1', () => {
    expect(new SessionStore({ max: 20, idleMs: 1 }).perUser).toBe(5);
    expect(new SessionStore({ max: 3, idleMs: 1 }).perUser).toBe(1);
    expect(new SessionStore({ max: 20, idleMs: 1, perUser: 7 }).perUser).toBe(7);
  });

  it('refuses nonsense options', () => {
    expect(() => new SessionStore({ max: 0, idleMs: 1 })).toThrow(RangeError);
    expect(() => new SessionStore({ max: 2.5, idleMs: 1 })).toThrow(RangeError);
    expect(() => new SessionStore({ max: 2, idleMs: 0 })).toThrow(RangeError);
    expect(() => new SessionStore({ max: 2, idleMs: 1, absoluteMs: -1 })).toThrow(RangeError);
    expect(() => new SessionStore({ max: 2, idleMs: 1, perUser: 3 })).toThrow(RangeError);
  });

  it('stays within max over 100,000 create attempts from many users', () => {
    const store = new SessionStore({ max: 20, idleMs: 60_000 });
    let accepted = 0, refused = 0, worst = 0;
    for (let i = 0; i < 100_000; i++) {
      // Time advances slowly, so a few sessions expire and new users get in now and then.
      const r = store.create({ name: `u${i % 997}`, role: 'user', generation: 1 }, i * 10);
      if (r) accepted++; else refused++;
      if (store.size > worst) worst = store.size;
    }
    expect(worst).toBeLessThanOrEqual(20);
    expect(worst).toBe(20);
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(0);
  });
});

describe('SessionStore expiry', () => {
  it('idle timeout: use keeps a session alive, idleMs of silence ends it', () => {
    const store = new SessionStore({ max: 4, idleMs: 1000 });
    const t = login(store, 'a', 0);
    expect(store.get(t, 999)?.lastSeen).toBe(999);
    expect(store.get(t, 1998)?.lastSeen).toBe(1998);
    expect(store.get(t, 2998)).toBeNull();
    expect(store.size).toBe(0);
    expect(store.get(t, 2999)).toBeNull();
  });

  it('absolute lifetime ends a session however active it is', () => {
    const store = new SessionStore({ max: 4, idleMs: 1000, absoluteMs: 5000 });
    const t = login(store, 'a', 0);
    for (let now = 900; now < 5000; now += 900) expect(store.get(t, now)).not.toBeNull();
    expect(store.get(t, 4999)).not.toBeNull();
    expect(store.get(t, 5000)).toBeNull();
    expect(store.size).toBe(0);
  });

  it('absolute lifetime defaults to 12 hours', () => {
    const h = 3600_000;
    const store = new SessionStore({ max: 4, idleMs: h });
    expect(store.absoluteMs).toBe(12 * h);
    const t = login(store, 'a', 0);
    for (let now = h / 2; now < 12 * h; now += h / 2) expect(store.get(t, now)).not.toBeNull();
    expect(store.get(t, 12 * h)).toBeNull();
  });

  it('sweep removes only expired sessions and counts them', () => {
    const store = new SessionStore({ max: 4, idleMs: 1000 });
    login(store, 'a', 0); login(store, 'b', 100);
    const c = login(store, 'c', 600);
    expect(store.sweep(999)).toBe(0);
    expect(store.sweep(1100)).toBe(2);
    expect(store.size).toBe(1);
    expect(store.get(c, 1100)?.user).toBe('c');
  });
});

describe('SessionStore tokens and revocation', () => {
  it('tokens and CSRF secrets are 32 random bytes in base64url, all distinct', () => {
    const store = new SessionStore({ max: 1000, idleMs: 60_000, perUser: 1 });
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const r = store.create({ name: `u${i}`, role: 'admin', generation: 3 }, 0)!;
      expect(r.token).toMatch(B64URL_32);
      expect(r.session.csrf).toMatch(B64URL_32);
      seen.add(r.token); seen.add(r.session.csrf);
    }
    expect(seen.size).toBe(1000);
  });

  it('create returns the session it stored', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000 });
    const r = store.create({ name: 'ann', role: 'admin', generation: 7 }, 42)!;
    expect(r.session).toEqual({ user: 'ann', role: 'admin', generation: 7, csrf: r.session.csrf, created: 42, lastSeen: 42 });
    expect(store.get(r.token, 43)).toEqual({ ...r.session, lastSeen: 43 });
  });

  it('keeps only a hash of each token in memory', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000 });
    const tokens = [login(store, 'a'), login(store, 'b')];
    const dump = inspect(store, { depth: Infinity, maxStringLength: Infinity, maxArrayLength: Infinity });
    for (const t of tokens) {
      // The hash showing up proves the dump reaches the table's keys at all.
      expect(dump).toContain(createHash('sha256').update(t).digest('base64url'));
      expect(dump).not.toContain(t);
    }
  });

  it('get of a missing, garbage or altered token is null and changes nothing', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000 });
    const t = login(store, 'a');
    const altered = (t[0] === 'A' ? 'B' : 'A') + t.slice(1);
    for (const bad of [undefined, '', 'x', 'A'.repeat(43), altered, t + 'A', ' ' + t, 'x'.repeat(100_000)]) {
      expect(store.get(bad, 1)).toBeNull();
    }
    expect(store.size).toBe(1);
    expect(store.get(t, 1)?.user).toBe('a');
  });

  it('a returned session is a copy: editing it does not change the table', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000 });
    const r = store.create({ name: 'a', role: 'user', generation: 1 }, 0)!;
    r.session.role = 'admin';
    const got = store.get(r.token, 1)!;
    expect(got.role).toBe('user');
    got.user = 'root';
    expect(store.get(r.token, 2)?.user).toBe('a');
  });

  it('destroy ends one session', () => {
    const store = new SessionStore({ max: 4, idleMs: 60_000, perUser: 2 });
    const t1 = login(store, 'a'), t2 = login(store, 'a');
    expect(store.destroy(t1)).toBe(true);
    expect(store.destroy(t1)).toBe(false);
    expect(store.destroy(undefined)).toBe(false);
    expect(store.get(t1, 1)).toBeNull();
    expect(store.get(t2, 1)?.user).toBe('a');
    expect(store.size).toBe(1);
  });

  it('destroyUser ends all of one user\'s sessions and no one else\'s', () => {
    const store = new SessionStore({ max: 8, idleMs: 60_000, perUser: 3 });
    const a = [login(store, 'a'), login(store, 'a'), login(store, 'a')];
    const b = login(store, 'b');
    expect(store.destroyUser('a')).toBe(3);
    for (const t of a) expect(store.get(t, 1)).toBeNull();
    expect(store.get(b, 1)?.user).toBe('b');
    expect(store.destroyUser('a')).toBe(0);
    expect(store.destroyUser('nobody')).toBe(0);
    expect(store.size).toBe(1);
    // After revocation the user starts again with a full per-user allowance.
    for (let i = 0; i < 3; i++) login(store, 'a', 2);
    expect(store.size).toBe(4);
  });
});

describe('session cookies', () => {
  const T = 'dG9rZW4tdG9rZW4tdG9rZW4tdG9rZW4tdG9rZW4tdG9r';

  it('secure cookie: __Host- name, Secure, HttpOnly, Path=/, no Domain', () => {
    expect(sessionCookie('sid', T, { secure: true, sameSite: 'Strict', maxAgeS: 3600 }))
      .toBe(`__Host-sid=${T}; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict`);
    expect(sessionCookie('sid', T, { secure: true, sameSite: 'None' }))
      .toBe(`__Host-sid=${T}; Path=/; HttpOnly; Secure; SameSite=None`);
  });

  it('plain-HTTP cookie: no prefix and no Secure', () => {
    expect(sessionCookie('sid', T, { secure: false, sameSite: 'Lax' }))
      .toBe(`sid=${T}; Path=/; HttpOnly; SameSite=Lax`);
    expect(sessionCookie('sid', T, { secure: false, sameSite: 'Strict', maxAgeS: 0 }))
      .toBe(`sid=${T}; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`);
  });

  it('SameSite=None without Secure is refused', () => {
    expect(() => sessionCookie('sid', T, { secure: false, sameSite: 'None' })).toThrow(/SameSite=None/);
  });

  it('refuses values that would break the header', () => {
    expect(() => sessionCookie('sid', 'a;Domain=evil', { secure: true, sameSite: 'Strict' })).toThrow();
    expect(() => sessionCookie('sid', 'a\r\nX: y', { secure: true, sameSite: 'Strict' })).toThrow();
    expect(() => sessionCookie('s id', T, { secure: true, sameSite: 'Strict' })).toThrow();
    expect(() => sessionCookie('sid', T, { secure: true, sameSite: 'Strict', maxAgeS: -1 })).toThrow();
    expect(() => sessionCookie('sid', T, { secure: true, sameSite: 'Strict', maxAgeS: 1.5 })).toThrow();
    expect(() => sessionCookie('sid', T, { secure: true, sameSite: 'strict' as 'Strict' })).toThrow();
  });

  it('clearCookie expires the same cookie at once', () => {
    expect(clearCookie('sid', { secure: true, sameSite: 'Strict' })).toBe('__Host-sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict');
    expect(clearCookie('sid', { secure: false, sameSite: 'Lax' })).toBe('sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax');
  });

  it('cookieName adds __Host- only when secure, and not twice', () => {
    expect(cookieName('sid', true)).toBe('__Host-sid');
    expect(cookieName('sid', false)).toBe('sid');
    expect(cookieName('__Host-sid', true)).toBe('__Host-sid');
    expect(() => cookieName('__Host-sid', false)).toThrow();
    expect(() => cookieName('__Secure-sid', false)).toThrow();
    expect(() => cookieName('', true)).toThrow();
    expect(() => cookieName('a=b', true)).toThrow();
  });

  it('what sessionCookie writes, readCookie reads back under cookieName', () => {
    for (const secure of [true, false]) {
      const set = sessionCookie('sid', T, { secure, sameSite: 'Strict' });
      const sent = set.slice(0, set.indexOf(';'));
      expect(readCookie(`theme=dark; ${sent}`, cookieName('sid', secure))).toBe(T);
    }
  });
});

describe('readCookie', () => {
  it('finds the named cookie among others', () => {
    expect(readCookie('a=1; sid=xyz; b=2', 'sid')).toBe('xyz');
    expect(readCookie('sid=xyz', 'sid')).toBe('xyz');
    expect(readCookie('a=1;sid=xyz;b=2', 'sid')).toBe('xyz');
    expect(readCookie('a=1; \tsid = xyz ;b=2', 'sid')).toBe('xyz');
    expect(readCookie('sid="xyz"', 'sid')).toBe('xyz');
  });

  it('absent is undefined', () => {
    expect(readCookie(undefined, 'sid')).toBeUndefined();
    expect(readCookie('', 'sid')).toBeUndefined();
    expect(readCookie('a=1; b=2', 'sid')).toBeUndefined();
    expect(readCookie('xsid=1; sid2=2; SID=3', 'sid')).toBeUndefined();
    expect(readCookie('a=sid', 'sid')).toBeUndefined();
  });

  it('a name sent twice is undefined, whichever copy comes first', () => {
    expect(readCookie('sid=a', 'sid')).toBe('a');
    expect(readCookie('sid=a; sid=b', 'sid')).toBeUndefined();
    expect(readCookie('sid=a; other=1; sid=a', 'sid')).toBeUndefined();
    expect(readCookie('sid=a; sid=bad value', 'sid')).toBeUndefined();
    expect(readCookie('sid=bad value; sid=a', 'sid')).toBeUndefined();
    expect(readCookie('__Host-sid=a; sid=b', '__Host-sid')).toBe('a');
  });

  it('skips malformed pairs, and a malformed value of the named cookie is undefined', () => {
    expect(readCookie('junk; =x; ;; sid=ok; bad\x01=1', 'sid')).toBe('ok');
    expect(readCookie('sid=a b', 'sid')).toBeUndefined();
    expect(readCookie('sid=a,b', 'sid')).toBeUndefined();
    expect(readCookie('sid=a\\b', 'sid')).toBeUndefined();
    expect(readCookie('sid="a', 'sid')).toBeUndefined();
    expect(readCookie('sid=é', 'sid')).toBeUndefined();
  });

  it('does not read oversized headers', () => {
    const pad = (n: number) => 'p=' + 'x'.repeat(n);
    const fits = `${pad(MAX_COOKIE_HEADER - 20)}; sid=ok`;
    expect(fits.length).toBeLessThanOrEqual(MAX_COOKIE_HEADER);
    expect(readCookie(fits, 'sid')).toBe('ok');
    expect(readCookie(`${pad(MAX_COOKIE_HEADER)}; sid=ok`, 'sid')).toBeUndefined();
  });
});

type Headers = Record<string, string>;
function req(method: string, headers: Headers = {}) {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, header: (name: string) => lower.get(name.toLowerCase()) };
}
const CSRF = 'Q3NyZlRva2VuQ3NyZlRva2VuQ3NyZlRva2VuQ3NyZlQ';
const anon = { scheme: 'https' as const, session: null };
const authed = { scheme: 'https' as const, session: { csrf: CSRF } };
const HOST = { Host: 'device.local' };

describe('csrfProblem', () => {
  it('isUnsafeMethod: only GET, HEAD, OPTIONS and TRACE are safe, case-sensitively', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect(isUnsafeMethod(m)).toBe(false);
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'CONNECT', 'get', 'Post']) expect(isUnsafeMethod(m)).toBe(true);
  });

  it('safe methods pass even with every warning sign', () => {
    const hostile = { ...HOST, 'Sec-Fetch-Site': 'cross-site', Origin: 'null' };
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect(csrfProblem(req(m, hostile), authed)).toBeNull();
    expect(csrfProblem(req('POST', hostile), authed)).toBe('cross_site');
  });

  it('anonymous request without Fetch Metadata or Origin passes', () => {
    expect(csrfProblem(req('POST', HOST), anon)).toBeNull();
    expect(csrfProblem(req('POST'), anon)).toBeNull();
    expect(csrfProblem(req('POST', HOST), authed)).toBe('csrf_token');
  });

  it('Sec-Fetch-Site: same-origin and none pass; cross-site and same-site are refused', () => {
    expect(csrfProblem(req('POST', { ...HOST, 'Sec-Fetch-Site': 'same-origin' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { ...HOST, 'Sec-Fetch-Site': 'none' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { ...HOST, 'Sec-Fetch-Site': 'Same-Origin' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { ...HOST, 'Sec-Fetch-Site': 'cross-site' }), anon)).toBe('cross_site');
    expect(csrfProblem(req('DELETE', { ...HOST, 'Sec-Fetch-Site': 'same-site' }), anon)).toBe('cross_site');
    expect(csrfProblem(req('PUT', { ...HOST, 'Sec-Fetch-Site': '' }), anon)).toBe('cross_site');
  });

  it('Origin must match scheme://Host', () => {
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'https://device.local' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'https://evil.example' }), anon)).toBe('origin_mismatch');
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'https://sub.device.local' }), anon)).toBe('origin_mismatch');
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'http://device.local' }), anon)).toBe('origin_mismatch');
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'http://device.local' }), { scheme: 'http', session: null })).toBeNull();
    expect(csrfProblem(req('POST', { Origin: 'https://device.local' }), anon)).toBe('origin_mismatch');
  });

  it('Origin "null" is refused', () => {
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'null' }), anon)).toBe('origin_mismatch');
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'null' }), authed)).toBe('origin_mismatch');
  });

  it('default ports are normalised on both sides; other ports must agree', () => {
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'https://device.local:443' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { Host: 'device.local:443', Origin: 'https://device.local' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { Host: 'device.local:80', Origin: 'http://device.local' }), { scheme: 'http', session: null })).toBeNull();
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'https://device.local:80' }), anon)).toBe('origin_mismatch');
    expect(csrfProblem(req('POST', { ...HOST, Origin: 'https://device.local:8443' }), anon)).toBe('origin_mismatch');
    expect(csrfProblem(req('POST', { Host: 'device.local:8443', Origin: 'https://device.local:8443' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { Host: '[::1]', Origin: 'https://[::1]:443' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { Host: '[::1]:8443', Origin: 'https://[::1]' }), anon)).toBe('origin_mismatch');
  });

  it('scheme and host compare case-insensitively', () => {
    expect(csrfProblem(req('POST', { Host: 'Device.Local', Origin: 'HTTPS://DEVICE.local' }), anon)).toBeNull();
    expect(csrfProblem(req('POST', { Host: 'Device.Local', Origin: 'HTTPS://DEVICE.locals' }), anon)).toBe('origin_mismatch');
  });

  it('an Origin that is not a bare scheme://host[:port] is refused', () => {
    for (const o of ['https://device.local/', 'https://device.local/x', 'https://u@device.local', 'device.local',
      'https://device.local:', 'https://device.local:99999', 'https://device.local:44a', '']) {
      const got = csrfProblem(req('POST', { ...HOST, Origin: o }), anon);
      // An empty port means the default (RFC 3986), so that one origin is the same site.
      expect(got, o).toBe(o === 'https://device.local:' ? null : 'origin_mismatch');
    }
  });

  it('with a session: the X-CSRF-Token must match exactly', () => {
    const good = { ...HOST, 'Sec-Fetch-Site': 'same-origin', Origin: 'https://device.local' };
    expect(csrfProblem(req('POST', { ...good, 'X-CSRF-Token': CSRF }), authed)).toBeNull();
    expect(csrfProblem(req('POST', good), authed)).toBe('csrf_token');
    expect(csrfProblem(req('POST', { ...good, 'X-CSRF-Token': '' }), authed)).toBe('csrf_token');
    expect(csrfProblem(req('POST', { ...good, 'X-CSRF-Token': CSRF.slice(0, -1) + 'R' }), authed)).toBe('csrf_token');
    expect(csrfProblem(req('POST', { ...good, 'X-CSRF-Token': CSRF + 'x' }), authed)).toBe('csrf_token');
    expect(csrfProblem(req('POST', { ...good, 'X-CSRF-Token': CSRF.toLowerCase() }), authed)).toBe('csrf_token');
  });

  it('a right token does not excuse a cross-site request', () => {
    const withToken = { ...HOST, 'X-CSRF-Token': CSRF };
    expect(csrfProblem(req('POST', withToken), authed)).toBeNull();
    expect(csrfProblem(req('POST', { ...withToken, 'Sec-Fetch-Site': 'cross-site' }), authed)).toBe('cross_site');
    expect(csrfProblem(req('POST', { ...withToken, Origin: 'https://evil.example' }), authed)).toBe('origin_mismatch');
  });

  it('without a session (anonymous or Bearer) no token is needed', () => {
    const good = { ...HOST, 'Sec-Fetch-Site': 'same-origin', Origin: 'https://device.local', Authorization: 'Bearer abc' };
    expect(csrfProblem(req('PUT', good), anon)).toBeNull();
    expect(csrfProblem(req('PUT', good), authed)).toBe('csrf_token');
  });

  it('an empty session secret never matches', () => {
    expect(csrfProblem(req('POST', { ...HOST, 'X-CSRF-Token': '' }), { scheme: 'https', session: { csrf: '' } })).toBe('csrf_token');
  });
});
