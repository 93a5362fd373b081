// The static file cache's freshness rule (host/static.ts): a cached small file is served after a
// stat shows it unchanged, and a stat taken after a request reached the host (`receivedBy`) may
// answer for that request too. A change made before a request was sent is always seen; one made
// after it arrived may or may not be. Checked on the handler and through a real server, where
// requests carry the turn time of their socket read (host/connection.ts).
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticHandler } from '../host/static.ts';
import { MoatServer } from '../host/server.ts';
import { IncomingRequest } from '../host/app-request.ts';
import { RequestFlag } from '../host/module.ts';
import type { AppReply, Handler } from '../host/types.ts';
import { Client, GET } from './helpers/raw-http.ts';

let root: string;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'moat-static-cache-')); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A GET as the server builds it, optionally with the time its first byte reached the host. */
function request(path: string, receivedBy?: number): IncomingRequest {
  const req = new IncomingRequest({
    method: 'GET', target: path, version: '1.1', headers: [['Host', 'x']], trailers: [],
    keepAlive: true, expectContinue: false, flags: RequestFlag.V11,
  }, { address: '127.0.0.1', tls: false });
  req.receivedBy = receivedBy;
  return req;
}
const text = (r: AppReply) => (Buffer.isBuffer(r.body) ? r.body.toString() : String(r.body));

/** Sets content and an mtime that differs from every earlier one, so size or mtime always change. */
let stamp = Date.parse('2024-01-01T00:00:00Z');
function put(path: string, content: string): void {
  writeFileSync(path, content);
  stamp += 1000;
  utimesSync(path, new Date(stamp), new Date(stamp));
}

describe('static cache freshness', () => {
  it('a request received after a change sees it; one received before the last check may reuse that check', async () => {
    const h: Handler = staticHandler({ root, index: 'index.html' });
    const p = join(root, 'fresh.txt');
    put(p, 'one');
    expect(text(await h(request('/fresh.txt')))).toBe('one');         // fills the cache
    const arrived = performance.now();                                  // a request that arrived now…
    expect(text(await h(request('/fresh.txt', arrived)))).toBe('one');  // …is checked with a stat
    put(p, 'two');
    // Changed after that request arrived and after the stat made for it: the stat answers for it.
    expect(text(await h(request('/fresh.txt', arrived)))).toBe('one');
    // A request that arrived after the change gets a stat of its own and the new bytes.
    expect(text(await h(request('/fresh.txt', performance.now())))).toBe('two');
    // Without a receivedBy (a request not from the server) every hit stats.
    put(p, 'six');
    expect(text(await h(request('/fresh.txt')))).toBe('six');
    rmSync(p);
    expect((await h(request('/fresh.txt', performance.now()))).status).toBe(404);
  });
});

describe('static cache through the server', () => {
  const servers: MoatServer[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => s.close(200)));
  });

  it('a file changed between two requests on one keep-alive connection is served new', async () => {
    const server = await MoatServer.start({ listen: [{ scheme: 'http', host: '127.0.0.1', port: 0 }], handler: staticHandler({ root, index: 'index.html' }) });
    servers.push(server);
    const p = join(root, 'live.txt');
    put(p, 'first');
    const c = await Client.connect(server.port, sockets);
    const others = await Promise.all([0, 1, 2].map(() => Client.connect(server.port, sockets)));
    for (let round = 0; round < 5; round++) {
      const want = `version ${round}`;
      put(p, want);
      // Several connections in the same turn share one stat; every one must see this round's bytes.
      for (const o of [c, ...others]) o.write(GET('/live.txt'));
      for (const o of [c, ...others]) expect((await o.read()).body.toString()).toBe(want);
    }
  });
});
