// Config reload while serving (host/reload.ts, Running.reload, `moat serve` watching its file):
// live keys apply to the next request on the same listener, restart keys keep their running
// values, open connections and login sessions survive, a bad config changes nothing, and a quick
// self-audit of the new config follows. The CLI part edits a real config file under a real child.
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planReload, changedKeys } from '../host/reload.ts';
import { startFromConfig } from '../host/serve.ts';
import { parseConfig, toModuleConfig, validateConfig } from '../host/config.ts';
import { LAYOUT_WORDS } from '../host/module.ts';
import { UserStore } from '../host/auth/users.ts';
import { generateDevCert } from '../host/cert.ts';
import { Client, within } from './helpers/raw-http.ts';
import { testConfig, exchange, send, get, post, field, eventually, tempDir, openedByFile } from './helpers/defense.ts';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { track, servers } = openedByFile();

const STATUS = { match: '/api/status', methods: ['GET'], handler: 'status' };
const ECHO = { match: '/api/echo', methods: ['POST'], handler: 'echo' };

describe('planReload', () => {
  it('lists changed leaf keys, splits live from restart, and keeps restart keys at their running values', () => {
    const a = validateConfig({ web: { routes: [STATUS] } });
    const b = validateConfig({ web: { listen: ['http://127.0.0.1:9999'], routes: [STATUS, ECHO], limits: { body: '1K' }, timeouts: { parse: 'infinite' }, headers: { 'Cache-Control': 'no-store' } } });
    const p = planReload(a, b);
    expect(p.changed.sort()).toEqual(['web.headers', 'web.limits.body', 'web.listen', 'web.routes', 'web.timeouts.parse']);
    expect(p.restart).toEqual(['web.listen']);
    expect(p.live.sort()).toEqual(['web.headers', 'web.limits.body', 'web.routes', 'web.timeouts.parse']);
    expect(p.effective.web.listen).toEqual(a.web.listen);
    expect(p.effective.web.routes).toEqual(b.web.routes);
    expect(p.effective.web.timeouts.parse).toBe(Infinity);
    expect(changedKeys(a, structuredClone(a))).toEqual([]);
  });

  it('holds the defense rules and clientRequests together when the rule count would change the module layout', () => {
    const a = validateConfig({});
    const b = validateConfig({ web: { limits: { clientRequests: 0 } } });        // the rate rule goes away
    const p = planReload(a, b);
    expect(p.restart).toEqual(['web.limits.clientRequests']);
    expect(p.effective.web.limits.clientRequests).toBe(a.web.limits.clientRequests);
    const c = validateConfig({ web: { limits: { clientRequests: 600 } } });      // same count, new threshold
    expect(planReload(a, c)).toMatchObject({ live: ['web.limits.clientRequests'], restart: [] });
  });

  it('holds exactly the keys that would re-lay module memory (slots, window, client table), found from the module words', () => {
    const a = validateConfig({});
    const b = validateConfig({ moat: { window: '8K', defense: { clients: 32 } }, web: { limits: { connections: 20, header: '6K', uri: '2K' } } });
    const p = planReload(a, b);
    expect(p.restart.sort()).toEqual(['moat.defense.clients', 'moat.window', 'web.limits.connections']);
    expect(p.live.sort()).toEqual(['web.limits.header', 'web.limits.uri']);
    expect(p.effective.moat.window).toBe(a.moat.window);
    expect(p.effective.web.limits.connections).toBe(a.web.limits.connections);
    expect(p.effective.web.limits.header).toBe(b.web.limits.header);
    // The effective config lays memory out exactly as the running one.
    expect(LAYOUT_WORDS.map((w) => toModuleConfig(p.effective)[w])).toEqual(LAYOUT_WORDS.map((w) => toModuleConfig(a)[w]));
  });
});

describe('Running.reload', () => {
  it('applies routes, fields, hosts and module limits to the next request; connections and sessions survive', async () => {
    const dir = tempDir('moat-reload-');
    const users = join(dir, 'users.json');
    const store = UserStore.load(users);
    await store.addUser('op', 'operator', 'a long operator passphrase');
    store.save();
    const base = { auth: { users }, web: { routes: [STATUS, ECHO, { match: '/auth/login', methods: ['POST'], handler: 'login' }, { match: '/auth/session', methods: ['GET'], handler: 'session' }] } };
    const s = await startFromConfig(testConfig(base, { baseDir: dir }));
    servers.push(s);
    const port = s.server.port;

    const login = await exchange(port, post('/auth/login', JSON.stringify({ user: 'op', password: 'a long operator passphrase' })), track);
    expect(login.res?.status).toBe(200);
    const cookie = field(login.res!, 'set-cookie')[0].split(';')[0];
    const kept = await Client.connect(port, track);
    expect((await send(kept, get('/api/status'), { keep: true })).res?.status).toBe(200);
    expect((await exchange(port, get('/metrics'), track)).res?.status).toBe(404);
    expect((await exchange(port, post('/api/echo', 'x'.repeat(2000)), track)).res?.status).toBe(200);

    const next = testConfig({
      ...base,
      web: {
        ...base.web,
        routes: [...base.web.routes, { match: '/metrics', methods: ['GET'], handler: 'metrics', role: 'operator' }],
        headers: { 'X-Device': 'unit-7' },
        limits: { body: '1K' },
        hosts: ['device.example'],
        listen: ['http://127.0.0.1:1'],
      },
    }, { baseDir: dir, listen: ['http://127.0.0.1:1'] });
    const r = s.reload(() => next, 'test');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.restart).toEqual(['web.listen']);
    expect(r.plan.live.sort()).toEqual(['web.headers', 'web.hosts', 'web.limits.body', 'web.routes']);
    expect(s.config.web.listen[0].port).toBe(0);                                    // held: still the running listener
    expect(s.server.port).toBe(port);

    const dev = (raw: string) => raw.replace('Host: 127.0.0.1', 'Host: device.example');
    const metrics = await exchange(port, dev(get('/metrics', `Cookie: ${cookie}\r\n`)), track);
    expect(metrics.res?.status).toBe(200);                                           // new route; the old session still logs in
    expect(field(metrics.res!, 'x-device')).toEqual(['unit-7']);
    expect((await exchange(port, get('/api/status'), track)).res?.status).toBe(421); // 127.0.0.1 is not in the new list
    const big = await exchange(port, dev(post('/api/echo', 'x'.repeat(2000))), track);
    expect(big.res?.status).toBe(413);                                               // the module's new body limit
    expect(field(big.res!, 'x-device')).toEqual(['unit-7']);                         // web.headers on module errors too
    expect((await send(kept, dev(get('/api/status')), { keep: true })).res?.status).toBe(200);  // the old connection lives on
  });

  it('refuses a config that fails to load or build and keeps serving the old one', async () => {
    const s = await startFromConfig(testConfig({ web: { routes: [STATUS] } }));
    servers.push(s);
    const bad = s.reload(() => validateConfig({ web: { limits: { body: '10 parsecs' } } }));
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('web.limits.body') });
    const unknown = s.reload(() => testConfig({ web: { routes: [{ match: '/x', handler: 'nope' }] } }, { handlers: ['nope'] }));
    expect(unknown.ok).toBe(false);
    expect((await exchange(s.server.port, get('/api/status'), track)).res?.status).toBe(200);
    expect(s.config.web.routes.map((x) => x.match)).toEqual(['/api/status']);
  });

  it('runs a quick self-audit of the new config after a change', async () => {
    const s = await startFromConfig(testConfig({ web: { routes: [STATUS] }, moat: { audit: { schedule: false, state: null } } }));
    servers.push(s);
    expect(s.audit!.last()).toBeNull();
    const r = s.reload(() => testConfig({ web: { routes: [STATUS], headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Credentials': 'true' } }, moat: { audit: { schedule: false, state: null } } }));
    expect(r.ok).toBe(true);
    const report = await eventually(() => s.audit!.last() ?? undefined, 20_000, 'the quick audit after the change');
    expect(report.actor).toBe('config-change');
    expect(report.profile).toBe('quick');
    expect(report.findings.map((f) => `${f.probe} ${f.target}`)).toContain('cors web.headers');
    // No change, no run.
    const again = s.reload(() => s.config);
    expect(again).toMatchObject({ ok: true, plan: { changed: [] } });
  }, 30_000);
});

describe('TLS certificate renewal', () => {
  it('serves a renewed certificate (same paths) from the next handshake; a key that does not match is refused', async () => {
    const dir = tempDir('moat-reload-tls-');
    const a = await generateDevCert({ out: join(dir, 'a') }), b = await generateDevCert({ out: join(dir, 'b') });
    const live = { certificate: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(a.certPath, live.certificate);
    copyFileSync(a.keyPath, live.key);
    const cfg = () => testConfig({ web: { routes: [STATUS] }, tls: live }, { listen: ['https://127.0.0.1:0'] });
    const s = await startFromConfig(cfg());
    servers.push(s);
    const port = s.server.port;
    const peer = () => new Promise<{ fingerprint: string; status: string }>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        const fingerprint = sock.getPeerCertificate().fingerprint256;
        sock.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
        let got = '';
        sock.on('data', (d) => { got += d; });
        sock.on('end', () => resolve({ fingerprint, status: got.slice(0, 12) }));
      });
      sock.on('error', reject);
      track.push(sock);
    });
    const fp = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
    expect(await peer()).toEqual({ fingerprint: fp(a.certPath), status: 'HTTP/1.1 200' });

    copyFileSync(b.certPath, live.certificate);                 // a key that does not match the certificate
    const refused = s.reload(cfg);
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(/^tls\.key: .* does not match the certificate/) });
    expect((await peer()).fingerprint).toBe(fp(a.certPath));

    copyFileSync(b.keyPath, live.key);                           // the renewal, complete
    const r = s.reload(cfg);
    expect(r).toMatchObject({ ok: true, plan: { live: ['tls.certificate (file contents)'], restart: [] } });
    expect(await peer()).toEqual({ fingerprint: fp(b.certPath), status: 'HTTP/1.1 200' });
    expect(s.reload(cfg)).toMatchObject({ ok: true, plan: { changed: [] } });   // nothing new: nothing applied
  });
});

describe('moat serve --config FILE', () => {
  it('reloads the file when it changes and on SIGHUP; a bad edit is refused naming the key', async () => {
    const dir = tempDir('moat-reload-cli-');
    const file = join(dir, 'moat.json5');
    const text = (routes: object[], extra = '') => `{ web: { listen: ['http://127.0.0.1:0'], routes: ${JSON.stringify(routes)}${extra} },
      log: { access: { path: null }, error: { path: null }, security: { path: null } }, moat: { audit: { schedule: false, state: null } } }`;
    writeFileSync(file, text([STATUS]));
    const child = spawn(process.execPath, [MOAT, 'serve', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    track.push({ destroy: () => child.kill('SIGKILL') });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const port = Number((await eventually(() => /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out) ?? undefined, 10_000, 'serving line'))[1]);
    expect((await exchange(port, post('/api/echo', 'hi'), track)).res?.status).toBe(404);

    writeFileSync(file, text([STATUS, ECHO]));
    await eventually(() => /config reloaded \(file changed\): applied web\.routes/.test(out), 10_000, `a reload line (stdout ${out} stderr ${err})`);
    expect((await exchange(port, post('/api/echo', 'hi'), track)).res?.status).toBe(200);

    writeFileSync(file, text([STATUS, ECHO], ", limits: { body: '10 parsecs' }"));
    await eventually(() => /config reload refused \(file changed\): web\.limits\.body: "10 parsecs"/.test(err), 10_000, `a refusal (stderr ${err})`);
    expect((await exchange(port, post('/api/echo', 'hi'), track)).res?.status).toBe(200);

    // The file is fixed in place without the watcher seeing a new size or time? SIGHUP re-reads it anyway.
    writeFileSync(file, text([STATUS]));
    child.kill('SIGHUP');
    await eventually(() => /config reloaded \((SIGHUP|file changed)\): applied web\.routes/.test(out.split('applied web.routes').slice(1).join('applied web.routes')), 10_000, `a second reload (stdout ${out})`);
    expect((await exchange(port, post('/api/echo', 'hi'), track)).res?.status).toBe(404);
    expect(readFileSync(file, 'utf8')).toContain('/api/status');
    child.kill('SIGTERM');
    const code = await within(new Promise<number | null>((r) => child.on('close', r)), 10_000, 'exit');
    expect(code).toBe(0);
  }, 40_000);
});
