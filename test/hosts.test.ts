// The Host allow-list (host/hosts.ts, web.hosts): unit checks of the name forms, then a real server
// started from config refusing requests for other hosts with 421 — in the Host field and in an
// absolute-form target — while serving its own names; config errors name the entry.
import { hostname, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { HostAllowList, hostName, requestHost } from '../host/hosts.ts';
import { startFromConfig } from '../host/serve.ts';
import { validateConfig } from '../host/config.ts';
import { ConfigError } from '../host/units.ts';
import { testConfig, exchange, openedByFile } from './helpers/defense.ts';

const { track, servers } = openedByFile();

describe('host names', () => {
  it('takes the host of a Host value: lower case, no port, no trailing dot, IPv6 in brackets; nothing from a non-plain authority', () => {
    expect(hostName('Device.Example:8080')).toBe('device.example');
    expect(hostName('device.example.')).toBe('device.example');
    expect(hostName('[::1]:80')).toBe('[::1]');
    expect(hostName('u@a.b:1')).toBe('');                      // userinfo: not a plain authority, matches no entry
    expect(hostName('a.example:99999')).toBe('');
    expect(hostName('192.168.1.20')).toBe('192.168.1.20');
  });

  it('prefers the authority of an absolute-form target over the Host field', () => {
    const req = (target: string, host?: string) => ({ target, header: (n: string) => (n === 'host' ? host : undefined) });
    expect(requestHost(req('http://evil.example/x', '127.0.0.1'))).toBe('evil.example');
    expect(requestHost(req('/x', 'a.example:81'))).toBe('a.example');
    expect(requestHost(req('/x'))).toBeNull();
  });

  it('matches exact names, suffix wildcards and "*"; "auto" covers loopback, the host name and interface addresses', () => {
    const list = new HostAllowList(['device.example', '*.fleet.example', 'FE80::1%eth0', '192.168.7.7']);
    expect(list.allows('device.example')).toBe(true);
    expect(list.allows('a.fleet.example')).toBe(true);
    expect(list.allows('fleet.example')).toBe(false);
    expect(list.allows('evilfleet.example')).toBe(false);
    expect(list.allows('[fe80::1]')).toBe(true);
    expect(list.allows('192.168.7.7')).toBe(true);
    expect(list.allows('localhost')).toBe(false);
    expect(list.allows(null)).toBe(true);                        // HTTP/1.0 without Host
    expect(new HostAllowList(['*']).allows('anything.example')).toBe(true);

    const auto = new HostAllowList(['auto'], [{ scheme: 'http', host: 'my-device.lan', port: 80 }]);
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'my-device.lan', hostname().toLowerCase(), `${hostname().toLowerCase().replace(/\.local$/, '')}.local`]) {
      expect(auto.allows(h), h).toBe(true);
    }
    const addresses = Object.values(networkInterfaces()).flat().map((a) => a!.address);
    expect(addresses.length).toBeGreaterThan(0);
    for (const a of addresses) expect(auto.allows(a.includes(':') ? `[${a.replace(/%.*$/, '')}]` : a), a).toBe(true);
    expect(auto.allows('evil.example')).toBe(false);
  });

  it('re-reads the interface addresses at most every 10 s, and only on a miss', () => {
    let now = 1_000_000;
    const auto = new HostAllowList(['auto'], [], () => now);
    expect(auto.allows('localhost')).toBe(true);
    const read = (auto as unknown as { autoAt: number }).autoAt;
    now += 5000;
    expect(auto.allows('not-mine.example')).toBe(false);
    expect((auto as unknown as { autoAt: number }).autoAt).toBe(read);
    now += 6000;
    expect(auto.allows('not-mine.example')).toBe(false);
    expect((auto as unknown as { autoAt: number }).autoAt).toBe(now);
  });
});

describe('web.hosts in config', () => {
  it('defaults to ["auto"] and names a bad entry with its rule', () => {
    expect(validateConfig({}).web.hosts).toEqual(['auto']);
    expect(validateConfig({ web: { hosts: ['device.example', '*.fleet.example', '[fe80::1]', '::1', '10.0.0.1', '*'] } }).web.hosts).toHaveLength(6);
    for (const [hosts, key] of [[[], 'web.hosts'], ['auto', 'web.hosts'], [['ok.example', 'http://x'], 'web.hosts[1]'], [['a..b'], 'web.hosts[0]'], [['x:80'], 'web.hosts[0]'], [[7], 'web.hosts[0]']] as const) {
      let err: unknown;
      try { validateConfig({ web: { hosts } }); } catch (e) { err = e; }
      expect(err, JSON.stringify(hosts)).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).toContain(key);
    }
  });
});

describe('a served config', () => {
  const GET = (target: string, host: string) => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

  it('the default ("auto") serves its own names and answers 421 for another host, before any route', async () => {
    const s = await startFromConfig(testConfig({ web: { routes: [{ match: '/api/status', methods: ['GET'], handler: 'status' }] } }));
    servers.push(s);
    const port = s.server.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, hostname()]) {
      expect((await exchange(port, GET('/api/status', host), track)).res?.status, host).toBe(200);
    }
    const other = await exchange(port, GET('/api/status', 'evil.example'), track);
    expect(other.res?.status).toBe(421);
    expect(JSON.parse(other.res!.body.toString())).toEqual({ error: 421, reason: 'misdirected_request' });
    expect(other.res!.headers.get('content-security-policy')).toBeDefined();    // security headers on the refusal too
    expect((await exchange(port, GET('/no-route', 'evil.example'), track)).res?.status).toBe(421);
    expect((await exchange(port, GET('http://evil.example/api/status', `127.0.0.1:${port}`), track)).res?.status).toBe(421);
    expect((await exchange(port, GET(`http://127.0.0.1:${port}/api/status`, `127.0.0.1:${port}`), track)).res?.status).toBe(200);
  });

  it('a configured list serves only its names; "*" serves any', async () => {
    const s = await startFromConfig(testConfig({ web: { hosts: ['device.example', '*.fleet.example'], routes: [{ match: '/api/status', methods: ['GET'], handler: 'status' }] } }));
    servers.push(s);
    const port = s.server.port;
    expect((await exchange(port, GET('/api/status', 'device.example:8080'), track)).res?.status).toBe(200);
    expect((await exchange(port, GET('/api/status', 'a.fleet.example'), track)).res?.status).toBe(200);
    expect((await exchange(port, GET('/api/status', `127.0.0.1:${port}`), track)).res?.status).toBe(421);
    const any = await startFromConfig(testConfig({ web: { hosts: ['*'], routes: [{ match: '/api/status', methods: ['GET'], handler: 'status' }] } }));
    servers.push(any);
    expect((await exchange(any.server.port, GET('/api/status', 'whatever.example'), track)).res?.status).toBe(200);
  });
});
