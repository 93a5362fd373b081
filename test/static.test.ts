// host/static.ts called directly with hand-built requests, on a real temp document root with a
// sentinel file OUTSIDE it: traversal attempts are refused and never return the sentinel's bytes.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, statSync, truncateSync, utimesSync, readdirSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { staticHandler, parsePath, etagMatches } from '../host/static.ts';
import { contentType } from '../host/mime.ts';
import type { AppReply, AppRequest, Handler } from '../host/types.ts';

/** An AppRequest from a request-target as sent (origin or absolute form), like the host builds it. */
function request(target: string, opts: { method?: string; headers?: [string, string][]; path?: string } = {}): AppRequest {
  const headers = opts.headers ?? [];
  let pathAndQuery = target;
  if (!target.startsWith('/')) {                                   // absolute form: drop scheme://authority
    const auth = target.indexOf('//');
    const slash = target.indexOf('/', auth + 2);
    pathAndQuery = slash < 0 ? '/' : target.slice(slash);
  }
  const q = pathAndQuery.indexOf('?');
  return {
    method: opts.method ?? 'GET', target,
    path: opts.path ?? (q < 0 ? pathAndQuery : pathAndQuery.slice(0, q)), query: q < 0 ? '' : pathAndQuery.slice(q + 1),
    version: '1.1', headers, trailers: [], client: { address: '127.0.0.1', tls: false }, caller: null, audit: false,
    header: (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    body: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => ({ value: undefined, done: true as const }) }) }),
    bytes: async () => Buffer.alloc(0),
    json: async () => null,
  };
}

async function bodyBytes(r: AppReply): Promise<Buffer> {
  const b = r.body;
  if (b === undefined) return Buffer.alloc(0);
  if (typeof b === 'string') return Buffer.from(b);
  if (Buffer.isBuffer(b)) return b;
  const parts: Buffer[] = [];
  for await (const c of b.stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
const field = (r: AppReply, name: string) => r.fields?.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
const lengthOf = (r: AppReply) => (Buffer.isBuffer(r.body) ? r.body.length : r.body && typeof r.body === 'object' && 'stream' in r.body ? r.body.length : undefined);

const SENTINEL = 'SENTINEL-' + randomBytes(12).toString('hex');
let base: string, root: string, h: Handler;
const files: Record<string, string | Buffer> = {
  'index.html': '<h1>root index</h1>',
  'style.css': 'body { color: red }',
  'app.js': 'export const a = 1;',
  'mod.mjs': 'export default 2;',
  'data.json': '{"a":1}',
  'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'img.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'photo.JPG': Buffer.from([0xff, 0xd8, 0xff]),
  'mod.wasm': Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  'notes.txt': 'plain words',
  // Above the handler's 64 KiB in-memory limit: always streamed from an open file.
  'big.txt': 'x'.repeat(100_000),
  'big2.txt': 'y'.repeat(70_000),
  'blob.bin': Buffer.from([1, 2, 3]),
  'README': 'no extension',
  'empty.txt': '',
  'sub/index.html': '<h1>sub index</h1>',
  'sub/page.html': '<p>page</p>',
  'emptydir/.keep': '',
  '.hidden': 'hidden file',
  '.git/config': '[core]',
  '.well-known/security.txt': 'Contact: mailto:x@example.com',
  'caf\u00e9.txt': 'utf-8 name',
  'a b.txt': 'space name',
};

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'moat-static-'));
  root = join(base, 'www');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  writeFileSync(join(base, 'x'), SENTINEL);                        // outside the root
  writeFileSync(join(base, 'secret.txt'), SENTINEL);
  mkdirSync(join(base, 'etc'));
  writeFileSync(join(base, 'etc', 'passwd'), SENTINEL);
  symlinkSync('..', join(root, 'escape'));                         // directory symlink out of the root
  symlinkSync(join(base, 'secret.txt'), join(root, 'leak.txt'));   // file symlink out of the root
  symlinkSync('../secret.txt', join(root, 'sub', 'leak.html'));
  symlinkSync('style.css', join(root, 'inlink.css'));              // symlink that stays inside: served
  const fifo = spawnSync('mkfifo', [join(root, 'pipe.txt')]);
  if (fifo.status !== 0) throw new Error('mkfifo failed: ' + fifo.stderr);
  h = staticHandler({ root, index: 'index.html' });
});
afterAll(() => { rmSync(base, { recursive: true, force: true }); });

// Like the server, end every body stream a test leaves unread (each holds an open file).
const streams: Readable[] = [];
afterEach(() => { for (const s of streams.splice(0)) s.destroy(); });
const get = async (target: string, opts: Parameters<typeof request>[1] = {}) => {
  const r = await h(request(target, opts));
  if (r.body && typeof r.body === 'object' && 'stream' in r.body) streams.push(r.body.stream);
  return r;
};

describe('traversal attempts', () => {
  // [target, expected status]: 400 = malformed path, 404 = well-formed but nothing to serve here.
  const attempts: [string, 400 | 404][] = [
    ['/../x', 400],
    ['/..', 400],
    ['/../secret.txt', 400],
    ['/%2e%2e/x', 400],
    ['/%2E%2e%2fx', 400],
    ['/..%2fx', 400],
    ['/..%2Fsecret.txt', 400],
    ['/%252e%252e/x', 404],                                        // decoded once: the literal name "%2e%2e"
    ['/%252e%252e%252fx', 404],
    ['/..\\x', 400],
    ['/%5c..%5cx', 400],
    ['/%2e%2e%5cx', 400],
    ['/%c0%ae%c0%ae/x', 400],                                      // overlong "."
    ['/..%c0%afx', 400],                                           // overlong "/"
    ['/%e0%80%ae%e0%80%ae/x', 400],                                // 3-byte overlong "."
    ['/%ed%a0%80', 400],                                           // UTF-16 surrogate
    ['/%ff%fe', 400],                                              // not UTF-8
    ['/x%00.html', 400],
    ['/secret.txt%00', 400],
    ['/index.html%0a', 400],
    ['/./x', 400],
    ['/%2e/x', 400],
    ['/.%2e/x', 400],
    ['/%2e./x', 400],
    ['//etc/passwd', 400],
    ['/%2fetc%2fpasswd', 400],
    ['/sub/../../x', 400],
    ['/sub/%2e%2e/%2e%2e/x', 400],
    ['/sub/..', 400],
    ['/sub/.', 400],
    ['/sub//../x', 400],
    ['/%u002e%u002e/x', 400],                                      // not a percent-escape
    ['/%2', 400],
    ['/%zz', 400],
    ['/C:%5cWindows', 400],
    ['/..;/x', 404],                                               // "..;" is a (hidden) name, not a dot-segment
    ['/.../x', 404],
    ['/%ef%bb%bf..', 404],                                         // BOM + ".." is a name, and none such exists
    ['/escape/x', 404],                                            // symlink out of the root
    ['/escape/secret.txt', 404],
    ['/escape', 404],
    ['/escape/', 404],
    ['/leak.txt', 404],
    ['/sub/leak.html', 404],
    ['http://localhost/../x', 400],                                // absolute form
    ['http://localhost/%2e%2e/secret.txt', 400],
    ['http://localhost//etc/passwd', 400],
    ['http://localhost/escape/x', 404],
  ];

  it('has a table of at least 25 attempts', () => { expect(attempts.length).toBeGreaterThanOrEqual(25); });

  for (const [target, status] of attempts) {
    it(`${JSON.stringify(target)} → ${status}`, async () => {
      for (const method of ['GET', 'HEAD']) {
        const r = await get(target, { method });
        expect(r.status).toBe(status);
        expect(field(r, 'Content-Type')).toBe('application/json');
        const body = await bodyBytes(r);
        expect(body.includes(SENTINEL)).toBe(false);
        expect(JSON.parse(body.toString())).toEqual({ error: status, reason: status === 400 ? 'bad_path' : 'not_found' });
      }
    });
  }

  it('refuses a path that does not start with "/"', async () => {
    for (const path of ['../x', 'x', '', '*', '%2e%2e/x']) expect((await get('/', { path })).status).toBe(400);
  });

  it('serves the sentinel through the same code when it is inside the root (the checks above are not vacuous)', async () => {
    const h2 = staticHandler({ root: base, index: 'index.html' });
    const r = await h2(request('/secret.txt'));
    expect(r.status).toBe(200);
    expect((await bodyBytes(r)).toString()).toBe(SENTINEL);
    expect((await bodyBytes(await h2(request('/www/escape/x')))).toString()).toBe(SENTINEL);   // inside base: fine
    expect((await bodyBytes(await get('/escape/www/index.html'))).toString()).toBe(files['index.html']);  // out and back in: the real path is inside
  });

  it('decodes exactly once: "%252e%252e" names a literal "%2e%2e" directory', async () => {
    const r2 = mkdtempSync(join(tmpdir(), 'moat-static-lit-'));
    try {
      mkdirSync(join(r2, '%2e%2e'));
      writeFileSync(join(r2, '%2e%2e', 'x'), 'literal');
      writeFileSync(join(r2, 'x'), 'wrong');
      const h2 = staticHandler({ root: r2, index: 'index.html' });
      const r = await h2(request('/%252e%252e/x'));
      expect(r.status).toBe(200);
      expect((await bodyBytes(r)).toString()).toBe('literal');
    } finally { rmSync(r2, { recursive: true, force: true }); }
  });
});

describe('parsePath', () => {
  it('splits, decodes once and keeps the trailing slash', () => {
    expect(parsePath('/')).toEqual({ ok: true, segments: [], trailingSlash: true });
    expect(parsePath('/a/b%20c/')).toEqual({ ok: true, segments: ['a', 'b c'], trailingSlash: true });
    expect(parsePath('/caf%C3%A9.txt')).toEqual({ ok: true, segments: ['caf\u00e9.txt'], trailingSlash: false });
    expect(parsePath('/.well-known/x')).toEqual({ ok: true, segments: ['.well-known', 'x'], trailingSlash: false });
    expect(parsePath('/a/%2e%2e')).toEqual({ ok: false, status: 400 });
    expect(parsePath('/a/.git/config')).toEqual({ ok: false, status: 404 });
    for (const raw of ['/a b.txt', '/caf\u00e9.txt', '/a\tb', '/x\u0000']) expect(parsePath(raw), raw).toEqual({ ok: false, status: 400 });  // raw bytes outside the target grammar
  });
});

describe('serving files', () => {
  it('serves a file with Content-Type, Content-Length, ETag, Last-Modified and Cache-Control', async () => {
    const r = await get('/style.css?v=3');
    expect(r.status).toBe(200);
    expect((await bodyBytes(r)).toString()).toBe(files['style.css']);
    const st = statSync(join(root, 'style.css'));
    expect(lengthOf(r)).toBe(st.size);
    expect(field(r, 'Content-Type')).toBe('text/css; charset=utf-8');
    expect(field(r, 'ETag')).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(field(r, 'Last-Modified')).toBe(new Date(Math.floor(st.mtimeMs)).toUTCString());
    expect(field(r, 'Last-Modified')).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(field(r, 'Cache-Control')).toBe('no-cache');
  });

  it('sets Content-Type from the extension', async () => {
    const want: Record<string, string> = {
      '/index.html': 'text/html; charset=utf-8', '/app.js': 'text/javascript; charset=utf-8', '/mod.mjs': 'text/javascript; charset=utf-8',
      '/data.json': 'application/json', '/logo.svg': 'image/svg+xml', '/img.png': 'image/png', '/photo.JPG': 'image/jpeg',
      '/mod.wasm': 'application/wasm', '/notes.txt': 'text/plain; charset=utf-8', '/blob.bin': 'application/octet-stream',
      '/README': 'application/octet-stream', '/inlink.css': 'text/css; charset=utf-8',
    };
    for (const [target, type] of Object.entries(want)) {
      const r = await get(target);
      expect(r.status, target).toBe(200);
      expect(field(r, 'Content-Type'), target).toBe(type);
    }
    expect(contentType('a.jpeg')).toBe('image/jpeg');
    expect(contentType('a.gif')).toBe('image/gif');
    expect(contentType('a.ico')).toBe('image/x-icon');
    expect(contentType('a.woff2')).toBe('font/woff2');
    expect(contentType('a.pdf')).toBe('application/pdf');
    expect(contentType('a.exe')).toBe('application/octet-stream');
    expect(contentType('toString')).toBe('application/octet-stream');
  });

  it('serves exact bytes of binary files and percent-encoded names', async () => {
    expect(await bodyBytes(await get('/img.png'))).toEqual(files['img.png']);
    expect((await bodyBytes(await get('/caf%C3%A9.txt'))).toString()).toBe('utf-8 name');
    expect((await bodyBytes(await get('/a%20b.txt'))).toString()).toBe('space name');
    expect((await bodyBytes(await get('/inlink.css'))).toString()).toBe(files['style.css']);
  });

  it('serves an empty file', async () => {
    const r = await get('/empty.txt');
    expect(r.status).toBe(200);
    expect((await bodyBytes(r)).length).toBe(0);
  });

  it('serves index.html for a directory, with or without the trailing slash', async () => {
    for (const [target, text] of [['/', 'root index'], ['/sub/', 'sub index'], ['/sub', 'sub index']]) {
      const r = await get(target);
      expect(r.status, target).toBe(200);
      expect(field(r, 'Content-Type')).toBe('text/html; charset=utf-8');
      expect((await bodyBytes(r)).toString()).toContain(text);
    }
  });

  it('answers 404 for missing files, directories without index, trailing slash on a file, hidden names and FIFOs', async () => {
    for (const target of ['/missing.html', '/sub/missing', '/emptydir/', '/emptydir', '/style.css/', '/sub/page.html/',
      '/.hidden', '/.git/config', '/%2egit/config', '/emptydir/.keep', '/pipe.txt', '/style.css/x']) {
      const r = await get(target);
      expect(r.status, target).toBe(404);
      expect(JSON.parse((await bodyBytes(r)).toString())).toEqual({ error: 404, reason: 'not_found' });
    }
  });

  it('serves .well-known', async () => {
    const r = await get('/.well-known/security.txt');
    expect(r.status).toBe(200);
    expect((await bodyBytes(r)).toString()).toBe(files['.well-known/security.txt']);
  });

  it('answers 404 when the root does not exist', async () => {
    const r = await staticHandler({ root: join(base, 'nope'), index: 'index.html' })(request('/'));
    expect(r.status).toBe(404);
  });

  it('answers HEAD with the same fields and length, and an empty stream', async () => {
    const g = await get('/notes.txt');
    const r = await get('/notes.txt', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.fields).toEqual(g.fields);
    expect(lengthOf(r)).toBe(files['notes.txt'].length);
    expect((await bodyBytes(r)).length).toBe(0);
    await bodyBytes(g);
  });

  it('answers 405 with Allow for other methods', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await get('/style.css', { method });
      expect(r.status).toBe(405);
      expect(field(r, 'Allow')).toBe('GET, HEAD');
    }
  });

  it('refuses a bad index option at creation', () => {
    for (const index of ['', '.', '..', '../x', 'a/b', 'a\\b']) expect(() => staticHandler({ root, index })).toThrow(/index/);
  });
});

describe('conditional requests', () => {
  it('answers 304 without a body for a matching If-None-Match', async () => {
    const etag = field(await get('/notes.txt'), 'ETag')!;
    for (const inm of [etag, `"nope", ${etag}`, `W/"nope",${etag}  `, '*', etag.replace(/^W\//, '')]) {
      const r = await get('/notes.txt', { headers: [['If-None-Match', inm]] });
      expect(r.status, inm).toBe(304);
      expect(r.body).toBeUndefined();
      expect(field(r, 'ETag')).toBe(etag);
      expect(field(r, 'Cache-Control')).toBe('no-cache');
      expect(field(r, 'Last-Modified')).toBeDefined();
    }
    const r = await get('/notes.txt', { method: 'HEAD', headers: [['if-none-match', etag]] });
    expect(r.status).toBe(304);
  });

  it('combines several If-None-Match fields', async () => {
    const etag = field(await get('/notes.txt'), 'ETag')!;
    const r = await get('/notes.txt', { headers: [['If-None-Match', '"a"'], ['If-None-Match', etag]] });
    expect(r.status).toBe(304);
  });

  it('answers 200 for a non-matching or malformed If-None-Match', async () => {
    const etag = field(await get('/notes.txt'), 'ETag')!;
    for (const inm of ['"nope"', 'W/"nope", "other"', etag.replace(/"$/, ''), `${etag} junk`, 'nope', '']) {
      const r = await get('/notes.txt', { headers: [['If-None-Match', inm]] });
      expect(r.status, inm).toBe(200);
      await bodyBytes(r);
    }
  });

  it('changes the ETag when the file changes', async () => {
    const p = join(root, 'changing.txt');
    writeFileSync(p, 'one');
    utimesSync(p, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    const first = await get('/changing.txt');
    const etag = field(first, 'ETag')!;
    expect(field(first, 'Last-Modified')).toBe('Wed, 01 Jan 2020 00:00:00 GMT');
    await bodyBytes(first);
    writeFileSync(p, 'two');                                       // same size, new mtime
    utimesSync(p, new Date('2020-01-02T00:00:00Z'), new Date('2020-01-02T00:00:00Z'));
    const r = await get('/changing.txt', { headers: [['If-None-Match', etag]] });
    expect(r.status).toBe(200);
    expect(field(r, 'ETag')).not.toBe(etag);
    expect((await bodyBytes(r)).toString()).toBe('two');
  });

  it('honours If-Modified-Since only without If-None-Match', async () => {
    const p = join(root, 'dated.txt');
    writeFileSync(p, 'dated');
    utimesSync(p, new Date('2021-06-01T12:00:00.500Z'), new Date('2021-06-01T12:00:00.500Z'));
    const lm = 'Tue, 01 Jun 2021 12:00:00 GMT';
    expect((await get('/dated.txt', { headers: [['If-Modified-Since', lm]] })).status).toBe(304);
    expect((await get('/dated.txt', { headers: [['If-Modified-Since', 'Tue, 01 Jun 2021 11:59:59 GMT']] })).status).toBe(200);
    expect((await get('/dated.txt', { headers: [['If-Modified-Since', 'garbage']] })).status).toBe(200);
    expect((await get('/dated.txt', { headers: [['If-None-Match', '"x"'], ['If-Modified-Since', lm]] })).status).toBe(200);
  });

  it('etagMatches implements weak comparison over a list', () => {
    expect(etagMatches('W/"a"', 'W/"a"')).toBe(true);
    expect(etagMatches('"a"', 'W/"a"')).toBe(true);
    expect(etagMatches(' "b" , W/"a" ', 'W/"a"')).toBe(true);
    expect(etagMatches('"a,b", "c"', 'W/"a,b"')).toBe(true);
    expect(etagMatches('"b"', 'W/"a"')).toBe(false);
    expect(etagMatches('a', 'W/"a"')).toBe(false);
    expect(etagMatches('"a" "b"', 'W/"a"')).toBe(false);
    expect(etagMatches(', ,', 'W/"a"')).toBe(false);
  });
});

describe('file bodies', () => {
  /** Open descriptors on files under the temp dir (Linux /proc). */
  const openFds = () => readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`).startsWith(base); } catch { return false; }
  }).length;

  it('fails the stream instead of sending a short body when the file shrinks', async () => {
    const p = join(root, 'shrinks.bin');
    writeFileSync(p, Buffer.alloc(200_000, 7));
    const r = await get('/shrinks.bin');
    expect(lengthOf(r)).toBe(200_000);
    truncateSync(p, 1000);
    await expect(bodyBytes(r)).rejects.toThrow(/shrank/);
  });

  it('sends at most `length` bytes when the file grows', async () => {
    const p = join(root, 'grows.txt');
    writeFileSync(p, 'abc');
    const r = await get('/grows.txt');
    writeFileSync(p, 'abcdef');
    expect((await bodyBytes(r)).toString()).toBe('abc');
  });

  it('serves a changed small file at once, not a cached copy (size or mtime differ)', async () => {
    const p = join(root, 'changes.txt');
    writeFileSync(p, 'abc');
    expect((await bodyBytes(await get('/changes.txt'))).toString()).toBe('abc');
    expect((await bodyBytes(await get('/changes.txt'))).toString()).toBe('abc');     // a cache hit
    writeFileSync(p, 'abcd');
    expect((await bodyBytes(await get('/changes.txt'))).toString()).toBe('abcd');
    writeFileSync(p, 'wxyz');                                                          // same size
    const later = new Date(Date.now() + 5000);
    utimesSync(p, later, later);
    expect((await bodyBytes(await get('/changes.txt'))).toString()).toBe('wxyz');
    rmSync(p);
    expect((await get('/changes.txt')).status).toBe(404);
  });

  it('releases file descriptors: after reading, after destroy before reading, for HEAD and 304', async () => {
    const held: Readable[] = [];                                   // keep streams reachable: no GC closing for us
    await new Promise((res) => setTimeout(res, 20));               // earlier tests' streams finish closing
    const etag = field(await get('/big.txt', { method: 'HEAD' }), 'ETag')!;
    expect(openFds()).toBe(0);
    const open = await get('/big.txt');
    expect(openFds()).toBe(1);                                     // the count sees an unread body's file
    await bodyBytes(open);
    for (let i = 0; i < 10; i++) {
      const read = await get('/big.txt');
      held.push((read.body as { stream: Readable }).stream);
      await bodyBytes(read);
      const unread = await get('/big2.txt');
      held.push((unread.body as { stream: Readable }).stream);
      (unread.body as { stream: Readable }).stream.destroy();
      held.push(...[await get('/big.txt', { method: 'HEAD' }), await get('/big.txt', { headers: [['If-None-Match', etag]] })]
        .map((r) => (r.body as { stream: Readable } | undefined)?.stream).filter((s): s is Readable => !!s));
    }
    await new Promise((res) => setTimeout(res, 50));
    expect(openFds()).toBe(0);
    expect(held.length).toBeGreaterThan(20);
  });
});
