// The rest of the ABI on every engine: respond, tick, events, open limits, status and the byte-class
// table give the same answers in the board simulators (wasm3, WAMR fast and classic: host/engines.ts,
// boards/) as in V8; and `moat inspect --engine` prints the same lines. The parser itself is
// covered by the conformance corpus on every engine (conformance.test.ts). MOAT_ENGINES as there.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigFlag, loadMoat, NEVER, type Moat } from '../host/module.ts';
import { ensureSimulator, loadEngine, SIM_ENGINE_NAMES, type EngineMoat } from '../host/engines.ts';

const ENGINES = (process.env.MOAT_ENGINES ?? SIM_ENGINE_NAMES.join(',')).split(',').filter((e) => e && e !== 'none') as (typeof SIM_ENGINE_NAMES)[number][];
const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const b = (s: string) => Buffer.from(s, 'latin1');
const hex = (u: Uint8Array) => Buffer.from(u).toString('latin1');

/** Drives one module through a script touching every export; returns what it saw. */
function transcript(m: Moat): unknown[] {
  const log: unknown[] = [];
  m.configure({ slots: 4, client_connections: 2, flags: ConfigFlag.hsts | ConfigFlag.hstsSubdomains, hsts_max_age: 600,
    timeout_parse_ms: 1000, timeout_inactivity_ms: 5000, timeout_request_ms: 3000, timeout_session_ms: NEVER });
  log.push(['config', m.config, m.highWater, m.inputPtr, m.inputCap]);
  log.push(['status', Array.from({ length: 64 }, (_, c) => m.x.status(c))]);
  log.push(['classes', hex(m.bytes.subarray(m.x.classesPtr(), m.x.classesPtr() + 256))]);
  // Open limits: two per client, four in all.
  const slots = [m.open(7, true, 10), m.open(7, false, 10), m.open(7, false, 10), m.open(8, false, 10), m.open(0, false, 10), m.open(9, false, 10)];
  log.push(['open', slots]);
  const [tls, plain] = slots;
  // A request and its response on a TLS slot (HSTS) and on a plain one, with application fields.
  for (const s of [tls, plain]) {
    const req = b('GET /x HTTP/1.1\r\nHost: a\r\n\r\n');
    m.write(req);
    log.push(['feed', m.feed(s, 0, req.length, 20), Array.from({ length: m.result().spans }, (_, i) => m.span(i))]);
    const r = m.respond(s, 200, 12, [['Content-Type', 'text/plain'], ['X-Powered-By', 'drop me'], ['Cache-Control', 'no-store']], 0, 21);
    log.push(['respond', typeof r === 'number' ? r : [hex(r.head), r.close]]);
  }
  // Refused application fields and statuses.
  for (const [status, fields, len] of [[200, [['Bad Name', 'x']], 0], [200, [['X', 'a\x01b']], 0], [200, [['Content-Length', '5']], 0],
    [99, [], 0], [204, [], 0], [304, [], 0], [200, [], -1], [404, [['Connection', 'close']], 3]] as [number, [string, string][], number][]) {
    const req = b('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    m.write(req);
    m.feed(plain, 0, req.length, 30);
    const r = m.respond(plain, status, len, fields, 0, 31);
    log.push(['respond', status, typeof r === 'number' ? r : [hex(r.head), r.close]]);
  }
  // HTTP/1.0 and a close request option.
  const old = b('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  m.write(old);
  log.push(['feed10', m.feed(plain, 0, old.length, 40)]);
  const r10 = m.respond(plain, 200, -1, [], 1, 41);
  log.push(['respond10', typeof r10 === 'number' ? r10 : [hex(r10.head), r10.close]]);
  // An error request, then deadlines: head incomplete past the parse timeout, idle connections.
  const s3 = slots[3];
  m.write(b('GET / HTTP/1.1\r\nHost: a\r\nBad Field: x\r\n\r\n'));
  log.push(['error', m.feed(s3, 0, 41, 50)]);
  const s4 = slots[4];
  m.write(b('GET / HT'));
  log.push(['partial', m.feed(s4, 0, 8, 60)]);
  for (const now of [500, 1100, 5100, 9000]) log.push(['tick', now, [...m.expired(now)]]);
  log.push(['events', m.eventCount(), m.events(0)]);
  for (const s of slots) if (s >= 0) m.close(s);
  log.push(['reopen', m.open(7, false, 10000), m.open(7, false, 10000)]);
  return log;
}

describe('ABI beyond feed on every engine', () => {
  let v8: Moat;
  let expected: unknown[];
  beforeAll(async () => {
    v8 = await loadMoat();
    expected = transcript(v8);
  });

  for (const engine of ENGINES) {
    describe(engine, () => {
      let moat: EngineMoat;
      beforeAll(async () => {
        await ensureSimulator(engine);
        moat = await loadEngine(engine);
      }, 300_000);
      afterAll(() => moat?.dispose());

      it('answers a script of open / feed / respond / tick / events / close exactly as V8', () => {
        expect(transcript(moat)).toEqual(expected);
      });

      it('reports a simulator that died instead of hanging', async () => {
        const m = await loadEngine(engine);
        m.dispose();
        expect(() => m.open()).toThrow(/simulator/);
      });
    });
  }
});

function inspect(args: string[], input: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [MOAT, 'inspect', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code) => res({ code, out, err }));
    p.stdin.end(input);
  });
}

describe('moat inspect --engine', () => {
  const lines = [
    { id: 1, raw_b64: b('GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n').toString('base64') },
    { id: 2, raw_b64: b('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n').toString('base64') },
    { id: 3, raw_b64: b('GET /' + 'a'.repeat(40) + ' HTTP/1.1\r\nHost: x\r\n\r\n').toString('base64'), limits: { uri_bytes: 20 } },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n';

  it('prints the same lines on every engine, whole and byte by byte', async () => {
    const runs = await Promise.all(['v8', ...ENGINES].flatMap((e) => [inspect(['--engine', e], lines), inspect(['--engine', e, '--bytewise'], lines)]));
    for (const r of runs) expect(r.code, r.err).toBe(0);
    const ref = runs[0].out;
    expect(ref.split('\n').filter(Boolean)).toHaveLength(3);
    for (const r of runs) expect(r.out).toBe(ref);
  }, 120_000);
});
