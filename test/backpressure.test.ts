// A client that pipelines requests and never reads must not make the server buffer without bound:
// the server writes one response at a time and waits for the socket to drain, and stops reading
// input once 64 KiB of unparsed requests wait behind an unanswered one.
import { describe, it, expect, afterAll } from 'vitest';
import net from 'node:net';
import { loadConfig } from '../host/config.ts';
import { startFromConfig, type Running } from '../host/serve.ts';

let running: Running | undefined;
afterAll(async () => { await running?.close(200); });

describe('backpressure', () => {
  it('holds a bounded number of bytes for a client that never reads', async () => {
    const cfg = loadConfig();
    cfg.web.listen = [{ scheme: 'http', host: '127.0.0.1', port: 0 }];
    cfg.log = { access: { path: null, format: 'common' }, error: { path: null, level: 'error' }, security: { path: null } };
    running = await startFromConfig(cfg);
    const server = running.server;
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((r, j) => { sock.once('connect', () => r()); sock.once('error', j); });
    sock.pause();                                              // never read a response
    const req = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const total = 20_000;                                      // 20,000 requests: ~17 MB of responses
    let written = 0, peak = 0;
    const deadline = Date.now() + 4000;
    while (written < total && Date.now() < deadline) {
      if (!sock.write(Buffer.concat(Array(100).fill(req)))) await new Promise((r) => setTimeout(r, 5));
      written += 100;
      peak = Math.max(peak, server.bufferedBytes());
    }
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      peak = Math.max(peak, server.bufferedBytes());
    }
    sock.destroy();
    // One response (~1.2 KB) waiting on a full socket, plus at most 64 KiB of input and one read.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(256 * 1024);
  }, 15_000);
});
