// The application layer the host hands complete requests to, and the demo site `npm start` serves.
import type { HttpRequest } from './request.ts';

export interface AppResponse {
  status: number;
  fields?: [string, string][];
  body?: Buffer | string;
}
export type Handler = (req: HttpRequest) => AppResponse;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Moat demo device</title>
<link rel="stylesheet" href="/style.css"></head>
<body><main><h1>Moat demo device</h1>
<p>Every byte of this page's request went through the Moat WebAssembly module: strict HTTP/1.1 parsing,
limits, and the security fields on this response.</p>
<p>Device status as JSON: <a href="/api/status">/api/status</a></p></main></body></html>
`;
const CSS = 'body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:40rem;color:#123}h1{color:#0a5}\n';

/** Method + exact path routes; 404 for unknown paths, 405 (with Allow) for known paths. */
export function demoApp(startedAt = Date.now()): Handler {
  const routes: Record<string, Record<string, Handler>> = {
    '/': { GET: () => ({ status: 200, fields: [['Content-Type', 'text/html; charset=utf-8']], body: PAGE }) },
    '/style.css': { GET: () => ({ status: 200, fields: [['Content-Type', 'text/css; charset=utf-8']], body: CSS }) },
    '/api/status': {
      GET: () => json(200, { device: 'moat-demo', uptime_s: Math.floor((Date.now() - startedAt) / 1000), ok: true }),
    },
    '/api/echo': {
      POST: (req) => json(200, { bytes: req.body.length, trailers: req.trailers.length }),
    },
  };
  return (req) => {
    const path = req.target.startsWith('/') ? req.target.split('?')[0] : new URL(req.target).pathname;
    const route = routes[path];
    if (!route) return json(404, { error: 'not found' });
    const method = req.method === 'HEAD' && route.GET ? 'GET' : req.method;
    const handler = route[method];
    if (!handler) {
      const allow = Object.keys(route).concat(route.GET ? ['HEAD'] : []).join(', ');
      return { ...json(405, { error: 'method not allowed' }), fields: [['Content-Type', 'application/json'], ['Allow', allow]] };
    }
    return handler(req);
  };
}

export function json(status: number, value: unknown): AppResponse {
  return { status, fields: [['Content-Type', 'application/json']], body: JSON.stringify(value) + '\n' };
}
