// The static document root: GET/HEAD of files under `root`, nothing else.
//
// Path handling (req.path is still percent-encoded; the module already bounded and grammar-checked
// the target). The path is split on "/" FIRST and each segment decoded once, strictly:
//   400 bad_path — not starting with "/"; an empty segment ("//x", "/a//b"); a "." or ".."
//       segment before or after decoding ("/./x", "/%2e%2E/x"); a literal or encoded backslash
//       or an encoded slash ("%2f", "%5c", "\"); a bad escape ("%zz", "%4"); bytes that are not
//       valid UTF-8 (this includes overlong forms such as %c0%ae, and surrogates); a NUL or other
//       control character after decoding (%00, %0a, %7f, C1 controls). Decoding happens exactly
//       once: "%252e%252e" is the literal name "%2e%2e", never "..".
//   404 not_found — a well-formed path with nothing to serve: missing; a hidden name (a segment
//       starting with ".", except ".well-known"); a real path (fs.realpath, symlinks resolved)
//       outside the real root — a symlink escape; a directory without `index` (no listings); a
//       trailing "/" on a file; anything but a regular file (FIFO, socket, device).
// The root's real path is resolved on every request that is not a cache hit (a cached file is
// kept at most CACHE_TTL_MS), so swapping a "current" symlink works.
// Directories are served as their `index` file, with or without a trailing "/" (no redirect).
// Not covered: someone who can write inside the root racing a symlink in between the realpath
// check and the open (the final component is opened with O_NOFOLLOW).
//
// Files up to 64 KiB are read whole and answered from a small cache (see FileCache); larger ones
// are streamed. Replies: Content-Type (host/mime.ts), a weak ETag from size and mtime (ns), Last-Modified,
// Cache-Control: no-cache. If-None-Match ("*", lists, weak comparison) → 304 without a body;
// without If-None-Match, If-Modified-Since is honoured. The body is `{ stream, length }` read from
// the opened file (a file that shrinks mid-send fails the stream, so the server drops the
// connection instead of sending a short body). For HEAD the reply carries the same fields and
// `length` but an empty stream, and no file is kept open; the server drops HEAD bodies anyway.
// Only GET and HEAD: anything else → 405 with `Allow: GET, HEAD` (the router usually answers first).
import { constants as fsc, statSync } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join, relative, isAbsolute, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { AppReply, Handler } from './types.ts';
import { contentType } from './mime.ts';
import { errorReply } from './routes.ts';

export interface StaticOptions {
  /** Document root (need not exist yet: a missing root answers 404). */
  root: string;
  /** File name served for a directory, e.g. "index.html". */
  index: string;
}

export type ParsedPath =
  | { ok: true; segments: string[]; trailingSlash: boolean }
  | { ok: false; status: 400 | 404 };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });   // ignoreBOM: keep a BOM, do not strip it
const HEX2 = /^[0-9A-Fa-f]{2}$/;

/** One segment decoded once, or null when it must be refused (400). */
function decodeSegment(raw: string): string | null {
  if (raw === '.' || raw === '..' || raw.includes('\\')) return null;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX2.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x21 || c > 0x7e) {
      return null;                                   // the request-target grammar is visible ASCII only
    } else bytes.push(c);
  }
  let s: string;
  try { s = UTF8.decode(Uint8Array.from(bytes)); } catch { return null; }
  if (s === '.' || s === '..') return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2f || c === 0x5c) return null;
  }
  return s;
}

/** Splits and strictly decodes a request path (see the header comment for what is refused). */
export function parsePath(path: string): ParsedPath {
  if (!path.startsWith('/')) return { ok: false, status: 400 };
  const parts = path.slice(1).split('/');
  const trailingSlash = parts[parts.length - 1] === '';
  if (trailingSlash) parts.pop();
  const segments: string[] = [];
  let hidden = false;
  for (const raw of parts) {
    if (raw === '') return { ok: false, status: 400 };
    const s = decodeSegment(raw);
    if (s === null) return { ok: false, status: 400 };
    if (s.startsWith('.') && s !== '.well-known') hidden = true;
    segments.push(s);
  }
  if (hidden) return { ok: false, status: 404 };
  return { ok: true, segments, trailingSlash };
}

function inside(realRoot: string, real: string): boolean {
  const rel = relative(realRoot, real);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel));
}

/** Real path and stat of `candidate` if it exists and stays inside the real root. */
async function resolveInside(realRoot: string, candidate: string): Promise<{ real: string; isDir: boolean; isFile: boolean } | null> {
  try {
    const real = await realpath(candidate);
    if (!inside(realRoot, real)) return null;
    const st = await stat(real);
    return { real, isDir: st.isDirectory(), isFile: st.isFile() };
  } catch {
    return null;                                     // ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG …
  }
}

/** Parses an If-None-Match value and tests it against `etag` (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(header: string, etag: string): boolean {
  const h = header.trim();
  if (h === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  const re = /[ \t]*(?:(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*"))?[ \t]*(?:,|$)/y;
  let matched = false, any = false;
  while (re.lastIndex < h.length) {
    const m = re.exec(h);
    if (!m || m[0] === '') return false;             // malformed: ignore the whole field
    if (m[1] !== undefined) { any = true; if (m[1] === opaque) matched = true; }
  }
  return any && matched;
}

/** A file's bytes [0, length): fails (rather than ending short) if the file shrinks; closes the handle. */
class FileBody extends Readable {
  private pos = 0;
  constructor(private readonly fh: FileHandle, private readonly length: number) { super({ highWaterMark: 64 * 1024 }); }

  override _read(size: number): void {
    const n = Math.min(size, this.length - this.pos);
    if (n <= 0) { this.push(null); return; }
    const buf = Buffer.allocUnsafe(n);
    this.fh.read(buf, 0, n, this.pos).then(({ bytesRead }) => {
      if (this.destroyed) return;
      if (bytesRead === 0) { this.destroy(new Error(`file shrank while being sent (${this.pos} of ${this.length} bytes)`)); return; }
      this.pos += bytesRead;
      this.push(bytesRead < n ? buf.subarray(0, bytesRead) : buf);
    }, (err: Error) => this.destroy(err));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.fh.close().then(() => cb(err), (e: Error) => cb(err ?? e));
  }
}

const notFound = (): AppReply => errorReply(404, 'not_found');

// Small files are kept in memory for a moment, so a busy device does not pay realpath + open +
// fstat + a stream (several thread-pool trips) per request. A hit is served only while the entry is
// younger than CACHE_TTL_MS and a stat of the resolved file shows the same size and mtime; the cache
// holds at most CACHE_ENTRIES files and CACHE_BYTES bytes (oldest out first).
//
// That stat need not be a fresh one per request: a stat taken after the request reached the host
// (`receivedBy`, see Received) already shows every change made before the client sent it, so a
// later request of the same batch of socket reads reuses it (one stat per event-loop turn under
// load instead of one per request). A request without `receivedBy` (built by hand, as in tests)
// always gets a fresh stat: a change is seen at once either way.
const CACHE_FILE_MAX = 64 * 1024;
const CACHE_BYTES = 4 * 1024 * 1024;
const CACHE_ENTRIES = 256;
const CACHE_TTL_MS = 1000;

/**
 * Set by the server on the requests it builds (host/app-request.ts): a performance.now() time by
 * which the request's first byte had reached the host. Anything observed at or after it reflects
 * every change the client made before sending the request.
 */
export interface Received { receivedBy?: number }

interface CachedFile {
  real: string; size: bigint; mtimeNs: bigint; etag: string; mtimeMs: number; type: string; body: Buffer;
  /** Date.now() when filled (the TTL). */
  checked: number;
  /** performance.now() just before the last stat (or open) that found the file unchanged. */
  statAt: number;
  /** The reply fields, built once: frozen, as every hit shares them. */
  ok: readonly [string, string][]; notModified: readonly [string, string][];
}

class FileCache {
  private readonly map = new Map<string, CachedFile>();
  private bytes = 0;

  get(path: string, receivedBy: number | undefined): CachedFile | undefined {
    const e = this.map.get(path);
    if (!e) return undefined;
    if (Date.now() - e.checked < CACHE_TTL_MS) {
      if (receivedBy !== undefined && e.statAt >= receivedBy) return e;
      const at = performance.now();
      const st = statSync(e.real, { bigint: true, throwIfNoEntry: false });
      if (st && st.isFile() && st.size === e.size && st.mtimeNs === e.mtimeNs) { e.statAt = at; return e; }
    }
    this.delete(path);
    return undefined;
  }

  put(path: string, e: CachedFile): void {
    this.delete(path);
    if (e.body.length > CACHE_FILE_MAX) return;
    this.map.set(path, e);
    this.bytes += e.body.length;
    for (const [k] of this.map) {
      if (this.map.size <= CACHE_ENTRIES && this.bytes <= CACHE_BYTES) break;
      this.delete(k);
    }
  }

  private delete(path: string): void {
    const e = this.map.get(path);
    if (e) { this.bytes -= e.body.length; this.map.delete(path); }
  }
}

/** Whether the validators make this a 304: If-None-Match (all its field lines) wins over If-Modified-Since. */
function conditional(req: Parameters<Handler>[0], etag: string, mtimeMs: number): boolean {
  // One pass without allocating: most requests carry neither field.
  let inm: string | undefined, ims: string | undefined;
  for (const [k, v] of req.headers) {
    if (k.length === 13 && k.toLowerCase() === 'if-none-match') inm = inm === undefined ? v : `${inm}, ${v}`;
    else if (k.length === 17 && ims === undefined && k.toLowerCase() === 'if-modified-since') ims = v;
  }
  if (inm !== undefined) return etagMatches(inm, etag);
  const t = ims === undefined ? NaN : Date.parse(ims);
  return !Number.isNaN(t) && Math.floor(mtimeMs / 1000) * 1000 <= t;
}

const freeze = (fields: [string, string][]) => Object.freeze(fields.map((f) => Object.freeze(f))) as readonly [string, string][];

function validators(etag: string, lastModified: string): [string, string][] {
  return [['ETag', etag], ['Last-Modified', lastModified], ['Cache-Control', 'no-cache']];
}

function cachedReply(req: Parameters<Handler>[0], e: CachedFile): AppReply {
  if (conditional(req, e.etag, e.mtimeMs)) return { status: 304, fields: e.notModified as [string, string][] };
  const fields = e.ok as [string, string][];
  if (req.method === 'HEAD') return { status: 200, fields, body: { stream: Readable.from([]), length: e.body.length } };
  return { status: 200, fields, body: e.body };
}

export function staticHandler(opts: StaticOptions): Handler {
  const { root, index } = opts;
  if (typeof root !== 'string' || root === '') throw new Error('static: root must be a directory path');
  if (typeof index !== 'string' || index === '' || index === '.' || index === '..' || /[/\\\0]/.test(index)) {
    throw new Error(`static: index must be a plain file name, not "${index}"`);
  }
  const cache = new FileCache();

  return async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return errorReply(405, 'method_not_allowed', [['Allow', 'GET, HEAD']]);
    // Only paths parsePath accepted enter the cache, so a hit needs no second parse.
    const hit = cache.get(req.path, (req as Received).receivedBy);
    if (hit) return cachedReply(req, hit);
    const parsed = parsePath(req.path);
    if (!parsed.ok) return parsed.status === 400 ? errorReply(400, 'bad_path') : notFound();
    const openedAt = performance.now();

    let realRoot: string;
    try { realRoot = await realpath(root); } catch { return notFound(); }
    let target = await resolveInside(realRoot, join(realRoot, ...parsed.segments));
    if (!target) return notFound();
    if (target.isDir) {
      target = await resolveInside(realRoot, join(target.real, index));
      if (!target) return notFound();
    } else if (parsed.trailingSlash) return notFound();
    if (!target.isFile) return notFound();

    let fh: FileHandle;
    try {
      // O_NONBLOCK: a FIFO swapped in after the stat must not block a thread on open.
      fh = await open(target.real, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch {
      return notFound();
    }
    let keep = false;
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) return notFound();
      const size = Number(st.size);
      const etag = `W/"${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`;
      const mtimeMs = Number(st.mtimeNs / 1_000_000n);
      const lastModified = new Date(mtimeMs).toUTCString();
      const type = contentType(target.real);
      if (size <= CACHE_FILE_MAX) {
        const body = await fh.readFile();
        if (body.length === size) {
          const common = validators(etag, lastModified);
          const entry: CachedFile = {
            real: target.real, size: st.size, mtimeNs: st.mtimeNs, etag, mtimeMs, type, body, checked: Date.now(), statAt: openedAt,
            ok: freeze([['Content-Type', type], ...common]), notModified: freeze(common),
          };
          cache.put(req.path, entry);
          return cachedReply(req, entry);
        }
      }
      const common = validators(etag, lastModified);
      if (conditional(req, etag, mtimeMs)) return { status: 304, fields: common };
      const fields: [string, string][] = [['Content-Type', type], ...common];
      if (req.method === 'HEAD') return { status: 200, fields, body: { stream: Readable.from([]), length: size } };
      if (size === 0) return { status: 200, fields, body: Buffer.alloc(0) };
      keep = true;
      return { status: 200, fields, body: { stream: new FileBody(fh, size), length: size } };
    } finally {
      if (!keep) await fh.close().catch(() => {});
    }
  };
}
