// A handler that answers before the request body has arrived (a refusal, a redirect, a streamed
// status page): the module marks that response Connection: close, and the rest of the body the
// client is still sending must not cut the response off — it is read and dropped until the
// response has left (a lingering close), then the connection ends.
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MoatServer } from '../host/server.ts';
import { Client, sleep } from './helpers/raw-http.ts';

const track: { destroy(): void }[] = [];
const servers: MoatServer[] = [];
afterAll(async () => {
  for (const c of track) c.destroy();
  for (const s of servers) await s.close(200);
});

const BODY = 'answered before your body\n';

async function start(streamed: boolean): Promise<MoatServer> {
  const s = await MoatServer.start({
    listen: [{ scheme: 'http', host: '127.0.0.1', port: 0 }],
    module: { body_bytes: 1 << 20 },
    handler: async () => ({
      status: 200,
      fields: [['Content-Type', 'text/plain']],
      // A stream that takes a while, so more of the request body arrives while it is being written.
      body: streamed
        ? { stream: Readable.from((async function* () { for (const part of BODY.match(/.{1,6}/gs)!) { await sleep(15); yield part; } })()), length: BODY.length }
        : BODY,
    }),
  });
  servers.push(s);
  return s;
}

describe('a response sent before the request body has arrived', () => {
  for (const streamed of [true, false]) {
    it(`${streamed ? 'streamed' : 'buffered'}: the whole response arrives while the client keeps sending the body, then the connection ends`, async () => {
      const s = await start(streamed);
      const c = await Client.connect(s.port, track);
      c.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 200000\r\n\r\n');
      c.write(Buffer.alloc(1000, 0x61));
      // Keep sending the body in pieces while the answer goes out.
      for (let i = 0; i < 20 && !c.ended; i++) { c.write(Buffer.alloc(2000, 0x62)); await sleep(10); }
      await c.until(() => c.ended || undefined, 5000, 'the server to end the connection');
      const text = c.buf.toString('latin1');
      expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text.endsWith(`\r\n\r\n${BODY}`)).toBe(true);
    });
  }
});
