// The word-at-a-time scans read past the end of a call's input (into the rest of the window and the
// spare bytes the layout leaves after it: ABI.md), and take a stop found there as the end. So what
// lies after the input must never change a call's answer: every prefix of these requests is fed in
// one call with the window's tail (and the spare bytes) filled with bytes chosen to extend whatever
// token is cut (letters, path bytes, SP, HTAB, obs-text, "%", ":"...) or to complete it (a CRLF, the
// rest of a request line or of a field line), and must answer exactly as it does with a zeroed tail.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMoat, type Moat } from '../host/module.ts';

const SPARE = 8;
const FILLERS = ['a', '/', ' ', '\t', '\xff', '%', ':', '-', '1', '\r\n', ' HTTP/1.1\r\n', ': v\r\n', 'a: b\r\n\r\n'];
const REQUESTS = [
  'GET /products/index.html?lang=en&page=2 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept-Language: en-US,en;q=0.5\r\n\r\n',
  'POST /api/v1/upload HTTP/1.1\r\nHost: 192.168.1.10:8080\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'OPTIONS * HTTP/1.0\r\nHost: [::1]:80\r\nX-Value: \t a\x80\xff b \r\nContent-Length: 0\r\n\r\n',
  'GET /a%41b/%7e?x=%2F HTTP/1.1\r\nhost: a-b.example\r\nContent-Type: multipart/form-data; b=1\r\nExpect: 100-continue\r\n\r\n',
];

describe('bytes after the input', () => {
  let m: Moat;
  beforeAll(async () => { m = await loadMoat(); });

  // One call on a fresh slot: the result record and every span, as plain data.
  function answer(input: Buffer, filler: string): unknown {
    const tail = m.bytes.subarray(m.inputPtr + input.length, m.inputPtr + m.inputCap + SPARE);
    const pattern = Buffer.from(filler, 'latin1');
    for (let i = 0; i < tail.length; i++) tail[i] = pattern[i % pattern.length];
    m.write(input);
    const slot = m.open(0, false, 0);
    const r = m.feed(slot, 0, input.length, 0);
    const spans = Array.from({ length: r.spans }, (_, i) => m.span(i));
    m.close(slot);
    return { r, spans };
  }

  it.each(REQUESTS.map((r, i) => [i, r] as const))('request %i: every prefix answers alike whatever follows it', (_, text) => {
    const raw = Buffer.from(text, 'latin1');
    let compared = 0;
    for (let k = 1; k <= raw.length; k++) {
      const input = raw.subarray(0, k);
      const want = answer(input, '\0');
      for (const f of FILLERS) {
        expect(answer(input, f), `prefix ${JSON.stringify(input.toString('latin1'))}, tail ${JSON.stringify(f)}`).toEqual(want);
        compared++;
      }
    }
    expect(compared).toBe(raw.length * FILLERS.length);
  });

  it('the spare bytes lie inside the high-water mark', () => {
    expect(m.inputPtr + m.inputCap + SPARE).toBeLessThanOrEqual(m.highWater);
  });
});
