// `moat inspect` as a user runs it: a child process, JSON Lines on stdin, one line out per input.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MOAT = fileURLToPath(new URL('../host/moat.mjs', import.meta.url));
const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

function run(args: string[], input: string) {
  const r = spawnSync(process.execPath, [MOAT, 'inspect', ...args], { input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: r.stderr };
}

describe('moat inspect', () => {
  const input = [
    JSON.stringify({ id: 'ok', raw_b64: b64('GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  v \t\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc') }),
    'this is not json',
    JSON.stringify({ id: 7, raw_b64: b64('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), limits: { header_count: 0 } }),
    JSON.stringify({ id: { n: 1 }, raw_b64: b64('GET /' + 'a'.repeat(40) + ' HTTP/1.1\r\nHost: x\r\n\r\n'), limits: { uri_bytes: 20 } }),
    JSON.stringify({ id: 'partial', raw_b64: b64('GET / HTTP/1.1\r\nHo') }),
    JSON.stringify({ id: 'latin1', raw_b64: b64('GET / HTTP/1.1\r\nHost: x\r\nX: caf\xe9\r\n\r\n') }),
  ].join('\n') + '\n';

  for (const bytewise of [false, true]) {
    it(`answers every line in order${bytewise ? ' (--bytewise)' : ''}`, () => {
      const { code, lines } = run(bytewise ? ['--bytewise'] : [], input);
      expect(code).toBe(0);
      expect(lines.map((l) => l.id)).toEqual(['ok', null, 7, { n: 1 }, 'partial', 'latin1']);
      expect(lines[0]).toEqual({
        id: 'ok', error: null, requests: [
          { method: 'GET', target: '/a?b=1', version: '1.1', headers: [['Host', 'x'], ['X-A', 'v']], body_b64: '', trailers: [], keep_alive: true },
          { method: 'POST', target: '/', version: '1.1', headers: [['Host', 'x'], ['Content-Length', '3'], ['Connection', 'close']], body_b64: b64('abc'), trailers: [], keep_alive: false },
        ],
      });
      expect(lines[1].requests).toEqual([]);
      expect(lines[1].error.status).toBeNull();
      expect(lines[1].error.reason).toMatch(/^bad_input/);
      expect(lines[2].error.reason).toMatch(/^bad_input: limits\.header_count/);
      expect(lines[3]).toMatchObject({ requests: [], error: { status: 414, reason: 'uri_too_long' } });
      expect(lines[4]).toMatchObject({ requests: [], error: { status: null, reason: 'incomplete' } });
      expect(lines[5].requests[0].headers[1]).toEqual(['X', 'caf\u00e9']);
    });
  }

  it('refuses an unknown engine with a usage error', () => {
    const { code, stderr } = run(['--engine', 'nope'], '');
    expect(code).toBe(2);
    expect(stderr).toMatch(/engine "nope"/);
  });
});
