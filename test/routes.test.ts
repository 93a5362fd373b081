// host/routes.ts: longest prefix, 404, 405 + Allow, HEAD wherever GET, creation-time checks.
import { describe, it, expect } from 'vitest';
import { createRouter, errorReply, json, canonicalPath } from '../host/routes.ts';
import type { AppReply, AppRequest, Handler, RouteSpec } from '../host/types.ts';

function request(method: string, target: string, headers: [string, string][] = []): AppRequest {
  const q = target.indexOf('?');
  return {
    method, target, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1),
    version: '1.1', headers, trailers: [], client: { address: '127.0.0.1', tls: false }, caller: null, audit: false,
    header: (n) => headers.find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1],
    body: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => ({ value: undefined, done: true as const }) }) }),
    bytes: async () => Buffer.alloc(0),
    json: async () => null,
  };
}

const named = (name: string): Handler => (req) => ({ status: 200, body: `${name} ${req.method} ${req.path}` });
const handlers = { root: named('root'), api: named('api'), apiv2: named('apiv2'), status: named('status'), any: named('any') };
const route = (match: string, handler: string, methods: string[] | null = null): RouteSpec => ({ match, handler, methods, role: null });

async function call(h: Handler, method: string, target: string): Promise<AppReply> { return await h(request(method, target)); }
const field = (r: AppReply, name: string) => r.fields?.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

describe('createRouter', () => {
  const router = createRouter([
    route('/', 'root', ['GET']),
    route('/api/v2/', 'apiv2', ['GET', 'POST']),
    route('/api', 'api', null),
    route('/status', 'status', ['GET', 'HEAD', 'OPTIONS']),
  ], handlers);

  it('picks the longest matching prefix, whatever the config order', async () => {
    expect((await call(router, 'GET', '/api/v2/items')).body).toBe('apiv2 GET /api/v2/items');
    expect((await call(router, 'GET', '/api/v1/items')).body).toBe('api GET /api/v1/items');
    expect((await call(router, 'GET', '/api/v2')).body).toBe('api GET /api/v2');          // "/api/v2/" needs the slash
    expect((await call(router, 'GET', '/index.html')).body).toBe('root GET /index.html');
    expect((await call(router, 'GET', '/status?x=1')).body).toBe('status GET /status');
  });

  it('matches plain prefixes, not segments (as Ioto does)', async () => {
    expect((await call(router, 'DELETE', '/apiary')).body).toBe('api DELETE /apiary');
    expect((await call(router, 'GET', '/statusquo')).body).toBe('status GET /statusquo');
  });

  it('compares unreserved percent-escapes decoded, so an encoded letter cannot dodge a route', async () => {
    expect((await call(router, 'POST', '/%61pi/v2/x')).body).toBe('apiv2 POST /%61pi/v2/x');
    expect((await call(router, 'DELETE', '/%41pi')).status).toBe(405);                    // "/Api" is not "/api": falls to "/"
    expect(canonicalPath('/%7euser/%2f%2F%41')).toBe('/~user/%2F%2FA');
  });

  it('answers 404 as JSON when no route matches', async () => {
    const r = await call(createRouter([route('/api', 'api')], handlers), 'GET', '/other');
    expect(r.status).toBe(404);
    expect(field(r, 'Content-Type')).toBe('application/json');
    expect(JSON.parse(String(r.body))).toEqual({ error: 404, reason: 'not_found' });
    const empty = await call(createRouter([], handlers), 'GET', '/');
    expect(empty.status).toBe(404);
  });

  it('answers 405 with Allow listing the methods (HEAD added where GET is)', async () => {
    const r = await call(router, 'DELETE', '/api/v2/x');
    expect(r.status).toBe(405);
    expect(field(r, 'Content-Type')).toBe('application/json');
    expect(JSON.parse(String(r.body))).toEqual({ error: 405, reason: 'method_not_allowed' });
    expect(field(r, 'Allow')!.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    const s = await call(router, 'PUT', '/status');
    expect(field(s, 'Allow')!.split(', ').sort()).toEqual(['GET', 'HEAD', 'OPTIONS']);     // HEAD not listed twice
    const root = await call(router, 'POST', '/x');
    expect(root.status).toBe(405);
    expect(field(root, 'Allow')).toBe('GET, HEAD');
  });

  it('lets HEAD through wherever GET is allowed, and only there', async () => {
    expect((await call(router, 'HEAD', '/api/v2/x')).body).toBe('apiv2 HEAD /api/v2/x');
    expect((await call(router, 'HEAD', '/')).body).toBe('root HEAD /');
    const post = createRouter([route('/', 'any', ['POST'])], handlers);
    const r = await call(post, 'HEAD', '/');
    expect(r.status).toBe(405);
    expect(field(r, 'Allow')).toBe('POST');
  });

  it('allows every method when methods is null', async () => {
    for (const m of ['GET', 'HEAD', 'POST', 'PATCH', 'BREW']) expect((await call(router, m, '/api/x')).status).toBe(200);
  });

  it('prefers the earlier of two equal prefixes, and "" matches everything', async () => {
    const r = createRouter([route('/a', 'api'), route('/a', 'status'), route('', 'root')], handlers);
    expect((await call(r, 'GET', '/a/b')).body).toBe('api GET /a/b');
    expect((await call(r, 'GET', '/b')).body).toBe('root GET /b');
  });

  it('passes the request to the handler untouched (async handlers too)', async () => {
    let seen: AppRequest | null = null;
    const r = createRouter([route('/', 'h')], { h: async (req) => { seen = req; return { status: 204 }; } });
    const req = request('GET', '/%61/b?c');
    expect((await r(req)).status).toBe(204);
    expect(seen).toBe(req);
  });

  it('throws at creation on an unknown handler name or a bad method', () => {
    expect(() => createRouter([route('/', 'missing')], handlers)).toThrow(/unknown handler "missing"/);
    expect(() => createRouter([route('/', 'toString')], handlers)).toThrow(/unknown handler/);   // no prototype names
    expect(() => createRouter([route('/', 'root', ['get'])], handlers)).toThrow(/bad method "get"/);
    expect(() => createRouter([route('/', 'root', ['G T'])], handlers)).toThrow(/bad method/);
  });
});

describe('json / errorReply', () => {
  it('build small JSON replies', () => {
    expect(json(200, { a: [1] })).toEqual({ status: 200, fields: [['Content-Type', 'application/json']], body: '{"a":[1]}' });
    expect(errorReply(404, 'not_found')).toEqual({ status: 404, fields: [['Content-Type', 'application/json']], body: '{"error":404,"reason":"not_found"}' });
    expect(errorReply(405, 'method_not_allowed', [['Allow', 'GET']]).fields).toEqual([['Content-Type', 'application/json'], ['Allow', 'GET']]);
  });
});
